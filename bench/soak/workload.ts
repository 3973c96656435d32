/**
 * The soak's traffic, through nginx: each kind is one complete exchange that either succeeds (the
 * expected result arrived) or is an error (anything else: HTTP status, JSON-RPC error, tool error,
 * network failure, timeout). Kinds:
 * - `modern`: a 2026-07-28 tools/call of diagnostics.echo (JSON);
 * - `legacy`: a 2025-11-25 tools/call of diagnostics.echo on one of a pool of sessions;
 * - `federated`: a 2026-07-28 tools/call of the fixture upstream's echo (fixture__echo);
 * - `sse`: a 2026-07-28 tools/call of diagnostics.stream (3 progress events, then the result) as SSE;
 * - `task`: a 2026-07-28 task-augmented tools/call of diagnostics.sleep, then tasks/get until completed.
 * Beside them, a set of `subscriptions/listen` streams stays open and is renewed in turn (held streams).
 */
import { Agent, request } from 'undici';
import { modernHeaders } from '../../test/e2e/load/http-load.js';

export const MODERN = '2026-07-28';
export const LEGACY = '2025-11-25';
const TASKS = 'io.modelcontextprotocol/tasks';
export const KINDS = ['modern', 'legacy', 'federated', 'sse', 'task'] as const;
export type Kind = (typeof KINDS)[number];

const meta = (caps: Record<string, unknown> = {}) => ({
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'umcp-soak', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': caps,
});

/** The last JSON-RPC message with an id in a JSON or SSE body. */
function finalMessage(body: string): { result?: any; error?: { code: number; message: string } } | undefined {
  const trimmed = body.trimStart();
  if (trimmed.startsWith('{')) return JSON.parse(trimmed);
  const datas = body
    .split(/\r?\n/)
    .filter((l) => l.startsWith('data:'))
    .map((l) => l.slice(5).trim())
    .filter(Boolean);
  for (let i = datas.length - 1; i >= 0; i--) {
    const m = JSON.parse(datas[i]!) as { id?: unknown; result?: any; error?: any };
    if (m.id !== undefined && (m.result !== undefined || m.error !== undefined)) return m;
  }
  return undefined;
}

/** The traffic of one soak against `mcpUrl` with tenant key `key`. */
export class Workload {
  private readonly agent: Agent;
  private sessions: string[] = [];
  private next = 0;
  private id = 0;
  private readonly listens = new Set<AbortController>();

