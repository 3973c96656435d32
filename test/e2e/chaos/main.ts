/**
 * `npm run chaos`: starts the local cluster (3 replicas, 2 workers), runs a 1,000-call mixed workload
 * while it injects the faults of faults.ts, prints the report and writes it to bench/results/chaos.json.
 * CHAOS_CALLS, CHAOS_CONCURRENCY and CHAOS_PACE_MS override the size (defaults 1000 calls, 8 lanes, starts
 * spread over 90 s); the run is bounded to 10 min.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, startLocalCluster } from '../../../service/src/local/cluster/local-cluster.js';
import { CHAOS_ENV, runChaos, summarize } from './run-chaos.js';

async function main(): Promise<number> {
  const calls = Number(process.env.CHAOS_CALLS ?? 1000);
  const concurrency = Number(process.env.CHAOS_CONCURRENCY ?? 8);
  const cluster = await startLocalCluster({ replicas: 3, workers: 2, env: CHAOS_ENV });
  const stop = () => void cluster.stop().then(() => process.exit(130));
  process.once('SIGINT', stop);
  try {
    process.stderr.write(`chaos: ${calls} calls, ${concurrency} lanes through ${cluster.mcpUrl}\n`);
    const report = await runChaos(cluster, { calls, concurrency, deadlineMs: 600_000, paceMs: Number(process.env.CHAOS_PACE_MS ?? 90_000) });
    const out = join(REPO_ROOT, 'bench', 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'chaos.json'), `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`${summarize(report).join('\n')}\nwritten: bench/results/chaos.json\n`);
    return report.verdict.pass ? 0 : 1;
  } finally {
    await cluster.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`chaos failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
