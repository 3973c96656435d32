/**
 * Raw-fetch helpers for precise legacy-leg tests: initialize, POST/GET/DELETE with the right headers, and
 * an incremental SSE reader that can stop after N events (to simulate a dropped connection).
 */
import assert from 'node:assert/strict';
import { bearer } from './replica.js';

/** One parsed SSE event. */
export interface SseEvent {
  id?: string;
  retry?: number;
  data: string;
  /** Parsed JSON-RPC message; undefined for priming events (empty data). */
  message?: Record<string, unknown> & {
    id?: unknown;
    method?: string;
    params?: Record<string, unknown>;
    result?: Record<string, unknown>;
    error?: { code: number; message: string };
  };
}

/** Headers of a legacy request. */
export function headers(auth: string, sid?: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    Authorization: auth,
    Accept: 'application/json, text/event-stream',
    'Content-Type': 'application/json',
    ...(sid ? { 'Mcp-Session-Id': sid } : {}),
    ...extra,
  };
}

/** initialize + notifications/initialized; returns the session id. */
export async function initialize(
  url: string,
  tenant = 'acme',
  opts: { version?: string; capabilities?: Record<string, unknown>; subject?: string } = {},
): Promise<string> {
  const auth = bearer(tenant, opts.subject);
  const res = await fetch(url, {
    method: 'POST',
    headers: headers(auth),
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: opts.version ?? '2025-11-25', capabilities: opts.capabilities ?? {}, clientInfo: { name: 't', version: '1' } },
    }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const sid = res.headers.get('mcp-session-id');
  assert.ok(sid, 'initialize answers with an Mcp-Session-Id');
  const body = (await res.json()) as { result: { protocolVersion: string } };
  assert.equal(body.result.protocolVersion, opts.version ?? '2025-11-25');
  const ack = await fetch(url, { method: 'POST', headers: headers(auth, sid), body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  assert.equal(ack.status, 202);
  return sid;
}

/** POSTs one JSON-RPC message (or batch) on a session. */
export function post(url: string, auth: string, sid: string | undefined, body: unknown, extra: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: headers(auth, sid, extra), body: JSON.stringify(body) });
}

/** A tools/call request body. */
export function toolCall(id: number, name: string, args: Record<string, unknown>, progressToken?: string): unknown {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args, ...(progressToken ? { _meta: { progressToken } } : {}) } };
}

/** Incremental SSE reader over a fetch Response. */
export class SseReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private buffer = '';
  private readonly decoder = new TextDecoder();
  ended = false;

  constructor(res: Response) {
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    assert.ok(res.body);
    this.reader = res.body.getReader();
  }

  /** The next event (comments skipped), or undefined at the end of the stream. */
  async next(timeoutMs = 10_000): Promise<SseEvent | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const cut = this.buffer.indexOf('\n\n');
      if (cut >= 0) {
        const block = this.buffer.slice(0, cut);
        this.buffer = this.buffer.slice(cut + 2);
        const ev: SseEvent = { data: '' };
        let hasField = false;
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const i = line.indexOf(':');
          const field = i < 0 ? line : line.slice(0, i);
          const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
          hasField = true;
          if (field === 'id') ev.id = value;
          else if (field === 'data') ev.data += value;
          else if (field === 'retry') ev.retry = Number(value);
        }
        if (!hasField) continue;
        if (ev.data !== '') ev.message = JSON.parse(ev.data) as SseEvent['message'];
        return ev;
      }
      if (this.ended) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for an SSE event');
      let timer: NodeJS.Timeout | undefined;
      const chunk = await Promise.race([
        this.reader.read(),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timed out waiting for an SSE event')), left))),
      ]).finally(() => clearTimeout(timer));
      if (chunk.done) this.ended = true;
      else this.buffer += this.decoder.decode(chunk.value, { stream: true });
    }
  }

  /** Events until the stream ends. */
  async rest(timeoutMs = 10_000): Promise<SseEvent[]> {
    const out: SseEvent[] = [];
    for (let e = await this.next(timeoutMs); e; e = await this.next(timeoutMs)) out.push(e);
    return out;
  }

  /** Drops the connection (like a client whose network failed). */
  async drop(): Promise<void> {
    await this.reader.cancel().catch(() => {});
  }
}
