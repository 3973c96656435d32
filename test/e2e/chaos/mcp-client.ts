/**
 * The chaos workload's client: raw fetch calls of both MCP generations through the load balancer, with a
 * retry policy that retries only errors a real client may retry (connection failures, HTTP 5xx/429,
 * JSON-RPC server errors such as a lapsed call lease) and reports everything else as non-retryable.
 * An SSE stream reader that can be cut after N events and resumed with Last-Event-ID on any replica.
 */
const MODERN = '2026-07-28';
const LEGACY = '2025-11-25';
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

/** A JSON-RPC message as read off the wire. */
export type Msg = { id?: unknown; method?: string; params?: any; result?: any; error?: { code: number; message: string } };

/** Why a call attempt failed. */
export class CallError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly kind: string,
  ) {
    super(message);
    this.name = 'CallError';
  }
}

/** HTTP status -> retryable? (5xx, 429 and 408 are; other 4xx are not). */
export function statusError(status: number, body: string): CallError {
  const retryable = status >= 500 || status === 429 || status === 408;
  return new CallError(`HTTP ${status}: ${body.slice(0, 200)}`, retryable, `http-${status}`);
}

/** JSON-RPC error -> retryable? Server-defined errors (-32000..-32099) and internal errors are. */
export function rpcError(e: { code: number; message: string }): CallError {
  const retryable = e.code === -32603 || (e.code <= -32000 && e.code >= -32099);
  return new CallError(`JSON-RPC ${e.code}: ${e.message}`, retryable, `rpc${e.code}`);
}

function networkError(err: unknown): CallError {
  const cause = (err as { cause?: { code?: string } }).cause?.code;
  return new CallError(`network: ${cause ?? (err instanceof Error ? err.message : String(err))}`, true, `net-${cause ?? 'error'}`);
}

/** Parses complete SSE blocks out of `buffer`; returns the events and the unparsed rest. */
export function takeSseEvents(buffer: string): { events: { id?: string; data: string }[]; rest: string } {
  const blocks = buffer.split(/\r?\n\r?\n/);
  const rest = blocks.pop() ?? '';
  const events = blocks.map((b) => {
    let id: string | undefined;
    const data: string[] = [];
    for (const line of b.split(/\r?\n/)) {
      if (line.startsWith('id:')) id = line.slice(3).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
    }
    return { ...(id !== undefined && { id }), data: data.join('\n') };
  });
  return { events, rest };
}

/** Reads an SSE or JSON response; `onEvent` sees each SSE event and may return 'stop' to cut the stream. */
export async function readMessages(
  res: Response,
  onEvent?: (e: { id?: string; msg?: Msg }) => 'stop' | void,
  abort?: AbortController,
): Promise<{ msgs: Msg[]; cut: boolean }> {
  if (!res.headers.get('content-type')?.includes('text/event-stream')) {
    const text = await res.text();
    return { msgs: text ? [JSON.parse(text) as Msg] : [], cut: false };
  }
  const msgs: Msg[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return { msgs, cut: false };
      const parsed = takeSseEvents(buffer + value);
      buffer = parsed.rest;
      for (const ev of parsed.events) {
        const msg = ev.data ? (JSON.parse(ev.data) as Msg) : undefined;
        if (msg) msgs.push(msg);
        if (onEvent?.({ ...(ev.id !== undefined && { id: ev.id }), ...(msg && { msg }) }) === 'stop') {
          abort?.abort();
          return { msgs, cut: true };
        }
      }
    }
  } catch (err) {
    if (abort?.signal.aborted) return { msgs, cut: true };
    throw networkError(err);
  }
}

let seq = 1;
/** A fresh JSON-RPC id. */
export const nextId = () => seq++;

