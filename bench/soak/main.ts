/**
 * `npm run soak`: sustained mixed load through nginx over the local cluster (service/src/local/cluster:
 * gateways, a task worker, PostgreSQL primary + streaming replica, Redis, the fixture upstream), with the
 * gateways' memory, heap, event-loop lag, open sockets and the Redis and PostgreSQL connections sampled
 * every second (sampler.ts), before, during and after the load.
 *
 * Passes when: no exchange failed; every minute's p99 stays within 2x of the first minute's; no gateway's
 * RSS trends up over the second half of the load (least-squares slope under 1 MB/min); and each
 * gateway's RSS after the load is back near its baseline (within 25% or 40 MB, whichever is larger).
 *
 * Configuration (environment):
 * - SOAK_DURATION_S: load duration, default 600;
 * - SOAK_RATE: exchanges per second, default 70% of the capacity `npm run bench` measured (row 1 of
 *   bench/results/pipeline.json, built-in tools/call throughput of one gateway);
 * - SOAK_MIX: weights per kind, default `modern=40,legacy=25,federated=15,sse=15,task=5` (workload.ts);
 * - SOAK_LISTEN: held subscriptions/listen streams (one renewed every 5 s), default 20;
 * - SOAK_REPLICAS / SOAK_WORKERS: cluster size, default 2 / 1;
 * - SOAK_BASELINE_S / SOAK_AFTER_S: quiet windows before / after, default 30 / 60;
 * - SOAK_OUT: result directory, default bench/results (the full run writes soak.json and soak.svg).
 * `--short` (a step of `npm test`): 20 s at 30/s on one replica; the p99 windows are then thirds of the
 * load, and they and the RSS slope are reported but not judged (a 7 s window's p99 is the second-slowest of
 * about 200 calls on shared cores, and 25 s of GC noise says nothing about a trend): the short form judges
 * errors and memory returning to baseline; `npm run soak` judges all.
 * With TEST_SUMMARY_FILE set, writes {passed, failed}.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, startLocalCluster } from '../../service/src/local/cluster/local-cluster.js';
import { DEPLOYMENT_NODE_OPTIONS } from '../pipeline/compiled-platform.js';
import { median, quantile, slope } from './analysis.js';
import { lineCharts } from './line-chart.js';
import { startSampler, type Sample } from './sampler.js';
import { KINDS, Workload, type Kind } from './workload.js';

const short = process.argv.includes('--short') || process.env.SOAK_SHORT === '1';
const log = (l: string) => process.stderr.write(`${l}\n`);

/** 70% of the capacity the pipeline bench measured, or undefined when it has not run. */
function defaultRate(): { rate: number; source: string } {
  const file = join(REPO_ROOT, 'bench/results/pipeline.json');
  if (existsSync(file)) {
    const rows = (JSON.parse(readFileSync(file, 'utf8')) as { rows?: { id: string; value: number; unit: string }[] }).rows ?? [];
    const cap = rows.find((r) => r.id === '1' && r.unit === 'req/s')?.value;
    if (cap) return { rate: Math.round(cap * 0.7), source: `70% of ${Math.round(cap)} req/s (bench/results/pipeline.json row 1)` };
  }
  return { rate: 200, source: 'bench/results/pipeline.json not found: 200/s' };
}

function parseMix(text: string): Record<Kind, number> {
  const mix = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>;
  for (const part of text.split(',')) {
    const [k, v] = part.split('=').map((s) => s.trim());
    if (!KINDS.includes(k as Kind) || !(Number(v) >= 0)) throw new Error(`SOAK_MIX: "${part}" is not <kind>=<weight> with kind one of ${KINDS.join(', ')}`);
    mix[k as Kind] = Number(v);
  }
  if (!Object.values(mix).some((w) => w > 0)) throw new Error('SOAK_MIX: every weight is 0');
  return mix;
}

