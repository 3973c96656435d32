/**
 * Byte-level HTTP for requests that no HTTP client would send (header floods, broken request lines,
 * bodies that stop half way, bodies dribbled slowly). Reads until the server closes or `timeoutMs` passes.
 */
import { connect } from 'node:net';

/** What came back on the socket. */
export interface SocketReply {
  /** Status code of the first response line, 0 when the server closed without answering. */
  status: number;
  raw: string;
}

/** Sends `chunks` (each after `gapMs`), optionally half-closing, and collects the reply. */
export function sendRaw(
  port: number,
  chunks: (string | Buffer)[],
  opts: { gapMs?: number; timeoutMs?: number; endAfter?: boolean } = {},
): Promise<SocketReply> {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(received).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
      resolve({ status: m ? Number(m[1]) : 0, raw });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (b: Buffer) => {
      received.push(b);
      // One complete response is enough: stop at the end of its headers plus a short body.
      if (Buffer.concat(received).includes('\r\n\r\n')) setTimeout(finish, 50);
    });
    socket.on('error', finish);
    socket.on('close', finish);
    socket.on('connect', async () => {
      for (const [i, c] of chunks.entries()) {
        if (done) return;
        if (i > 0 && opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
        if (!socket.destroyed) socket.write(c);
      }
      if (opts.endAfter) socket.end();
    });
  });
}
