/**
 * Small helpers to answer node:http requests: JSON bodies, JSON-RPC errors for /mcp, and writing a web
 * `Response` (possibly an SSE stream) back to a ServerResponse with backpressure.
 */
import type { ServerResponse } from 'node:http';

/** A JSON response (web standard), with no-store caching. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
  });
}

/** A JSON-RPC error response with `id: null` (the HTTP layer answers before the body is parsed). */
export function jsonRpcError(status: number, code: number, message: string, headers: Record<string, string> = {}): Response {
  return json(status, { jsonrpc: '2.0', error: { code, message }, id: null }, headers);
}

/** The admin API's error shape: `{ error: { code, message, issues? } }`. */
export function apiError(status: number, code: string, message: string, issues?: readonly string[]): Response {
  return json(status, { error: { code, message, ...(issues && { issues }) } });
}

/**
 * Writes `response` to `res`. A complete body (anything but SSE: JSON, text) goes out in one write with
 * its Content-Length. Streams (SSE) are piped chunk by chunk, waiting for 'drain' when the socket buffer
 * is full; the copy stops when the client goes away (`signal` aborted). The headers are held (corked) until
 * the next turn of the event loop: the headers, the result event and the end of a quick call then leave in
 * one socket write instead of three (on loopback each write also runs the receiver's TCP path).
 */
export async function writeWebResponse(res: ServerResponse, response: Response, signal?: AbortSignal): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name === 'set-cookie') headers[name] = response.headers.getSetCookie();
    else headers[name] = value;
  });
  if (res.headersSent) return;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  const sse = response.headers.get('content-type')?.startsWith('text/event-stream') ?? false;
  if (response.body === null) {
    res.writeHead(response.status);
    res.end();
    return;
  }
  if (!sse) {
    let body: Buffer;
    try {
      body = Buffer.from(await response.arrayBuffer());
    } catch {
      // The producer failed before the body was complete: nothing sensible can be sent.
      if (!res.destroyed) res.destroy();
      return;
    }
    res.setHeader('content-length', body.byteLength);
    res.writeHead(response.status);
    res.end(body);
    return;
  }
  // Cork until the next turn of the event loop: a quick call's headers, result event and end then leave
  // in one write; a slow stream's headers go out then (the client needs them before the first event).
  res.cork();
  let corked = true;
  const uncork = () => {
    if (!corked) return;
    corked = false;
    res.uncork();
  };
  setImmediate(uncork);
  res.writeHead(response.status);
  res.flushHeaders();
  const reader = response.body.getReader();
  const stop = () => void reader.cancel().catch(() => undefined);
  signal?.addEventListener('abort', stop, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || res.destroyed) break;
      if (!res.write(value)) {
        // Buffered while corked: let it go; wait only if the socket itself is full ('drain' comes only then).
        uncork();
        if (!res.socket?.writableNeedDrain) continue;
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        });
      }
    }
  } catch {
    // The producer failed mid-stream or the client left; nothing more can be sent on this response.
  } finally {
    signal?.removeEventListener('abort', stop);
    if (!res.destroyed) {
      // Node writes end()'s terminating chunk before a chunk still held by the cork: uncork first, with the
      // socket corked so the last event and the end still leave in one write (end() uncorks it fully).
      res.socket?.cork();
      uncork();
      res.end();
    }
  }
}
