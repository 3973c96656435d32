/**
 * One tools/call sent to a 2026-07-28 upstream without the SDK client: the caller's request goes out as
 * JSON with only the tool name (the upstream's own), the client info (the gateway's) and the MCP headers
 * rewritten, over the connection's pinned agent and under its policy (bulkhead, breaker, response-size
 * cap, error mapping). The answer is read from the head of the response: a JSON body, or an SSE stream
 * whose notifications reach the caller as they arrive until the response to the request ends it.
 */
import { CLIENT_INFO_META_KEY, ProtocolError } from '@modelcontextprotocol/server';
import { EventSourceParserStream } from 'eventsource-parser/stream';
import { upstreamError } from '../errors.js';
import { liftUpstreamAnswer } from '../connection/upstream-answers.js';
import type { ResolvedUpstream } from '../upstream-config.js';
import { withTraceMeta } from '../../log/tracing.js';

/** The connection's HTTP face (UpstreamConnection.passThrough). */
export interface PassThroughLink {
  send<T>(init: RequestInit, read: (res: Response) => Promise<T>): Promise<T>;
}

/** The caller's request, as the pass-through forwards it. */
export interface ForwardedCall {
  /** The caller's JSON-RPC id (ids are per HTTP request on the 2026-07-28 wire, so it travels as it is). */
  readonly id: string | number;
  /** The caller's params, the tool name already the upstream's. */
  readonly params: Record<string, unknown>;
  readonly signal: AbortSignal;
  /** A notification of the upstream for the caller (progress, log message). */
  onNotification(message: { method: string; params?: Record<string, unknown> }): void;
}

type Message = { id?: unknown; method?: unknown; result?: unknown; error?: { code: number; message: string; data?: unknown } };

/** The JSON-RPC outcome of the upstream's response message: its result (task answers lifted), or its error thrown. */
function outcome(message: Message): Record<string, unknown> {
  if (message.error) throw new ProtocolError(message.error.code, String(message.error.message), message.error.data);
  if (message.result && typeof message.result === 'object') return liftUpstreamAnswer(message.result as Record<string, unknown>);
  throw new Error('the answer is neither a result nor an error');
}

/** Sends `call` to the upstream and resolves with its result; rejects with its error or a transport failure. */
export function exchange(link: PassThroughLink, up: ResolvedUpstream, call: ForwardedCall, version: string): Promise<Record<string, unknown>> {
  const name = String(call.params['name']);
  // The trace context is the gateway's client span's (SEP-414 keys), not the caller's: the upstream's span is its child.
  const meta = withTraceMeta({ ...(call.params['_meta'] as Record<string, unknown>), [CLIENT_INFO_META_KEY]: { name: 'unified-mcp-gateway', version } });
  const body = JSON.stringify({ jsonrpc: '2.0', id: call.id, method: 'tools/call', params: { ...call.params, _meta: meta } });
  // The call's timeout starts again with every progress notification, as the pooled client's does.
  const timeout = new AbortController();
  const expire = () => timeout.abort(upstreamError(up.namespace, 'timeout', `no answer within the timeout (${up.options.timeouts.callMs} ms)`));
  let timer = setTimeout(expire, up.options.timeouts.callMs);
  const restart = () => {
    clearTimeout(timer);
    timer = setTimeout(expire, up.options.timeouts.callMs);
  };
  const signal = AbortSignal.any([call.signal, timeout.signal]);
  const init: RequestInit = {
    method: 'POST',
    body,
    signal,
    // Never followed (an upstream's redirect is an error, as on the client path), and dispatcherFetch's fast path.
    redirect: 'manual',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': name,
    },
  };
  const read = async (res: Response): Promise<Record<string, unknown>> => {
    const type = (res.headers.get('content-type') ?? '').toLowerCase();
    if (type.startsWith('text/event-stream') && res.ok && res.body) return readStream(res.body, call, restart);
    const text = await res.text();
    let message: Message | undefined;
    try {
      message = JSON.parse(text) as Message;
    } catch {
      message = undefined;
    }
    if (message && (message.error || message.result)) return outcome(message);
    throw upstreamError(up.namespace, 'transport', `HTTP ${res.status} ${res.statusText}`.trim() + (type ? ` (${type.split(';')[0]})` : ''));
  };
  return link.send(init, read).finally(() => clearTimeout(timer));
}

/** Reads an SSE answer: notifications to the caller, the response to the request ends it. */
async function readStream(body: ReadableStream<Uint8Array>, call: ForwardedCall, onProgress: () => void): Promise<Record<string, unknown>> {
  const decoded = body.pipeThrough(new TextDecoderStream() as unknown as ReadableWritablePair<string, Uint8Array>);
  const reader = decoded.pipeThrough(new EventSourceParserStream()).getReader();
  try {
    for (;;) {
      const { done, value: event } = await reader.read();
      if (done) break;
      if (!event.data) continue;
      const message = JSON.parse(event.data) as Message;
      if (typeof message.method === 'string') {
        if (message.id !== undefined) continue; // a 2026-07-28 server sends no requests on a call's stream
        if (message.method === 'notifications/progress') onProgress();
        call.onNotification(message as { method: string; params?: Record<string, unknown> });
        continue;
      }
      if (message.id === call.id) return outcome(message);
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  throw new Error('the answer stream ended without a response');
}
