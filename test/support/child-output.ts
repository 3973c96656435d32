import type { Readable } from 'node:stream';

/**
 * Collects everything a child process writes to a stream and lets a test wait for a line that may arrive in
 * a later chunk than the one it is waiting on now. `waitFor` resolves as soon as the text read so far
 * matches, rejects when the stream ends or the timeout passes first, and the error carries the output so far.
 */
export class OutputReader {
  private text = '';
  private ended = false;
  private waiters = new Set<() => void>();

  constructor(
    stream: Readable,
    private readonly describeOther: () => string = () => '',
  ) {
    stream.on('data', (c: Buffer | string) => {
      this.text += c.toString();
      this.wake();
    });
    const end = () => {
      this.ended = true;
      this.wake();
    };
    stream.once('end', end);
    stream.once('close', end);
  }

  /** Everything read so far. */
  get output(): string {
    return this.text;
  }

  /** Waits until the output read so far matches `pattern` (use the m flag and \n to wait for a whole line). */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const fail = (why: string) => {
        this.waiters.delete(check);
        if (timer) clearTimeout(timer);
        const other = this.describeOther();
        reject(new Error(`${why} before the output matched ${pattern}; output so far:\n${this.text}${other ? `\n${other}` : ''}`));
      };
      const check = () => {
        const m = this.text.match(pattern);
        if (m) {
          this.waiters.delete(check);
          if (timer) clearTimeout(timer);
          resolve(m);
        } else if (this.ended) {
          fail('the stream ended');
        }
      };
      this.waiters.add(check);
      timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
      check();
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
