/**
 * Federation bench, one run: tools/call latency (p50/p99) and throughput of an upstream tool called
 * through the gateway (`<ns>__echo`, 2026-07-28 client -> gateway -> pooled client -> upstream) against
 * calling the same upstream directly, measured in the same process and run; prints the ratios
 * (target: gateway p50 <= 1.3x direct) and writes them to bench/results/federation.json and
 * federation-latency.svg. Uses the test PostgreSQL/Redis (TEST_DATABASE_URL /
 * TEST_REDIS_URL or 127.0.0.1). `npx tsx bench/federation.ts [calls] [concurrency]`
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/client';
import { barChart } from './cluster/svg-chart.js';
import { connectClient, type ClientMode } from './support/mcp-client.js';
import { startCluster } from '../test/service/federation/support/gateway.js';
import { startLegacyUpstream, startModernUpstream } from '../test/service/federation/support/upstream-fixtures.js';

const N = Number(process.argv[2] ?? 2000);
const CONCURRENCY = Number(process.argv[3] ?? 16);
const RESULTS = join(import.meta.dirname, 'results');

interface Stats {
  name: string;
  p50Ms: number;
  p99Ms: number;
  rps: number;
}

async function measure(name: string, call: () => Promise<unknown>): Promise<Stats> {
  for (let i = 0; i < Math.min(200, N / 10); i++) await call(); // warm-up (connections, JIT, caches)
  const t: number[] = [];
  for (let i = 0; i < N; i++) {
    const s = process.hrtime.bigint();
    await call();
    t.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  t.sort((a, b) => a - b);
  // Throughput: CONCURRENCY workers sharing N calls.
  let left = N;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (left-- > 0) await call();
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { name, p50Ms: t[Math.floor(t.length / 2)]!, p99Ms: t[Math.floor(t.length * 0.99)]!, rps: N / seconds };
}

async function main(): Promise<void> {
  const loadBefore = loadavg()[0]!;
  const [cluster, modern, legacy] = await Promise.all([startCluster(1), startModernUpstream('bench'), startLegacyUpstream('bench')]);
  const clients: Client[] = [];
  try {
    const { apiKey } = await cluster.tenant('bench');
    for (const [name, url] of [
      ['m', modern.url],
      ['l', legacy.url],
    ] as const) {
      const r = await cluster.admin('POST', '/tenants/bench/upstreams', { name, url, maxConcurrency: 64 });
      if (r.status !== 201) throw new Error(JSON.stringify(r.body));
    }
    const connect = async (url: string, headers: Record<string, string>, mode: ClientMode) => {
      const c = await connectClient(url, headers, mode);
      clients.push(c);
      return c;
    };
    const auth = { authorization: `Bearer ${apiKey}` };
    const rows: [string, Stats, Stats, Stats][] = [];
    for (const [label, upstreamUrl, ns, mode] of [
      ['2026-07-28 upstream', modern.url, 'm', { pin: '2026-07-28' }],
      ['2025-era upstream', legacy.url, 'l', 'legacy'],
    ] as const) {
      const direct = await connect(upstreamUrl, {}, mode);
      const viaGateway = await connect(cluster.gateways[0]!.mcpUrl, auth, mode);
      const d = await measure('direct', () => direct.callTool({ name: 'echo', arguments: { text: 'x' } }));
      const g = await measure('gateway', () => viaGateway.callTool({ name: `${ns}__echo`, arguments: { text: 'x' } }));
      // The gateway's own floor: a built-in tool on the same endpoint and protocol generation.
      const b = await measure('built-in', () => viaGateway.callTool({ name: 'diagnostics.echo', arguments: { text: 'x' } }));
      rows.push([label, d, g, b]);
    }
    console.log(`\nfederation bench: tools/call echo, ${N} sequential calls (p50/p99) + ${N} calls at concurrency ${CONCURRENCY} (throughput)`);
    // The machine is usually shared: the load before the run says how far absolute figures can be trusted.
    console.log(
      `machine: ${cpus().length} cores, 1-minute load average ${loadBefore.toFixed(2)} before the run; compare the ratios, they are measured in the same run`,
    );
    const summary: string[] = [];
    for (const [label, d, g, b] of rows) {
      console.log(`\n${label} (client speaks the same generation)`);
      for (const s of [d, g, b]) console.log(`  ${s.name.padEnd(8)} p50 ${s.p50Ms.toFixed(2)} ms  p99 ${s.p99Ms.toFixed(2)} ms  ${s.rps.toFixed(0)} calls/s`);
      const ratio = g.p50Ms / d.p50Ms;
      console.log(
        `  ratio gateway/direct: p50 ${ratio.toFixed(2)}x (target <= 1.3x: ${ratio <= 1.3 ? 'met' : 'NOT met'}), p99 ${(g.p99Ms / d.p99Ms).toFixed(2)}x, throughput ${(g.rps / d.rps).toFixed(2)}x`,
      );
      console.log(`  federation hop (gateway upstream call - gateway built-in call): p50 ${(g.p50Ms - b.p50Ms).toFixed(2)} ms`);
      summary.push(
        `RATIO ${label}: gateway/direct p50 ${ratio.toFixed(2)}x, p99 ${(g.p99Ms / d.p99Ms).toFixed(2)}x, throughput ${(g.rps / d.rps).toFixed(2)}x (gateway p50 ${g.p50Ms.toFixed(2)} ms, direct ${d.p50Ms.toFixed(2)} ms)`,
      );
    }
    console.log(`\n${summary.join('\n')}`);
    // Also as files: bench/results/federation.json (figures) and federation-latency.svg (p50 / p99 bars).
    const bars = rows.flatMap(([label, d, g, b]) => [d, g, b].map((x) => ({ label: `${label}: ${x.name}`, value: x.p50Ms, second: x.p99Ms })));
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(
      join(RESULTS, 'federation-latency.svg'),
      barChart(`tools/call echo through the gateway vs direct (${N} sequential calls)`, bars, 'ms', ['p50', 'p99']),
    );
    const figures = rows.map(([label, d, g, b]) => ({
      upstream: label,
      direct: d,
      gateway: g,
      builtin: b,
      ratioP50: g.p50Ms / d.p50Ms,
      ratioP99: g.p99Ms / d.p99Ms,
      ratioThroughput: g.rps / d.rps,
    }));
    writeFileSync(
      join(RESULTS, 'federation.json'),
      `${JSON.stringify({ at: new Date().toISOString(), calls: N, concurrency: CONCURRENCY, cores: cpus().length, loadBefore, rows: figures }, null, 2)}\n`,
    );
    console.log(`written: ${join(RESULTS, 'federation-latency.svg')}, ${join(RESULTS, 'federation.json')}`);
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await cluster.stop();
    await Promise.all([modern.close(), legacy.close()]);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
