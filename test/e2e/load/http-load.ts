/**
 * Load-generation helpers shared by the flood and soak suites: 2026-07-28 and 2025-era MCP requests over
 * an undici keep-alive pool, latency percentiles, and a process's RSS read from /proc.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Agent, request } from 'undici';

export const MODERN = '2026-07-28';
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'umcp-load', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** Headers of a 2026-07-28 request. */
export function modernHeaders(key: string, method: string, name?: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': MODERN,
    'mcp-method': method,
    ...(name !== undefined && { 'mcp-name': name }),
    authorization: `Bearer ${key}`,
  };
}

/** Body of a 2026-07-28 request. */
export function modernBody(method: string, params: Record<string, unknown> = {}, id = 1): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta: ENVELOPE } });
}

/** One exchange's outcome. */
export interface Outcome {
  status: number;
  ms: number;
  body: string;
  error?: string;
}

/** POSTs `body` and reads the whole answer (JSON or a short SSE stream). */
export async function post(dispatcher: Agent, url: string, headers: Record<string, string>, body: string, timeoutMs = 30_000): Promise<Outcome> {
  const started = performance.now();
  try {
    const res = await request(url, { method: 'POST', headers, body, dispatcher, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    const text = await res.body.text();
    return { status: res.statusCode, ms: performance.now() - started, body: text };
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return { status: 0, ms: performance.now() - started, body: '', error: e.code ?? e.message ?? String(err) };
  }
}

/** A modern tools/call of diagnostics.echo. */
export function echo(dispatcher: Agent, mcpUrl: string, key: string, text = 'hi', id = 1): Promise<Outcome> {
  return post(
    dispatcher,
    mcpUrl,
    modernHeaders(key, 'tools/call', 'diagnostics.echo'),
    modernBody('tools/call', { name: 'diagnostics.echo', arguments: { text } }, id),
  );
}

/** Whether an echo answer is a success (HTTP 200, a result, no error). */
export function echoOk(o: Outcome): boolean {
  return o.status === 200 && o.body.includes('"result"') && !o.body.includes('"error"') && !o.body.includes('"isError":true');
}

/** The q-quantile (0..1) of `values`, nearest rank; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Resident set size of process `pid` in bytes (Linux /proc), or NaN. */
export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Open file descriptors that are sockets, of process `pid` (Linux /proc), or NaN. */
export function socketsOf(pid: number): number {
  try {
    let n = 0;
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
      } catch {
        // closed meanwhile
      }
    }
    return n;
  } catch {
    return NaN;
  }
}

/**
 * Sends well-behaved traffic (modern echo calls, `rate` per second over `concurrency` keep-alive
 * connections) until `signal` aborts; returns every latency and the failures. Each lane has its own
 * connection, opened at its first call and used every `concurrency / rate` seconds. With one shared pool
 * every call went over the pool's first connection (60 of 60 in a probe) and a second was opened only
 * when two calls overlapped, i.e. under load: mid-flood, where MAX_CONNECTIONS rightly refuses a new
 * connection (CI saw the calm tenant's one 503 so).
 */
export async function steadyTraffic(
  mcpUrl: string,
  key: string,
  opts: { rate: number; concurrency?: number; signal: AbortSignal; onSample?: (ms: number) => void; onFailure?: (what: string) => void },
): Promise<{ latencies: number[]; failures: string[] }> {
  const concurrency = opts.concurrency ?? 2;
  const agents = Array.from({ length: concurrency }, () => new Agent({ connections: 1, keepAliveTimeout: 60_000 }));
  const latencies: number[] = [];
  const failures: string[] = [];
  const interval = (1000 * concurrency) / opts.rate;
  let id = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, lane) => {
      await new Promise((r) => setTimeout(r, (interval / concurrency) * lane));
      let next = performance.now();
      while (!opts.signal.aborted) {
        const o = await echo(agents[lane]!, mcpUrl, key, 'steady', ++id);
        if (opts.signal.aborted && o.status === 0) break;
        if (echoOk(o)) {
          latencies.push(o.ms);
          opts.onSample?.(o.ms);
        } else {
          const what = `${o.status} ${o.error ?? o.body.slice(0, 120)}`;
          failures.push(what);
          opts.onFailure?.(what);
        }
        next += interval;
        const wait = next - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        else next = performance.now();
      }
    }),
  );
  await Promise.all(agents.map((a) => a.close()));
  return { latencies, failures };
}
