/**
 * Raw 2026-07-28 requests for precise assertions (status, JSON-RPC code, headers): builds the
 * per-request `_meta` envelope and the MCP-Protocol-Version / Mcp-Method / Mcp-Name headers, and reads
 * JSON or SSE answers.
 */
export const MODERN = '2026-07-28';

/** Default client capabilities sent in the envelope. */
export const CAPS = { sampling: {}, elicitation: {}, roots: {} };

/** A JSON-RPC message as the tests read it. */
export interface Message {
  jsonrpc?: string;
  id?: unknown;
  method?: string;
  params?: Record<string, any>;
  result?: Record<string, any>;
  error?: { code: number; message: string; data?: any };
}

/** The envelope keys of a modern request. */
export function envelope(capabilities: Record<string, unknown> = CAPS): Record<string, unknown> {
  return {
    'io.modelcontextprotocol/protocolVersion': MODERN,
    'io.modelcontextprotocol/clientInfo': { name: 'umcp-test', version: '1.0.0' },
    'io.modelcontextprotocol/clientCapabilities': capabilities,
  };
}

/** Headers of a modern request for `method` (and the name/uri it targets). */
export function modernHeaders(key: string | undefined, method: string, name?: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': MODERN,
    'mcp-method': method,
    ...(name !== undefined ? { 'mcp-name': name } : {}),
    ...(key ? { authorization: `Bearer ${key}` } : {}),
  };
}

let nextId = 1;

/** Builds a modern request body (params get the envelope merged into `_meta`). */
export function modernBody(method: string, params: Record<string, any> = {}, id: number = nextId++): Message {
  return { jsonrpc: '2.0', id, method, params: { ...params, _meta: { ...envelope(), ...(params._meta ?? {}) } } };
}

/** Parses an SSE body into its JSON-RPC messages. */
export function parseSse(text: string): Message[] {
  const out: Message[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const data = block
      .split(/\r?\n/)
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).trimStart())
      .join('\n');
    if (data) out.push(JSON.parse(data) as Message);
  }
  return out;
}

/** Reads a response as JSON-RPC messages (JSON body or SSE stream). */
export async function messagesOf(res: Response): Promise<Message[]> {
  const text = await res.text();
  if (!text) return [];
  if (res.headers.get('content-type')?.includes('text/event-stream')) return parseSse(text);
  return [JSON.parse(text) as Message];
}

/** Sends one modern request; returns the HTTP status, the final message and every message. */
export async function call(
  url: string,
  key: string | undefined,
  method: string,
  params: Record<string, any> = {},
  opts: { headers?: Record<string, string>; name?: string } = {},
): Promise<{ status: number; message: Message; all: Message[]; res: Response }> {
  const name = opts.name ?? (typeof params.name === 'string' ? params.name : typeof params.uri === 'string' ? params.uri : undefined);
  const body = modernBody(method, params);
  const res = await fetch(url, { method: 'POST', headers: { ...modernHeaders(key, method, name), ...opts.headers }, body: JSON.stringify(body) });
  const all = await messagesOf(res.clone());
  const message = all.find((m) => m.id === body.id) ?? all[all.length - 1] ?? {};
  return { status: res.status, message, all, res };
}

/** Opens a subscriptions/listen stream; `next()` resolves with the next message. */
export async function listen(url: string, key: string, notifications: Record<string, unknown>) {
  const controller = new AbortController();
  const body = modernBody('subscriptions/listen', { notifications });
  const res = await fetch(url, { method: 'POST', headers: modernHeaders(key, 'subscriptions/listen'), body: JSON.stringify(body), signal: controller.signal });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const queue: Message[] = [];
  let pending: Promise<ReadableStreamReadResult<string>> | undefined;
  const next = async (timeoutMs = 3000): Promise<Message | undefined> => {
    const deadline = Date.now() + timeoutMs;
    while (queue.length === 0) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return undefined;
      pending ??= reader.read();
      const chunk = await Promise.race([pending, new Promise<null>((r) => setTimeout(() => r(null), remaining))]);
      if (chunk === null) return undefined;
      pending = undefined;
      if (chunk.done) return undefined;
      buffer += chunk.value;
      const blocks = buffer.split(/\r?\n\r?\n/);
      buffer = blocks.pop() ?? '';
      for (const b of blocks) queue.push(...parseSse(b));
    }
    return queue.shift();
  };
  return { res, next, close: () => controller.abort() };
}
