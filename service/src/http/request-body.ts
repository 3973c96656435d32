/**
 * Reading a request body without ever losing the answer to a refused one.
 *
 * A refusal (413, 401, 429, ...) is usually written while the client is still sending its body. Node
 * destroys a socket whose request stream is destroyed mid-body (what leaving a `for await` over the
 * request does) or whose response said `Connection: close`; the kernel then resets the connection
 * because unread bytes are still arriving, and the client sees EPIPE/ECONNRESET instead of the answer
 * it was sent. So:
 *
 * - readBodyText stops collecting at the limit but never destroys the request: it pauses it;
 * - drainAfterResponse, installed on every request, reads and discards what is left of a body once the
 *   response is complete (at most `maxDrainBytes`; beyond that the connection is closed, the one case
 *   where a client may still see a reset), so the answer always reaches a well-behaved client and the
 *   connection stays usable. The server's request timeout still bounds how long a drain may take.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

const utf8 = new TextDecoder();

/**
 * The body as UTF-8 text (a leading BOM dropped, malformed sequences replaced, as toWebRequest decodes
 * it), or undefined when it is over `limit` bytes, by its Content-Length (nothing read) or as it arrives.
 * Over the limit the request is left paused, not destroyed: drainAfterResponse discards the rest.
 */
export function readBodyText(req: IncomingMessage, limit: number): Promise<string | undefined> {
  if (Number(req.headers['content-length']) > limit) return Promise.resolve(undefined);
  if (req.complete && req.readableEnded) return Promise.resolve('');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const done = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.byteLength;
      if (received > limit) {
        done();
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      if (chunks.length === 0) return resolve('');
      resolve(utf8.decode(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    // The client went away mid-body: the caller's abort signal fires too; this read just ends.
    const onClose = () => {
      if (req.complete) return;
      done();
      reject(Object.assign(new Error('request body aborted by the client'), { code: 'ECONNRESET' }));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/**
 * Once `res` is finished, reads and discards what is left of `req`'s body (up to `maxDrainBytes`), so the
 * answer reaches the client and the connection can be reused; beyond the bound the socket is closed.
 */
export function drainAfterResponse(req: IncomingMessage, res: ServerResponse, maxDrainBytes: number): void {
  res.once('finish', () => {
    if (req.complete || req.destroyed) return;
    let drained = 0;
    req.on('data', (chunk: Buffer) => {
      drained += chunk.byteLength;
      if (drained > maxDrainBytes) req.socket.destroy();
    });
    req.on('error', () => undefined);
    req.resume();
  });
}
