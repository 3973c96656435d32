/**
 * Tasks bench, one run: end-to-end tasks/s of a no-op task (`diagnostics.sleep {ms: 0}` as a task:
 * tools/call -> PostgreSQL record + Redis cache -> BullMQ -> worker child process -> result stored) with
 * 1 and 2 workers, next to a bare BullMQ producer/consumer (no-op processor, same Redis, same worker
 * concurrency, 1 and 2 consumers) measured in the same run; prints both and the ratio.
 * Uses the test PostgreSQL/Redis (TEST_DATABASE_URL / TEST_REDIS_URL or 127.0.0.1); the gateway runs in
 * this process (tsx). `npm run bench` measures the 1-worker row against the compiled gateway.
 * `npx tsx bench/tasks.ts [tasks] [client concurrency]`
 */
import { testServiceUrls } from '../test/support/platform-db.js';
import { createTaskEnv } from '../test/service/tasks/support.js';
import { bareBullmq, taskPipeline, type TaskPipelineRate } from './support/task-throughput.js';

const N = Number(process.argv[2] ?? 400);
const CONCURRENCY = Number(process.argv[3] ?? 16);
const WORKER_CONCURRENCY = 8;

async function pipeline(workers: number): Promise<TaskPipelineRate> {
  const env = await createTaskEnv({ WORKER_CONCURRENCY: String(WORKER_CONCURRENCY), RATE_LIMIT_PER_MINUTE: '0' });
  try {
    const gw = await env.startGateway();
    const tenant = await env.tenant('bench');
    for (let i = 0; i < workers; i++) await env.startWorker();
    return await taskPipeline({ mcpUrl: gw.mcpUrl, key: tenant.key, dbUrl: env.db.url, n: N, concurrency: CONCURRENCY });
  } finally {
    await env.cleanup();
  }
}

const rows: string[] = [];
for (const n of [1, 2]) {
  const baseline = await bareBullmq({
    redisUrl: testServiceUrls().redisUrl,
    n: N,
    concurrency: CONCURRENCY,
    consumers: n,
    workerConcurrency: WORKER_CONCURRENCY,
  });
  const ours = await pipeline(n);
  rows.push(
    `${n} worker${n > 1 ? 's' : ' '}  pipeline ${ours.tasksPerS.toFixed(1).padStart(8)} tasks/s   bare BullMQ ${baseline.toFixed(1).padStart(8)} jobs/s   ratio ${(ours.tasksPerS / baseline).toFixed(3)}   (create phase alone: ${ours.createPerS.toFixed(1)} tasks/s)`,
  );
}
console.log(`\ntasks bench: ${N} no-op tasks, ${CONCURRENCY} concurrent clients, worker concurrency ${WORKER_CONCURRENCY}`);
for (const r of rows) console.log(r);
process.exit(0);