const num = (name: string, dflt: number) => {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}: expected a non-negative number (got ${JSON.stringify(v)})`);
  return n;
};

async function main(): Promise<number> {
  const rateDefault = short ? { rate: 30, source: 'short form: 30/s' } : defaultRate();
  const settings = {
    durationS: num('SOAK_DURATION_S', short ? 20 : 600),
    rate: num('SOAK_RATE', rateDefault.rate),
    rateSource: process.env.SOAK_RATE ? 'SOAK_RATE' : rateDefault.source,
    mix: parseMix(process.env.SOAK_MIX ?? 'modern=40,legacy=25,federated=15,sse=15,task=5'),
    listen: num('SOAK_LISTEN', short ? 5 : 20),
    replicas: num('SOAK_REPLICAS', short ? 1 : 2),
    workers: num('SOAK_WORKERS', 1),
    baselineS: num('SOAK_BASELINE_S', short ? 3 : 30),
    afterS: num('SOAK_AFTER_S', short ? 8 : 60),
    sessions: 20,
  };
  const outDir = process.env.SOAK_OUT ?? (short ? undefined : join(REPO_ROOT, 'bench/results'));
  log(`soak (${short ? 'short' : 'full'}): ${settings.durationS} s at ${settings.rate}/s (${settings.rateSource}), mix ${JSON.stringify(settings.mix)}`);
  const cluster = await startLocalCluster({
    replicas: settings.replicas,
    workers: settings.workers,
    env: { LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '0' },
    // The gateways' V8 heap as the Deployment sizes it (512Mi pod): memory is judged as production runs it.
    gatewayNodeArgs: DEPLOYMENT_NODE_OPTIONS.split(' '),
    log: (l) => log(`cluster ${l}`),
  });
  const started = Date.now();
  let phase: Sample['phase'] = 'baseline';
  const gateways = cluster.gateways.map((g) => ({ pid: g.process.pid!, url: g.url, name: g.name }));
  const sampler = await startSampler({ gateways, redisUrl: cluster.redis.url, postgresUrl: cluster.postgres.primaryUrl, phase: () => phase, started });
  const work = new Workload(cluster.mcpUrl, cluster.apiKey, 128);
  const latencies: { t: number; ms: number; kind: Kind }[] = [];
  const errors: { t: number; kind: Kind | 'listen'; what: string }[] = [];
  let loadFrom = 0;
  let loadTo = 0;
  let dropped = 0;
  try {
    await work.openSessions(settings.sessions);
    // Warm-up (connections, caches, JIT), not measured.
    for (let i = 0; i < 50; i++) await work.run(KINDS[i % KINDS.length]!).catch(() => undefined);
    log(`baseline: ${settings.baselineS} s quiet`);
    await new Promise((r) => setTimeout(r, settings.baselineS * 1000));

    phase = 'load';
    loadFrom = (Date.now() - started) / 1000;
    const listens = await Promise.all(Array.from({ length: settings.listen }, () => work.openListen()));
    const churn = setInterval(() => {
      const old = listens.shift();
      if (old) work.closeListen(old);
      work.openListen().then(
        (a) => listens.push(a),
        (err: unknown) => errors.push({ t: (Date.now() - started) / 1000, kind: 'listen', what: String(err) }),
      );
    }, 5_000);
    // Open loop: exchanges are started on schedule whatever the answers' latency (smooth weighted round robin).
    const weights = KINDS.map((k) => settings.mix[k]);
    const total = weights.reduce((a, b) => a + b, 0);
    const credit = weights.map(() => 0);
    const pick = (): Kind => {
      let best = 0;
      for (let i = 0; i < credit.length; i++) {
        credit[i]! += weights[i]!;
        if (credit[i]! > credit[best]!) best = i;
      }
      credit[best]! -= total;
      return KINDS[best]!;
    };
    let inFlight = 0;
    const maxInFlight = Math.max(256, settings.rate * 5);
    const loadStart = performance.now();
    let sent = 0;
    const running = new Set<Promise<void>>();
    log(`load: ${settings.durationS} s at ${settings.rate}/s`);
    const progress = setInterval(() => {
      const elapsed = Math.round((performance.now() - loadStart) / 1000);
      const last = latencies.filter((l) => l.t >= (Date.now() - started) / 1000 - 30).map((l) => l.ms);
      log(
        `load ${elapsed}/${settings.durationS} s: ${latencies.length} answered, ${errors.length} errors, p99 of the last 30 s ${quantile(last, 0.99).toFixed(1)} ms`,
      );
    }, 30_000);
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        const elapsed = (performance.now() - loadStart) / 1000;
        if (elapsed >= settings.durationS) {
          clearInterval(tick);
          resolve();
          return;
        }
        const due = Math.floor(elapsed * settings.rate) - sent;
        for (let i = 0; i < due; i++) {
          sent++;
          const kind = pick();
          if (inFlight >= maxInFlight) {
            dropped++;
            errors.push({ t: (Date.now() - started) / 1000, kind, what: `load generator: ${maxInFlight} exchanges in flight, not sent` });
            continue;
          }
          inFlight++;
          const t0 = performance.now();
          const p = work.run(kind).then(
            () => void latencies.push({ t: (Date.now() - started) / 1000, ms: performance.now() - t0, kind }),
            (err: unknown) => void errors.push({ t: (Date.now() - started) / 1000, kind, what: err instanceof Error ? err.message : String(err) }),
          );
          const tracked = p.finally(() => {
            inFlight--;
            running.delete(tracked);
          });
          running.add(tracked);
        }
      }, 10);
    });
    await Promise.all(running);
    clearInterval(progress);
    clearInterval(churn);
    for (const a of listens) work.closeListen(a);
    loadTo = (Date.now() - started) / 1000;
    phase = 'after';
    log(`after: ${settings.afterS} s quiet (memory back to baseline?)`);
    await new Promise((r) => setTimeout(r, settings.afterS * 1000));
  } finally {
    await sampler.stop();
    await work.close();
    await cluster.stop();
  }

  // ---- verdict
  const samples = sampler.samples;
  const checks: { name: string; pass: boolean; detail: string; judged: boolean }[] = [];
  const loadS = loadTo - loadFrom;
  checks.push({
    name: 'errors',
    pass: errors.length === 0,
    judged: true,
    detail: `${errors.length} failed of ${latencies.length + errors.length}${dropped ? ` (${dropped} not sent: generator overloaded)` : ''}${errors.length ? `; first: ${errors[0]!.kind} ${errors[0]!.what}` : ''}`,
  });
  // p99 by window: minutes (full) or thirds of the load (short).
  const windowS = short || loadS < 180 ? loadS / 3 : 60;
  const windows: { from: number; p99: number; p50: number; n: number }[] = [];
  for (let from = loadFrom; from < loadTo - windowS / 2; from += windowS) {
    const ms = latencies.filter((l) => l.t >= from && l.t < from + windowS).map((l) => l.ms);
    windows.push({ from: Math.round(from - loadFrom), p99: quantile(ms, 0.99), p50: quantile(ms, 0.5), n: ms.length });
  }
  const ref = windows[0]?.p99 ?? NaN;
  const worst = Math.max(...windows.slice(1).map((w) => w.p99));
  checks.push({
    name: 'p99 stable',
    pass: windows.length > 1 && worst <= 2 * ref,
    // A short window's p99 is the second-slowest of ~200 calls on shared cores: reported, judged by the full run.
    judged: !short,
    detail: `first ${short || loadS < 180 ? 'third' : 'minute'} p99 ${ref.toFixed(1)} ms; worst later window ${worst.toFixed(1)} ms (${(worst / ref).toFixed(2)}x, limit 2x)`,
  });
  const perGateway = gateways.map((g, i) => {
    const base = samples.filter((s) => s.phase === 'baseline').map((s) => s.gateways[i]!.rssMb);
    const half = loadFrom + loadS / 2;
    const secondHalf = samples.filter((s) => s.phase === 'load' && s.t >= half).map((s) => ({ x: s.t / 60, y: s.gateways[i]!.rssMb }));
    const after = samples.filter((s) => s.phase === 'after' && s.t >= loadTo + settings.afterS / 2).map((s) => s.gateways[i]!.rssMb);
    const load = samples.filter((s) => s.phase === 'load').map((s) => s.gateways[i]!.rssMb);
    return {
      name: g.name,
      baselineMb: median(base),
      peakMb: Math.max(...load),
      afterMb: median(after),
      slopeMbPerMin: slope(secondHalf),
      lagP99Ms: quantile(
        samples.filter((s) => s.phase === 'load').map((s) => s.gateways[i]!.lagMs),
        0.99,
      ),
      heapPeakMb: Math.max(...samples.filter((s) => s.phase === 'load').map((s) => s.gateways[i]!.heapMb)),
      socketsPeak: Math.max(...samples.map((s) => s.gateways[i]!.sockets)),
    };
  });
  for (const g of perGateway) {
    checks.push({
      name: `${g.name} RSS trend`,
      pass: g.slopeMbPerMin < 1,
      judged: !short,
      detail: `second half of the load: ${g.slopeMbPerMin.toFixed(2)} MB/min (limit 1)`,
    });
    const near = Math.max(40, g.baselineMb * 0.25);
    checks.push({
      name: `${g.name} RSS back near baseline`,
      pass: g.afterMb - g.baselineMb <= near,
      judged: true,
      detail: `baseline ${g.baselineMb.toFixed(0)} MB, peak ${g.peakMb.toFixed(0)} MB, after ${g.afterMb.toFixed(0)} MB (allowed +${near.toFixed(0)} MB)`,
    });
  }
  const redisSeries = samples.map((s) => s.redisClients);
  const pgSeries = samples.map((s) => s.pgConnections);
  const byKind = Object.fromEntries(
    KINDS.map((k) => {
      const ms = latencies.filter((l) => l.kind === k).map((l) => l.ms);
      return [k, { n: ms.length, p50: +quantile(ms, 0.5).toFixed(1), p99: +quantile(ms, 0.99).toFixed(1), errors: errors.filter((e) => e.kind === k).length }];
    }),
  );
  const all = latencies.map((l) => l.ms);
  const report = {
    generatedAt: new Date().toISOString(),
    mode: short ? 'short' : 'full',
    machine: { cores: cpus().length, loadavg: loadavg().map((x) => +x.toFixed(2)), note: 'shared 2-core machine with other workloads running' },
    settings,
    achieved: {
      exchanges: latencies.length + errors.length,
      perSecond: +((latencies.length + errors.length) / loadS).toFixed(1),
      p50: +quantile(all, 0.5).toFixed(1),
      p99: +quantile(all, 0.99).toFixed(1),
    },
    byKind,
    windows: windows.map((w) => ({ ...w, p99: +w.p99.toFixed(1), p50: +w.p50.toFixed(1) })),
    gateways: perGateway.map((g) => Object.fromEntries(Object.entries(g).map(([k, v]) => [k, typeof v === 'number' ? +v.toFixed(2) : v]))),
    connections: { redisMin: Math.min(...redisSeries), redisMax: Math.max(...redisSeries), pgMin: Math.min(...pgSeries), pgMax: Math.max(...pgSeries) },
    checks,
    errors: errors.slice(0, 20),
    samples,
  };
  for (const c of checks) log(`${c.judged ? (c.pass ? 'PASS' : 'FAIL') : 'INFO'} ${c.name}: ${c.detail}`);
  log(
    `soak: ${report.achieved.exchanges} exchanges (${report.achieved.perSecond}/s), p50 ${report.achieved.p50} ms, p99 ${report.achieved.p99} ms; by kind ${JSON.stringify(byKind)}`,
  );
  log(`connections: Redis ${report.connections.redisMin}..${report.connections.redisMax}, PostgreSQL ${report.connections.pgMin}..${report.connections.pgMax}`);
  if (outDir) {
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'soak.json'), `${JSON.stringify(report, null, 1)}\n`);
    const bands = [{ from: loadFrom, to: loadTo, label: `load ${settings.rate}/s` }];
    const buckets: { x: number; p99: number; p50: number }[] = [];
    for (let t = Math.floor(loadFrom); t < loadTo; t += 10) {
      const ms = latencies.filter((l) => l.t >= t && l.t < t + 10).map((l) => l.ms);
      if (ms.length) buckets.push({ x: t + 5, p99: quantile(ms, 0.99), p50: quantile(ms, 0.5) });
    }
    const svg = lineCharts(`Soak: ${Math.round(loadS)} s at ${settings.rate}/s through nginx over ${settings.replicas} gateways`, [
      {
        title: 'Latency per 10 s',
        unit: 'ms',
        bands,
        series: [
          { label: 'p99', points: buckets.map((b) => ({ x: b.x, y: b.p99 })) },
          { label: 'p50', points: buckets.map((b) => ({ x: b.x, y: b.p50 })) },
        ],
      },
      {
        title: 'Gateway RSS',
        unit: 'MB',
        bands,
        series: gateways.map((g, i) => ({ label: g.name, points: samples.map((s) => ({ x: s.t, y: s.gateways[i]!.rssMb })) })),
      },
      {
        title: 'Gateway heap used',
        unit: 'MB',
        bands,
        series: gateways.map((g, i) => ({ label: g.name, points: samples.map((s) => ({ x: s.t, y: s.gateways[i]!.heapMb })) })),
      },
      {
        title: 'Event-loop lag p99 per second',
        unit: 'ms',
        bands,
        series: gateways.map((g, i) => ({ label: g.name, points: samples.map((s) => ({ x: s.t, y: s.gateways[i]!.lagMs })) })),
      },
      {
        title: 'Open sockets per gateway',
        unit: 'count',
        bands,
        series: gateways.map((g, i) => ({ label: g.name, points: samples.map((s) => ({ x: s.t, y: s.gateways[i]!.sockets })) })),
      },
      {
        title: 'Redis and PostgreSQL client connections',
        unit: 'count',
        bands,
        series: [
          { label: 'Redis', points: samples.map((s) => ({ x: s.t, y: s.redisClients })) },
          { label: 'PostgreSQL', points: samples.map((s) => ({ x: s.t, y: s.pgConnections })) },
        ],
      },
    ]);
    writeFileSync(join(outDir, 'soak.svg'), svg);
    log(`wrote ${join(outDir, 'soak.json')} and soak.svg`);
  }
  const judged = checks.filter((c) => c.judged);
  const passed = judged.filter((c) => c.pass).length;
  const failed = judged.length - passed;
  if (process.env.TEST_SUMMARY_FILE) writeFileSync(process.env.TEST_SUMMARY_FILE, JSON.stringify({ passed, failed, skipped: 0 }));
  log(`soak: ${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`soak: ${err instanceof Error ? err.message : String(err)}`);
    if (process.env.TEST_SUMMARY_FILE) writeFileSync(process.env.TEST_SUMMARY_FILE, JSON.stringify({ passed: 0, failed: 1, skipped: 0 }));
    process.exit(1);
  },
);
