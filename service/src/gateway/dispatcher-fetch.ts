/**
 * The pooled upstream clients' HTTP requests over undici's dispatcher API (`dispatcher.request`) instead
 * of its WHATWG `fetch`: the MCP transport's POST/GET/DELETE exchanges (redirect: 'manual', no body or a
 * string body) are answered with a `Response`, exactly as its fetch would answer them, at a
 * fraction of fetch's per-request cost (no Request object, no web-IDL header conversion, the body written
 * in one socket write instead of an async-iterator copy). Profiled per federated tools/call, undici's
 * fetch machinery was the largest single item of the gateway's CPU.
 *
 * Parity with fetch: the same default request headers (user-agent, accept, accept-language,
 * sec-fetch-mode, accept-encoding), content codings decoded (gzip, deflate, br), null-body statuses without
 * a body, redirects returned as they are (the SDK follows them itself), connection errors as
 * `TypeError('fetch failed', { cause })`, an aborted signal as its reason. Anything else (other bodies,
 * other redirect modes: the OAuth flows) goes to undici's fetch, its body under the same cap.
 *
 * The response-size cap (UPSTREAM_MAX_RESPONSE_BYTES, upstream-limits.ts): every upstream byte the
 * gateway reads comes through here, so an upstream cannot make the gateway hold more than the cap per
 * answer however much it sends: a JSON answer announced or found larger fails before or as soon as it
 * passes the cap (the rest is never read; the connection is dropped); a POST's SSE stream fails once its
 * total passes the cap; a GET stream (long-lived) once one event does. Decoded sizes count (a compressed
 * bomb stops at the cap too). The failure is `TypeError('fetch failed', { cause: UpstreamResponseTooLarge })`,
 * which the error mapper turns into a clear JSON-RPC error for the caller.
 */
import { Readable, Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { fetch as undiciFetch, type Dispatcher, type Response as UndiciResponse } from 'undici';
import { UpstreamResponseTooLarge, upstreamLimits } from './upstream-limits.js';
import { injectTraceHeaders } from '../log/tracing.js';

/** Statuses whose response has no body (fetch spec). */
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

const decoders: Record<string, () => Transform> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/**
 * The request headers: fetch's defaults, then the caller's (a Headers, as the SDK transports pass them,
 * is read in place rather than copied).
 */
function requestHeaders(url: URL, given: HeadersInit | undefined): Record<string, string> {
  const headers: Record<string, string> = {
    accept: '*/*',
    'accept-language': '*',
    'sec-fetch-mode': 'cors',
    'user-agent': 'undici',
    'accept-encoding': url.protocol === 'https:' ? 'br, gzip, deflate' : 'gzip, deflate',
  };
  if (given !== undefined)
    (given instanceof Headers ? given : new Headers(given)).forEach((value, name) => {
      headers[name] = value;
    });
  // W3C trace context of the active span (the upstream call's client span), when tracing is on.
  injectTraceHeaders(headers);
  return headers;
}

const tooLarge = (limit: number, what: string) => new TypeError('fetch failed', { cause: new UpstreamResponseTooLarge(limit, what) });

/** Reads a complete body up to `limit` bytes; past it the body is destroyed (connection dropped) and this throws. */
async function readCapped(body: Readable, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > limit) {
      body.destroy();
      throw tooLarge(limit, 'upstream answer');
    }
    chunks.push(chunk);
  }
  const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
  return new Uint8Array(all.buffer, all.byteOffset, all.byteLength) as Uint8Array<ArrayBuffer>;
}

/**
 * Passes a stream through while it stays under `limit` bytes: in total (`perEvent` false), or between
 * two SSE event boundaries (a blank line) when `perEvent`.
 */
export function capStream(limit: number, perEvent: boolean): Transform {
  let size = 0;
  let tail = '';
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.byteLength;
      if (perEvent) {
        const text = tail + chunk.toString('latin1');
        const boundary = Math.max(text.lastIndexOf('\n\n'), text.lastIndexOf('\r\n\r\n'), text.lastIndexOf('\r\r'));
        if (boundary >= 0) size = text.length - boundary - 2;
        tail = text.slice(-3);
      }
      if (size > limit) return done(new UpstreamResponseTooLarge(limit, perEvent ? 'upstream stream event' : 'upstream stream'));
      done(null, chunk);
    },
  });
}

