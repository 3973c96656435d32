/** Plots (SVG) and the Markdown table of a cluster bench result. */
import { barChart } from './svg-chart.js';

type Result = {
  throughput: Record<string, { rps: number; p50Ms: number; p99Ms: number; non2xx: number; errors: number }>;
  ratios: Record<string, number | null>;
  vsMcpHub: Record<string, { rps?: number; p50Ms: number; p99Ms: number }>;
  hopLatency: Record<string, unknown> & { addedP50Ms: number; met: boolean; upstreamRequestsPerCall: number };
  rss: { idleMb: number[]; underLoadPeakMb: number[]; mcpHubAfterLoadMb?: number; rawEchoMb: number };
  sessions: { medianKbPer1000: number; medianHeapKbPer1000: number; redisBytesPerSession: number; met: boolean };
  mcpHubNote?: string;
};

type Lat = { p50Ms: number; p99Ms: number; rps?: number };

/** File name -> SVG text. */
export function renderPlots(r: Result): Record<string, string> {
  const hop = Object.entries(r.hopLatency).filter((e): e is [string, Lat] => typeof e[1] === 'object' && e[1] !== null && 'p50Ms' in e[1]);
  return {
    'cluster-throughput.svg': barChart(
      'tools/call throughput (wrk, same run)',
      Object.entries(r.throughput).map(([label, t]) => ({ label, value: t.rps })),
      'req/s',
    ),
    'cluster-latency.svg': barChart(
      'tools/call latency under load (wrk): p50 / p99',
      Object.entries(r.throughput).map(([label, t]) => ({ label, value: t.p50Ms, second: t.p99Ms })),
      'ms',
      ['p50', 'p99'],
    ),
    'cluster-hop-latency.svg': barChart(
      'sequential call latency: p50 / p99',
      hop.map(([label, t]) => ({ label, value: t.p50Ms, second: t.p99Ms })),
      'ms',
      ['p50', 'p99'],
    ),
    'cluster-vs-mcp-hub.svg': barChart(
      'gateway vs mcp-hub, same upstream (16 in flight): req/s',
      Object.entries(r.vsMcpHub).map(([label, t]) => ({ label, value: t.rps ?? 0 })),
      'req/s',
    ),
    'cluster-rss.svg': barChart(
      'RSS per gateway replica: idle / under load (MB)',
      r.rss.idleMb.map((v, i) => ({ label: `gateway-${i + 1}`, value: v, second: r.rss.underLoadPeakMb[i] ?? v })),
      'MB',
      ['idle', 'peak under load'],
    ),
  };
}

const f = (v: number | null | undefined, d = 2) => (v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(d));

/** The table for docs/cluster-chaos-bench.md. */
export function markdownTable(r: Result): string {
  const rows = Object.entries(r.throughput).map(([name, t]) => `| ${name} | ${t.rps.toFixed(0)} | ${f(t.p50Ms)} | ${f(t.p99Ms)} | ${t.non2xx + t.errors} |`);
  const hub = Object.entries(r.vsMcpHub).map(([name, t]) => `| ${name} | ${t.rps ?? 'n/a'} | ${f(t.p50Ms)} | ${f(t.p99Ms)} |`);
  const hop = Object.entries(r.hopLatency)
    .filter((e): e is [string, Lat] => typeof e[1] === 'object' && e[1] !== null && 'p50Ms' in e[1])
    .map(([name, t]) => `| ${name} | ${f(t.p50Ms, 3)} | ${f(t.p99Ms, 3)} |`);
  return [
    '| Target (wrk) | req/s | p50 ms | p99 ms | errors |',
    '|---|---:|---:|---:|---:|',
    ...rows,
    '',
    '| Ratio (same run) | value |',
    '|---|---:|',
    ...Object.entries(r.ratios).map(([k, v]) => `| ${k} | ${f(v)} |`),
    '',
    '| Gateway vs mcp-hub (Node driver, 16 in flight) | req/s | p50 ms | p99 ms |',
    '|---|---:|---:|---:|',
    ...hub,
    ...(r.mcpHubNote ? [`| ${r.mcpHubNote} | | | |`] : []),
    '',
    '| Sequential latency | p50 ms | p99 ms |',
    '|---|---:|---:|',
    ...hop,
    `| upstream HTTP requests per federated call | ${r.hopLatency.upstreamRequestsPerCall} | |`,
    `| **added by the gateway hop (p50)** | **${f(r.hopLatency.addedP50Ms, 3)}** (target < 1 ms: ${r.hopLatency.met ? 'met' : 'not met'}) | |`,
    '',
    '| Memory | value |',
    '|---|---:|',
    `| RSS per replica idle (MB) | ${r.rss.idleMb.map((v) => f(v, 1)).join(' / ')} |`,
    `| RSS per replica peak under load (MB) | ${r.rss.underLoadPeakMb.map((v) => f(v, 1)).join(' / ')} |`,
    ...(r.rss.mcpHubAfterLoadMb !== undefined ? [`| mcp-hub RSS after its run (MB) | ${f(r.rss.mcpHubAfterLoadMb, 1)} |`] : []),
    `| raw node:http echo RSS (MB) | ${f(r.rss.rawEchoMb, 1)} |`,
    `| gateway RSS growth per 1,000 idle 2025-era sessions, after full GC (KB, median of 3) | ${r.sessions.medianKbPer1000} (target < 1024: ${r.sessions.met ? 'met' : 'not met'}) |`,
    `| gateway V8 heap growth per 1,000 idle sessions, after full GC (KB) | ${r.sessions.medianHeapKbPer1000} |`,
    `| Redis memory per session (bytes) | ${r.sessions.redisBytesPerSession} |`,
  ].join('\n');
}