  constructor(
    private readonly mcpUrl: string,
    private readonly key: string,
    connections: number,
    private readonly timeoutMs = 30_000,
  ) {
    this.agent = new Agent({ connections, keepAliveTimeout: 30_000, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  }

  private async post(headers: Record<string, string>, body: unknown): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
    const res = await request(this.mcpUrl, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      dispatcher: this.agent,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    return { status: res.statusCode, text: await res.body.text(), headers: res.headers };
  }

  /** A result, or throws an Error saying what came back instead. */
  private async call(headers: Record<string, string>, body: unknown): Promise<any> {
    const r = await this.post(headers, body);
    if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.text.slice(0, 160)}`);
    const msg = finalMessage(r.text);
    if (!msg) throw new Error(`no JSON-RPC answer: ${r.text.slice(0, 160)}`);
    if (msg.error) throw new Error(`JSON-RPC ${msg.error.code}: ${msg.error.message}`);
    if (msg.result?.isError) throw new Error(`tool error: ${JSON.stringify(msg.result.content).slice(0, 160)}`);
    return msg.result;
  }

  /** Opens `n` 2025-era sessions (initialize + initialized) for the `legacy` kind. */
  async openSessions(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${this.key}` };
      const init = await this.post(headers, {
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name: 'umcp-soak', version: '1.0.0' } },
      });
      const sid = init.headers['mcp-session-id'];
      if (init.status !== 200 || typeof sid !== 'string') throw new Error(`initialize failed: HTTP ${init.status} ${init.text.slice(0, 200)}`);
      await this.post({ ...headers, 'mcp-session-id': sid, 'mcp-protocol-version': LEGACY }, { jsonrpc: '2.0', method: 'notifications/initialized' });
      this.sessions.push(sid);
    }
  }

  /** Runs one exchange of `kind`. */
  async run(kind: Kind): Promise<void> {
    const id = ++this.id;
    switch (kind) {
      case 'modern': {
        const r = await this.call(modernHeaders(this.key, 'tools/call', 'diagnostics.echo'), {
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: { name: 'diagnostics.echo', arguments: { text: `m${id}` }, _meta: meta() },
        });
        if (!JSON.stringify(r).includes(`m${id}`)) throw new Error('echo answered something else');
        return;
      }
      case 'legacy': {
        const sid = this.sessions[this.next++ % this.sessions.length]!;
        const r = await this.call(
          {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            authorization: `Bearer ${this.key}`,
            'mcp-session-id': sid,
            'mcp-protocol-version': LEGACY,
          },
          { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'diagnostics.echo', arguments: { text: `l${id}` } } },
        );
        if (!JSON.stringify(r).includes(`l${id}`)) throw new Error('legacy echo answered something else');
        return;
      }
      case 'federated': {
        const r = await this.call(modernHeaders(this.key, 'tools/call', 'fixture__echo'), {
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: { name: 'fixture__echo', arguments: { text: `f${id}` }, _meta: meta() },
        });
        if (!JSON.stringify(r).includes(`f${id}`)) throw new Error('federated echo answered something else');
        return;
      }
      case 'sse': {
        const r = await this.call(modernHeaders(this.key, 'tools/call', 'diagnostics.stream'), {
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: { name: 'diagnostics.stream', arguments: { count: 3, intervalMs: 5 }, _meta: { ...meta(), progressToken: `p${id}` } },
        });
        if (r.structuredContent?.count !== 3) throw new Error('stream answered something else');
        return;
      }
      case 'task': {
        const created = await this.call(modernHeaders(this.key, 'tools/call', 'diagnostics.sleep'), {
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: { name: 'diagnostics.sleep', arguments: { ms: 20 }, _meta: meta({ extensions: { [TASKS]: {} } }) },
        });
        const taskId = created?.taskId ?? created?.task?.taskId;
        if (typeof taskId !== 'string') throw new Error(`no task id: ${JSON.stringify(created).slice(0, 160)}`);
        const deadline = Date.now() + this.timeoutMs;
        for (let wait = 50; Date.now() < deadline; wait = Math.min(wait * 2, 500)) {
          await new Promise((r) => setTimeout(r, wait));
          const got = await this.call(modernHeaders(this.key, 'tasks/get', taskId), {
            jsonrpc: '2.0',
            id: ++this.id,
            method: 'tasks/get',
            params: { taskId, _meta: meta({ extensions: { [TASKS]: {} } }) },
          });
          const status = got?.status ?? got?.task?.status;
          if (status === 'completed') return;
          if (status === 'failed' || status === 'cancelled') throw new Error(`task ${status}`);
        }
        throw new Error('task not completed in time');
      }
    }
  }

  /** Opens one held `subscriptions/listen` stream; resolves once it is acknowledged. */
  async openListen(): Promise<AbortController> {
    const abort = new AbortController();
    const res = await request(this.mcpUrl, {
      method: 'POST',
      headers: modernHeaders(this.key, 'subscriptions/listen'),
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: ++this.id,
        method: 'subscriptions/listen',
        params: { notifications: { toolsListChanged: true }, _meta: meta() },
      }),
      dispatcher: this.agent,
      signal: abort.signal,
    });
    if (res.statusCode !== 200) throw new Error(`listen: HTTP ${res.statusCode} ${(await res.body.text()).slice(0, 160)}`);
    res.body.on('error', () => undefined);
    let seen = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('listen: not acknowledged in time')), this.timeoutMs);
      res.body.on('data', (c: Buffer) => {
        if (seen.length < 4096) seen += c.toString();
        if (seen.includes('notifications/subscriptions/acknowledged')) {
          clearTimeout(timer);
          resolve();
        }
      });
      res.body.on('end', () => reject(new Error('listen: stream ended')));
    });
    this.listens.add(abort);
    return abort;
  }

  /** Closes a held stream. */
  closeListen(abort: AbortController): void {
    abort.abort();
    this.listens.delete(abort);
  }

  async close(): Promise<void> {
    for (const a of this.listens) a.abort();
    this.listens.clear();
    await this.agent.close().catch(() => undefined);
  }
}