/** An undici fetch answer with its body under the cap (the OAuth flows' exchanges). */
function cappedUndici(res: UndiciResponse, limit: number, method: string): Response | UndiciResponse {
  const length = Number(res.headers.get('content-length'));
  if (res.body && length > limit) {
    void res.body.cancel().catch(() => undefined);
    throw tooLarge(limit, 'upstream answer');
  }
  if (!res.body) return res;
  let size = 0;
  const perEvent = method === 'GET' && (res.headers.get('content-type') ?? '').startsWith('text/event-stream');
  const counted = (res.body as unknown as ReadableStream<Uint8Array>).pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        size += chunk.byteLength;
        if (!perEvent && size > limit) return controller.error(new UpstreamResponseTooLarge(limit, 'upstream answer'));
        controller.enqueue(chunk);
      },
    }),
  );
  // The runtime's Response (what the SDK's `instanceof Response` checks expect), same status and headers.
  const capped = new Response(counted, { status: res.status, statusText: res.statusText, headers: [...res.headers] });
  // What the constructor cannot set: where a followed redirect ended.
  Object.defineProperties(capped, { redirected: { value: res.redirected }, url: { value: res.url } });
  return capped;
}

/**
 * fetch(url, init) through `dispatcher`; see the file comment for what it handles itself. Those answers
 * are the runtime's own `Response` (what the SDK's `instanceof Response` checks expect); what goes to
 * undici's fetch comes back as undici's `Response`.
 */
export async function dispatcherFetch(url: URL, init: RequestInit | undefined, dispatcher: Dispatcher): Promise<Response | UndiciResponse> {
  const body = init?.body ?? undefined;
  const limit = upstreamLimits().maxResponseBytes;
  if ((body !== undefined && typeof body !== 'string') || init?.redirect !== 'manual') {
    const res = await undiciFetch(url, { ...(init as object), dispatcher } as Parameters<typeof undiciFetch>[1]);
    return cappedUndici(res, limit, (init?.method ?? 'GET').toUpperCase());
  }
  const signal = init.signal ?? undefined;
  if (signal?.aborted) throw abortReason(signal);
  const method = (init.method ?? 'GET').toUpperCase();
  let res: Dispatcher.ResponseData;
  try {
    res = await dispatcher.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: method as Dispatcher.HttpMethod,
      headers: requestHeaders(url, init.headers),
      ...(body !== undefined && { body }),
      ...(signal && { signal }),
    });
  } catch (err) {
    if (signal?.aborted) throw abortReason(signal);
    throw new TypeError('fetch failed', { cause: err });
  }
  const responseHeaders = new Headers();
  for (const name in res.headers) {
    const value = res.headers[name];
    if (Array.isArray(value)) for (const v of value) responseHeaders.append(name, v);
    else if (value !== undefined) responseHeaders.append(name, value);
  }
  const init2 = { status: res.statusCode, statusText: res.statusText ?? '', headers: responseHeaders };
  if (NULL_BODY_STATUS.has(res.statusCode) || method === 'HEAD') {
    res.body.resume();
    return new Response(null, init2);
  }
  const encoding = responseHeaders.get('content-encoding');
  const codings = encoding
    ? encoding
        .toLowerCase()
        .split(',')
        .map((c) => c.trim())
        .filter((c) => c && c !== 'identity')
    : [];
  // Announced over the cap: not read at all.
  if (Number(responseHeaders.get('content-length')) > limit && !codings.length) {
    res.body.destroy();
    throw tooLarge(limit, `upstream answer (Content-Length ${responseHeaders.get('content-length')})`);
  }
  // A complete JSON answer is read here (the SDK reads it whole anyway); streams (SSE) stay streams.
  if (!codings.length && responseHeaders.get('content-type')?.startsWith('application/json')) {
    try {
      return new Response(await readCapped(res.body, limit), init2);
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      if (err instanceof TypeError && err.cause instanceof UpstreamResponseTooLarge) throw err;
      throw new TypeError('fetch failed', { cause: err });
    }
  }
  let stream: Readable = res.body;
  if (codings.length) {
    if (!codings.every((c) => decoders[c])) {
      res.body.destroy();
      throw new TypeError('fetch failed', { cause: new Error(`unsupported content-encoding: ${codings.join(', ')}`) });
    }
    // Applied in reverse order of how they were applied by the server; a decoding error fails the body.
    for (const c of codings.reverse()) stream = stream.pipe(decoders[c]!()).on('error', () => undefined);
  }
  // Decoded bytes count; past the cap the stream fails (the SDK sees a broken body) and the socket is dropped.
  const source = stream;
  stream = source.pipe(capStream(limit, method === 'GET' && (responseHeaders.get('content-type') ?? '').startsWith('text/event-stream')));
  // undici's body reports its own destruction as an AbortError: expected here, not an uncaught error.
  res.body.on('error', () => undefined);
  stream.on('error', () => {
    res.body.destroy();
    source.destroy();
  });
  return new Response(Readable.toWeb(stream) as ReadableStream<Uint8Array>, init2);
}
