/**
 * `npm run flood`: the flood suite. One gateway (its own process, real PostgreSQL and Redis) with its
 * connection limits configured; a well-behaved tenant (`calm`, 20 calls/s over keep-alive connections
 * opened before any flood) calls throughout, while each flood runs in turn: oversized bodies, idle
 * keep-alive connections past MAX_CONNECTIONS, slow headers, slow bodies, concurrent SSE streams past
 * SSE_STREAMS_PER_TENANT, one tenant far above RATE_LIMIT_PER_MINUTE. Each flood passes when every
 * refusal was a clear answer and the calm tenant had no failure and a p99 within 3x of its unloaded p99.
 *
 * `--short` (what `npm test` runs): fewer connections and tighter timeouts, about a minute; it judges the
 * answers and the calm tenant's failures and only reports its p99 (a few dozen calls per phase). The full run
 * (default) writes bench/results/flood.json. With TEST_SUMMARY_FILE set, writes {passed, failed}.
 */
import { writeFileSync } from 'node:fs';
import { quantile, rssOf } from '../load/http-load.js';
import { startCalmClient, startGatewayProcess } from '../load/gateway-process.js';
import {
  exhaustBudget,
  idleConnections,
  overLimitTenant,
  oversized,
  slowClients,
  sseStreams,
  type FloodLimits,
  type FloodSizes,
  type ScenarioResult,
} from './scenarios.js';

const short = process.argv.includes('--short') || process.env.FLOOD_SHORT === '1';
const CALM_RATE = 20;
/** The p99 a phase may reach: 3x the unloaded p99, the latter taken as at least FLOOR_MS (timer granularity on a loaded box). */
const P99_RATIO = 3;
const FLOOR_MS = 5;

const sizes: FloodSizes = short
  ? { oversizeTries: 12, idleConnections: 1200, slowClients: 100, sseStreams: 130, overLimitSeconds: 6, overLimitConcurrency: 32 }
  : { oversizeTries: 100, idleConnections: 5000, slowClients: 500, sseStreams: 300, overLimitSeconds: 20, overLimitConcurrency: 64 };
const limits: FloodLimits = short
  ? { maxConnections: 1000, headersTimeoutMs: 3_000, requestReceiveTimeoutMs: 5_000, sseStreamsPerTenant: 80, ratePerMinute: 1_500 }
  : { maxConnections: 4096, headersTimeoutMs: 20_000, requestReceiveTimeoutMs: 30_000, sseStreamsPerTenant: 200, ratePerMinute: 1_500 };

interface Phase {
  name: string;
  from: number;
  to: number;
  peakRssMb: number;
}

