/**
 * Node load drivers for what wrk cannot drive: sequential latency (the gateway hop, measured with
 * microsecond timers over keep-alive connections) and mcp-hub, whose /mcp is the HTTP+SSE transport
 * (GET /mcp opens the stream, POST /messages?sessionId= answers 202, the result arrives on the stream).
 */
import { Agent, request } from 'undici';

/** Latency samples summarised. */
export interface LatencyStats {
  n: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  rps?: number;
}

/** Summarises samples (ms). */
export function stats(samples: number[], elapsedMs?: number): LatencyStats {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return {
    n: s.length,
    p50Ms: round(q(0.5)),
    p99Ms: round(q(0.99)),
    meanMs: round(s.reduce((a, b) => a + b, 0) / Math.max(1, s.length)),
    ...(elapsedMs && { rps: Math.round((s.length / elapsedMs) * 1000) }),
  };
}

const agent = new Agent({ connections: 64, keepAliveTimeout: 60_000, pipelining: 1 });

/** One POST; resolves with the body text, rejects on a non-200. */
export async function postOnce(url: string, headers: Record<string, string>, body: string): Promise<string> {
  const res = await request(url, { method: 'POST', headers, body, dispatcher: agent });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
  return text;
}

/** Closed loop: `concurrency` lanes send `make(i)` until `count` requests are done; returns latency stats. */
export async function closedLoop(count: number, concurrency: number, send: (i: number) => Promise<unknown>, warmup = 50): Promise<LatencyStats> {
  for (let i = 0; i < warmup; i++) await send(-1 - i);
  const samples: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const s = performance.now();
        await send(i);
        samples.push(performance.now() - s);
      }
    }),
  );
  return stats(samples, performance.now() - t0);
}

/** An mcp-hub client session over HTTP+SSE: call(name, args) resolves with the matching result. */
export async function openHubSession(
  baseUrl: string,
): Promise<{ call(name: string, args: Record<string, unknown>): Promise<any>; listTools(): Promise<string[]>; close(): void }> {
  const controller = new AbortController();
  const res = await fetch(`${baseUrl}/mcp`, { headers: { accept: 'text/event-stream' }, signal: controller.signal });
  if (!res.ok || !res.body) throw new Error(`mcp-hub GET /mcp: HTTP ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const waiting = new Map<number, (m: any) => void>();
  let endpoint: string | undefined;
  let endpointReady!: () => void;
  const ready = new Promise<void>((r) => (endpointReady = r));
  void (async () => {
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
      if (done) return;
      buffer += value;
      const blocks = buffer.split(/\r?\n\r?\n/);
      buffer = blocks.pop() ?? '';
      for (const b of blocks) {
        const ev = /^event:\s*(.+)$/m.exec(b)?.[1]?.trim();
        const data = b
          .split(/\r?\n/)
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trim())
          .join('\n');
        if (ev === 'endpoint') {
          endpoint = new URL(data, baseUrl).toString();
          endpointReady();
        } else if (data) {
          const msg = JSON.parse(data) as { id?: number };
          if (typeof msg.id === 'number') waiting.get(msg.id)?.(msg);
        }
      }
    }
  })();
  await ready;
  let id = 1;
  const rpc = async (method: string, params: unknown, notify = false) => {
    const myId = id++;
    const answer = notify ? Promise.resolve(undefined) : new Promise<any>((r) => waiting.set(myId, r));
    await postAccepted(endpoint!, JSON.stringify(notify ? { jsonrpc: '2.0', method, params } : { jsonrpc: '2.0', id: myId, method, params }));
    const msg = await answer;
    waiting.delete(myId);
    if (msg?.error) throw new Error(`mcp-hub ${method}: ${msg.error.message}`);
    return msg?.result;
  };
  await rpc('initialize', { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'umcp-bench', version: '1' } });
  await rpc('notifications/initialized', {}, true);
  return {
    call: (name, args) => rpc('tools/call', { name, arguments: args }),
    listTools: async () => ((await rpc('tools/list', {})) as { tools: { name: string }[] }).tools.map((t) => t.name),
    close: () => controller.abort(),
  };
}

async function postAccepted(url: string, body: string): Promise<void> {
  const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, dispatcher: agent });
  await res.body.text();
  if (res.statusCode >= 300) throw new Error(`mcp-hub POST: HTTP ${res.statusCode}`);
}

/**
 * Sequential calls of several kinds, interleaved call by call (a, b, c, a, b, c, ...): slow drifts of a
 * shared machine hit every kind alike. `warmup` rounds first (not counted); returns latency stats per kind.
 */
export async function interleaved<K extends string>(count: number, sends: Record<K, () => Promise<unknown>>, warmup = 100): Promise<Record<K, LatencyStats>> {
  const kinds = Object.keys(sends) as K[];
  for (let i = 0; i < warmup; i++) for (const k of kinds) await sends[k]();
  const samples = Object.fromEntries(kinds.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let i = 0; i < count; i++) {
    for (const k of kinds) {
      const s = performance.now();
      await sends[k]();
      samples[k].push(performance.now() - s);
    }
  }
  return Object.fromEntries(kinds.map((k) => [k, stats(samples[k])])) as Record<K, LatencyStats>;
}
