/**
 * Tasks bench, one run: end-to-end tasks/s of a no-op task (`diagnostics.sleep {ms: 0}` as a task:
 * tools/call -> PostgreSQL record + Redis cache -> BullMQ -> worker child process -> result stored) with
 * 1 and 2 workers, next to a bare BullMQ producer/consumer (no-op processor, same Redis, same worker
 * concurrency, 1 and 2 consumers) measured in the same run; prints both and the ratio.
 * Uses the test PostgreSQL/Redis (TEST_DATABASE_URL / TEST_REDIS_URL or 127.0.0.1).
 * `npx tsx bench/tasks.ts [tasks] [client concurrency]`
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { testServiceUrls } from '../test/support/platform-db.js';
import { createTaskEnv, modernCall } from '../test/service/tasks/support.js';

const N = Number(process.argv[2] ?? 400);
const CONCURRENCY = Number(process.argv[3] ?? 16);
const WORKER_CONCURRENCY = 8;

/** Seconds the pipeline's create phase (all tools/call answered) took, by worker count. */
const createPhase = new Map<number, number>();

/** N submissions from CONCURRENCY producers, each awaiting its own before the next; `submit` gets the 1-based number. */
async function produce(submit: (n: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) await submit(++next);
    }),
  );
}

async function pipeline(workers: number): Promise<number> {
  const env = await createTaskEnv({ WORKER_CONCURRENCY: String(WORKER_CONCURRENCY), RATE_LIMIT_PER_MINUTE: '0' });
  const db = new pg.Client({ connectionString: env.db.url });
  try {
    const gw = await env.startGateway();
    const tenant = await env.tenant('bench');
    for (let i = 0; i < workers; i++) await env.startWorker();
    await db.connect();
    // Warm-up (connections, JIT), not counted.
    await Promise.all(Array.from({ length: 20 }, () => modernCall(gw.mcpUrl, tenant.key, 'tools/call', { name: 'diagnostics.sleep', arguments: { ms: 0 } })));
    const warm = Date.now() + 30_000;
    while (Number((await db.query("SELECT count(*) FROM tasks WHERE status <> 'completed'")).rows[0].count) > 0 && Date.now() < warm) await new Promise((r) => setTimeout(r, 50));
    await db.query('DELETE FROM tasks');

    const started = performance.now();
    await produce(() => modernCall(gw.mcpUrl, tenant.key, 'tools/call', { name: 'diagnostics.sleep', arguments: { ms: 0 } }));
    createPhase.set(workers, (performance.now() - started) / 1000);
    const deadline = Date.now() + 300_000;
    while (Number((await db.query("SELECT count(*) FROM tasks WHERE status = 'completed'")).rows[0].count) < N) {
      if (Date.now() > deadline) throw new Error('tasks did not complete within 300 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    return N / ((performance.now() - started) / 1000);
  } finally {
    await db.end().catch(() => undefined);
    await env.cleanup();
  }
}

async function bare(consumers: number): Promise<number> {
  const url = testServiceUrls().redisUrl;
  const prefix = `umcp-bench-${process.pid}-${consumers}`;
  const conn = () => new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue('bare', { connection: conn(), prefix });
  let done = 0;
  const workers = Array.from({ length: consumers }, () => {
    const w = new Worker('bare', async () => 'ok', { connection: conn(), prefix, concurrency: WORKER_CONCURRENCY });
    w.on('completed', () => done++);
    return w;
  });
  try {
    await Promise.all(workers.map((w) => w.waitUntilReady()));
    const started = performance.now();
    await produce((n) => queue.add('noop', { n }, { removeOnComplete: true }));
    while (done < N) await new Promise((r) => setTimeout(r, 5));
    return N / ((performance.now() - started) / 1000);
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
}

const rows: string[] = [];
for (const n of [1, 2]) {
  const baseline = await bare(n);
  const ours = await pipeline(n);
  rows.push(`${n} worker${n > 1 ? 's' : ' '}  pipeline ${ours.toFixed(1).padStart(8)} tasks/s   bare BullMQ ${baseline.toFixed(1).padStart(8)} jobs/s   ratio ${(ours / baseline).toFixed(3)}   (create phase alone: ${(N / createPhase.get(n)!).toFixed(1)} tasks/s)`);
}
console.log(`\ntasks bench: ${N} no-op tasks, ${CONCURRENCY} concurrent clients, worker concurrency ${WORKER_CONCURRENCY}`);
for (const r of rows) console.log(r);
process.exit(0);