async function main(): Promise<number> {
  const gw = await startGatewayProcess({
    MAX_CONNECTIONS: String(limits.maxConnections),
    HEADERS_TIMEOUT_MS: String(limits.headersTimeoutMs),
    REQUEST_RECEIVE_TIMEOUT_MS: String(limits.requestReceiveTimeoutMs),
    SSE_STREAMS_PER_TENANT: String(limits.sseStreamsPerTenant),
    RATE_LIMIT_PER_MINUTE: String(limits.ratePerMinute),
    // Above SSE_STREAMS_PER_TENANT, so the HTTP layer's per-tenant stream limit is the one under test.
    MAX_SUBSCRIPTIONS: String(limits.sseStreamsPerTenant + 50),
    MAX_BODY_BYTES: String(1024 * 1024),
    LOG_LEVEL: 'silent',
  });
  // The calm tenant's traffic runs from here to the end, in its own process; its latencies are split by phase afterwards.
  const calm = startCalmClient(gw.mcpUrl, gw.calm, CALM_RATE);
  const samples = calm.samples;
  const calmFailures = calm.failures;
  let rssPeak = 0;
  const rssTimer = setInterval(() => (rssPeak = Math.max(rssPeak, rssOf(gw.pid))), 250);
  const results: (ScenarioResult & { calm: { p50: number; p99: number; failures: number; ratio: number } })[] = [];
  const phases: Phase[] = [];
  try {
    const phase = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
      rssPeak = rssOf(gw.pid);
      const from = Date.now();
      const out = await run();
      phases.push({ name, from, to: Date.now(), peakRssMb: Math.round(rssPeak / 1048576) });
      return out;
    };
    await new Promise((r) => setTimeout(r, 1_000)); // warm-up
    await phase('unloaded', () => new Promise((r) => setTimeout(r, short ? 6_000 : 30_000)));
    const target = { mcpUrl: gw.mcpUrl, calm: gw.calm, loud: gw.loud };
    const scenarios: [string, () => Promise<ScenarioResult>][] = [
      ['oversized bodies', () => oversized(target, sizes)],
      ['idle keep-alive connections', () => idleConnections(target, sizes, limits)],
      ['slow headers', () => slowClients(target, sizes, limits, 'headers')],
      ['slow bodies', () => slowClients(target, sizes, limits, 'body')],
      ['concurrent SSE streams', () => sseStreams(target, sizes, limits, short ? 2_000 : 15_000)],
      ['one tenant far above its limit', () => overLimitTenant(target, sizes, limits)],
    ];
    const only = process.env.FLOOD_ONLY?.split(',');
    for (const [name, run] of scenarios) {
      if (only && !only.some((o) => name.includes(o))) continue;
      if (name === 'one tenant far above its limit') await exhaustBudget(target, limits.ratePerMinute);
      const r = await phase(name, run);
      results.push({ ...r, calm: { p50: NaN, p99: NaN, failures: 0, ratio: NaN } });
      await new Promise((res) => setTimeout(res, 1_000)); // let the gateway settle between floods
    }
    // A second unloaded window: the baseline is both (a busy shared machine drifts over a run).
    await phase('unloaded again', () => new Promise((r) => setTimeout(r, short ? 6_000 : 30_000)));
  } finally {
    await calm.stop();
    clearInterval(rssTimer);
    await gw.stop();
  }
  const inPhase = (p: Phase) => samples.filter((s) => s.t >= p.from && s.t <= p.to).map((s) => s.ms);
  const base = phases.find((p) => p.name === 'unloaded')!;
  const again = phases.find((p) => p.name === 'unloaded again');
  const unloaded = [...inPhase(base), ...(again ? inPhase(again) : [])];
  const baseP99 = quantile(unloaded, 0.99);
  const allowed = P99_RATIO * Math.max(baseP99, FLOOR_MS);
  let passed = 0;
  let failed = 0;
  const notes: string[] = [];
  const round = (n: number) => Math.round(n * 10) / 10;
  console.log(
    `\nflood (${short ? 'short' : 'full'}): calm tenant unloaded p50 ${round(quantile(unloaded, 0.5))} ms, p99 ${round(baseP99)} ms (${unloaded.length} calls, before and after the floods); allowed p99 under flood ${round(allowed)} ms`,
  );
  for (const r of results) {
    const p = phases.find((x) => x.name === r.name)!;
    const lat = inPhase(p);
    const fails = calmFailures.filter((f) => f.t >= p.from && f.t <= p.to);
    r.calm = {
      p50: round(quantile(lat, 0.5)),
      p99: round(quantile(lat, 0.99)),
      failures: fails.length,
      ratio: round(quantile(lat, 0.99) / Math.max(baseP99, FLOOR_MS)),
    };
    if (fails.length) r.problems.push(`calm tenant: ${fails.length} failures (${fails[0]!.what})`);
    // The latency bound is judged by the full run: a short phase holds a few dozen calls, whose p99 is their
    // maximum, i.e. the machine's noise. The short form judges the answers and the calm tenant's failures.
    if (!(r.calm.p99 <= allowed)) (short ? notes : r.problems).push(`calm tenant p99 ${r.calm.p99} ms > ${round(allowed)} ms (${r.calm.ratio}x)`);
    r.pass = r.problems.length === 0;
    if (r.pass) passed++;
    else failed++;
    console.log(`${r.pass ? 'PASS' : 'FAIL'} ${r.name}: ${r.sent}`);
    console.log(
      `     answers: ${Object.entries(r.answers)
        .map(([k, n]) => `${n} × ${k}`)
        .join('; ')}`,
    );
    console.log(
      `     calm tenant: p50 ${r.calm.p50} ms, p99 ${r.calm.p99} ms (${r.calm.ratio}x unloaded), ${lat.length} calls, ${fails.length} failures; gateway peak RSS ${p.peakRssMb} MB`,
    );
    for (const problem of r.problems) console.log(`     problem: ${problem}`);
    for (const note of notes.splice(0)) console.log(`     not judged in the short form: ${note}`);
  }
  const report = {
    generatedAt: new Date().toISOString(),
    mode: short ? 'short' : 'full',
    machine: 'shared 2-core machine, other workloads running',
    limits,
    sizes,
    calmTenant: {
      ratePerSecond: CALM_RATE,
      unloaded: { p50: round(quantile(inPhase(base), 0.5)), p99: round(baseP99), calls: inPhase(base).length },
      allowedP99: round(allowed),
    },
    scenarios: results.map((r) => ({ ...r, peakRssMb: phases.find((p) => p.name === r.name)?.peakRssMb })),
  };
  const out = process.env.FLOOD_OUT ?? (short ? undefined : 'bench/results/flood.json');
  if (out) writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  if (process.env.TEST_SUMMARY_FILE) writeFileSync(process.env.TEST_SUMMARY_FILE, JSON.stringify({ passed, failed, skipped: 0 }));
  console.log(`flood: ${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    if (process.env.TEST_SUMMARY_FILE) writeFileSync(process.env.TEST_SUMMARY_FILE, JSON.stringify({ passed: 0, failed: 1, skipped: 0 }));
    process.exit(1);
  },
);
