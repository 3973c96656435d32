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
 * Writes `response` to `res`. Streams (SSE) are piped chunk by chunk, waiting for 'drain' when the socket
 * buffer is full; the copy stops when the client goes away (`signal` aborted).
 */
export async function writeWebResponse(res: ServerResponse, response: Response, signal?: AbortSignal): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name === 'set-cookie') headers[name] = response.headers.getSetCookie();
    else headers[name] = value;
  });
  if (res.headersSent) return;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.writeHead(response.status);
  // An SSE stream may not produce its first event for a while; the client needs the headers now.
  if (response.headers.get('content-type')?.startsWith('text/event-stream')) res.flushHeaders();
  if (response.body === null) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  const stop = () => void reader.cancel().catch(() => undefined);
  signal?.addEventListener('abort', stop, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || res.destroyed) break;
      if (!res.write(value)) {
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
      // Flush SSE events immediately rather than waiting for Nagle/compression buffers.
      (res as { flush?: () => void }).flush?.();
    }
  } catch {
    // The producer failed mid-stream or the client left; nothing more can be sent on this response.
  } finally {
    signal?.removeEventListener('abort', stop);
    if (!res.destroyed) res.end();
  }
}
