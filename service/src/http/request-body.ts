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
import type { Socket } from 'node:net';

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
 *
 * An answer that closes the connection (the client sent `Connection: close`, as Python's urllib always
 * does, or spoke HTTP/1.0) ends with Node's `socket.destroySoon()`: FIN, then destroy as soon as the
 * answer is written, while the body may still be arriving, so the kernel resets the connection and the
 * client never reads the answer. For such a request this closes in stages instead (RFC 9112 §9.6):
 * half-close after the answer, read and discard the rest of the body (same bound), then close.
 */
export function drainAfterResponse(req: IncomingMessage, res: ServerResponse, maxDrainBytes: number): void {
  const socket = req.socket as Socket & { destroySoon?: () => void };
  const destroySoon = socket.destroySoon;
  if (typeof destroySoon === 'function') {
    // Node's own 'finish' handler (registered before this request was emitted) calls destroySoon; ours below restores it.
    socket.destroySoon = function lingeringClose(this: Socket) {
      if (req.complete || req.destroyed) return destroySoon.call(this);
      this.end();
      discardRest(req, maxDrainBytes, () => this.destroy());
    };
  }
  res.once('finish', () => {
    if (typeof destroySoon === 'function') socket.destroySoon = destroySoon;
    if (req.complete || req.destroyed) return;
    discardRest(req, maxDrainBytes);
  });
}

/** Reads and discards the rest of `req` (at most `maxBytes`, then the socket is destroyed); `done` once it ended. */
function discardRest(req: IncomingMessage, maxBytes: number, done?: () => void): void {
  const draining = req as IncomingMessage & { [DRAINING]?: true };
  if (draining[DRAINING]) return;
  draining[DRAINING] = true;
  let drained = 0;
  req.on('data', (chunk: Buffer) => {
    drained += chunk.byteLength;
    if (drained > maxBytes) req.socket.destroy();
  });
  req.on('error', () => undefined);
  if (done) {
    req.once('end', done);
    req.socket.once('end', done);
  }
  req.resume();
}

const DRAINING = Symbol('draining');
