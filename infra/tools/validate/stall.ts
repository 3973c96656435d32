/**
 * Detects a mock run that can never finish: when the event loop runs dry while the program still awaits
 * something (e.g. an output the mocks do not provide), Node would exit silently mid-run and the summary
 * would never be written. `beforeExit` fires exactly then; the returned promise rejects instead.
 */
export function whenStalled(stack: string): { promise: Promise<never>; dispose(): void } {
  let onIdle = (): void => undefined;
  const promise = new Promise<never>((_, reject) => {
    onIdle = () =>
      reject(
        new Error(
          `the program of stack "${stack}" never finished under mocks (it awaits a value that never resolves, e.g. a StackReference output the mocks do not provide)`,
        ),
      );
    process.once('beforeExit', onIdle);
  });
  return {
    promise,
    dispose: () => {
      process.off('beforeExit', onIdle);
    },
  };
}
