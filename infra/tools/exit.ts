/** Exits once stdout and stderr have drained: `process.exit` right after a large write to a pipe truncates it. */
export function exitWhenFlushed(code: number): void {
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}
