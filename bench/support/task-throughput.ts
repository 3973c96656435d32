/**
 * End-to-end throughput of no-op tasks, shared by bench/tasks.ts and the pipeline bench: a bare BullMQ
 * producer/consumer (the baseline: no-op processor on the same Redis) and the platform's task pipeline
 * (`diagnostics.sleep {ms: 0}` as a task: tools/call -> PostgreSQL record + Redis cache -> BullMQ ->
 * worker -> result stored), both driven by `concurrency` producers that each await their submission.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { modernCall } from '../../test/service/tasks/support.js';

/** `n` submissions from `concurrency` producers, each awaiting its own before the next; `submit` gets the 1-based number. */
export async function produce(n: number, concurrency: number, submit: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await submit(++next);
    }),
  );
}

/** Jobs/s of `n` no-op jobs through bare BullMQ: `consumers` workers of `workerConcurrency` each, on a prefix of their own. */
export async function bareBullmq(opts: { redisUrl: string; n: number; concurrency: number; consumers: number; workerConcurrency: number }): Promise<number> {
  const prefix = `umcp-bench-${process.pid}-${Date.now()}-${opts.consumers}`;
  const conn = () => new Redis(opts.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('bare', { connection: conn(), prefix });
  let done = 0;
  const workers = Array.from({ length: opts.consumers }, () => {
    const w = new Worker('bare', async () => 'ok', { connection: conn(), prefix, concurrency: opts.workerConcurrency });
    w.on('completed', () => done++);
    return w;
  });
  try {
    await Promise.all(workers.map((w) => w.waitUntilReady()));
    const started = performance.now();
    await produce(opts.n, opts.concurrency, (i) => queue.add('noop', { i }, { removeOnComplete: true }));
    while (done < opts.n) await new Promise((r) => setTimeout(r, 5));
    return opts.n / ((performance.now() - started) / 1000);
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
}

/** Result of one task pipeline run. */
export interface TaskPipelineRate {
  /** Tasks/s from the first submission to the last completion. */
  tasksPerS: number;
  /** Tasks/s of the create phase alone (every tools/call answered). */
  createPerS: number;
}

const count = async (db: pg.Client, where: string) => Number((await db.query(`SELECT count(*) FROM tasks WHERE ${where}`)).rows[0].count);
const sleepTask = (mcpUrl: string, key: string) => modernCall(mcpUrl, key, 'tools/call', { name: 'diagnostics.sleep', arguments: { ms: 0 } });

/**
 * Runs `n` no-op tasks through a running gateway (`mcpUrl`, tenant `key` with the diagnostics toolset)
 * and its workers, on the database at `dbUrl`; 20 warm-up tasks first (not counted, then deleted).
 */
export async function taskPipeline(opts: {
  mcpUrl: string;
  key: string;
  dbUrl: string;
  n: number;
  concurrency: number;
  timeoutMs?: number;
}): Promise<TaskPipelineRate> {
  const db = new pg.Client({ connectionString: opts.dbUrl });
  await db.connect();
  try {
    await Promise.all(Array.from({ length: 20 }, () => sleepTask(opts.mcpUrl, opts.key)));
    const warm = Date.now() + 30_000;
    while ((await count(db, "status <> 'completed'")) > 0 && Date.now() < warm) await new Promise((r) => setTimeout(r, 50));
    await db.query('DELETE FROM tasks');
    const started = performance.now();
    await produce(opts.n, opts.concurrency, () => sleepTask(opts.mcpUrl, opts.key));
    const createS = (performance.now() - started) / 1000;
    const deadline = Date.now() + (opts.timeoutMs ?? 300_000);
    while ((await count(db, "status = 'completed'")) < opts.n) {
      if (Date.now() > deadline) throw new Error(`tasks did not complete within ${(opts.timeoutMs ?? 300_000) / 1000} s`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return { tasksPerS: opts.n / ((performance.now() - started) / 1000), createPerS: opts.n / createS };
  } finally {
    await db.end().catch(() => undefined);
  }
}