function modernHeaders(key: string, method: string, name?: string): Record<string, string> {
  return {
    authorization: `Bearer ${key}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': MODERN,
    'mcp-method': method,
    ...(name !== undefined && { 'mcp-name': name }),
  };
}

/** One 2026-07-28 request; returns its result or throws CallError. */
export async function modernRequest(
  url: string,
  key: string,
  method: string,
  params: Record<string, unknown>,
  opts: { tasks?: boolean; name?: string; timeoutMs?: number } = {},
): Promise<any> {
  const id = nextId();
  const meta = {
    'io.modelcontextprotocol/protocolVersion': MODERN,
    'io.modelcontextprotocol/clientInfo': { name: 'umcp-chaos', version: '1.0.0' },
    'io.modelcontextprotocol/clientCapabilities': opts.tasks ? { extensions: { [TASKS_EXTENSION]: {} } } : {},
  };
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: modernHeaders(key, method, opts.name),
      body: JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta: meta } }),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
    });
  } catch (err) {
    throw networkError(err);
  }
  if (res.status !== 200) throw statusError(res.status, await res.text().catch(() => ''));
  const { msgs } = await readMessages(res);
  const final = msgs.find((m) => m.id === id);
  if (!final) throw new CallError('stream ended without the response', true, 'no-response');
  if (final.error) throw rpcError(final.error);
  return final.result;
}

/** A 2025-era session opened through the load balancer. */
export async function openLegacySession(url: string, key: string): Promise<string> {
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name: 'umcp-chaos', version: '1' } },
      }),
    });
  } catch (err) {
    throw networkError(err);
  }
  const sid = res.headers.get('mcp-session-id');
  const text = await res.text();
  if (res.status !== 200 || !sid) throw statusError(res.status, text);
  const ack = await fetch(url, {
    method: 'POST',
    headers: { ...headers, 'mcp-session-id': sid, 'mcp-protocol-version': LEGACY },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  }).catch((err: unknown) => {
    throw networkError(err);
  });
  await ack.text();
  return sid;
}

/** Outcome of one streamed call: progress values seen (in arrival order) and whether a resume was needed. */
export interface StreamOutcome {
  progress: number[];
  resumed: number;
}

/**
 * diagnostics.stream on a 2025-era session: reads progress events; when `cutAfter` events arrived (a
 * deliberate drop) or the connection breaks, resumes with GET + Last-Event-ID (any replica) until the result.
 */
export async function legacyStreamCall(url: string, key: string, sid: string, count: number, intervalMs: number, cutAfter?: number): Promise<StreamOutcome> {
  const id = nextId();
  const token = `p${id}`;
  const headers = {
    authorization: `Bearer ${key}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-session-id': sid,
    'mcp-protocol-version': LEGACY,
  };
  const progress: number[] = [];
  let lastEventId: string | undefined;
  let result: Msg | undefined;
  const onEvent = (cut: number | undefined) => (e: { id?: string; msg?: Msg }) => {
    if (e.id) lastEventId = e.id;
    if (e.msg?.method === 'notifications/progress' && e.msg.params?.progressToken === token) progress.push(Number(e.msg.params.progress));
    if (e.msg && e.msg.id === id) result = e.msg;
    if (result) return 'stop';
    if (cut !== undefined && progress.length >= cut) return 'stop';
  };
  const abort = new AbortController();
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers,
      signal: abort.signal,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name: 'diagnostics.stream', arguments: { count, intervalMs }, _meta: { progressToken: token } },
      }),
    });
  } catch (err) {
    throw networkError(err);
  }
  if (res.status !== 200) throw statusError(res.status, await res.text().catch(() => ''));
  await readMessages(res, onEvent(cutAfter), abort).catch((err: unknown) => {
    if (!(err instanceof CallError && err.retryable)) throw err;
  });
  let resumed = 0;
  while (!result) {
    if (!lastEventId) throw new CallError('stream broke before its first event id', true, 'no-event-id');
    if (++resumed > 8) throw new CallError('gave up after 8 resumes', true, 'resume-limit');
    const again = new AbortController();
    let get: Response;
    try {
      get = await fetch(url, { method: 'GET', headers: { ...headers, accept: 'text/event-stream', 'last-event-id': lastEventId }, signal: again.signal });
    } catch (err) {
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    if (get.status >= 500) {
      await get.text().catch(() => '');
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    if (get.status !== 200) throw statusError(get.status, await get.text().catch(() => ''));
    await readMessages(get, onEvent(undefined), again).catch((err: unknown) => {
      if (!(err instanceof CallError && err.retryable)) throw err;
    });
  }
  const final = result as Msg;
  if (final.error) throw rpcError(final.error);
  if (final.result?.isError) throw new CallError(`tool error: ${JSON.stringify(final.result.content).slice(0, 200)}`, false, 'tool-error');
  return { progress, resumed };
}
