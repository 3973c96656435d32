/**
 * BullMQ adapter of the task queue port (the default backend): the queue `umcp-tasks` and its
 * dead-letter queue `umcp-tasks-dlq` under TASK_QUEUE_PREFIX in Redis. BullMQ provides attempts,
 * exponential backoff with jitter, stalled-job recovery (a crashed worker's job returns once its lock
 * lapses) and jobId dedup (job id = task id, so a duplicate enqueue is a no-op).
 *
 * The DLQ is a second BullMQ queue that no worker consumes: its jobs are parked records that
 * `dlq replay` moves back onto the main queue.
 */
import { DelayedError, Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE } from '../../../../contract/index.js';
import {
  matchesFilter,
  type ConsumeOptions,
  type DeadLetter,
  type DeadLetterFilter,
  type JobHandler,
  type QueueSnapshot,
  type TaskConsumer,
  type TaskJobData,
  type TaskQueue,
} from '../task-queue.js';
import { queueConnection, type CancelPublisher } from './redis.js';

/** BullMQ producer, DLQ administration and consumer factory. */
export class BullmqTaskQueue implements TaskQueue {
  readonly backend = 'bullmq' as const;
  readonly exclusiveDelivery = true;
  readonly queue: Queue<TaskJobData>;
  readonly dlq: Queue<DeadLetter>;
  private readonly connection: Redis;

  constructor(
    private readonly redisUrl: string,
    readonly prefix: string,
    private readonly cancels: CancelPublisher,
    onError: (err: Error) => void = () => undefined,
  ) {
    this.connection = queueConnection(redisUrl, 'umcp-task-producer');
    const connection = this.connection as unknown as ConnectionOptions;
    this.queue = new Queue<TaskJobData>(QUEUE.name, { connection, prefix });
    this.dlq = new Queue<DeadLetter>(QUEUE.deadLetterName, { connection, prefix });
    // Connection errors while Redis is away: the clients reconnect on their own; readiness reports it.
    this.queue.on('error', onError);
    this.dlq.on('error', onError);
  }

  async enqueue(data: TaskJobData, opts: { delayMs?: number; replace?: boolean } = {}): Promise<void> {
    if (opts.replace) {
      const old = await this.queue.getJob(data.taskId);
      if (old && ((await old.isCompleted()) || (await old.isFailed()))) await old.remove().catch(() => undefined);
    }
    await this.queue.add(data.tool, data, {
      jobId: data.taskId,
      attempts: data.policy.attempts,
      backoff: { type: 'exponential', delay: data.policy.backoffMs, jitter: 0.5 },
      removeOnComplete: { age: 3_600, count: 10_000 },
      removeOnFail: { age: 24 * 3_600 },
      ...(opts.delayMs && { delay: opts.delayMs }),
    });
  }

  async cancel(taskId: string): Promise<void> {
    await this.cancels.publish(taskId);
    const job = await this.queue.getJob(taskId);
    // A job that follows an upstream's own task stays: the worker that takes it sees the task cancelled
    // and cancels the upstream task too (nothing else knows the upstream session).
    if (job && !job.data.follow && ((await job.isWaiting()) || (await job.isDelayed()))) await job.remove().catch(() => undefined);
  }

  async has(taskId: string): Promise<boolean> {
    const job = await this.queue.getJob(taskId);
    if (!job) return false;
    const state = await job.getState();
    return state === 'waiting' || state === 'active' || state === 'delayed' || state === 'prioritized' || state === 'waiting-children';
  }

  async listDead(filter: DeadLetterFilter = {}, limit = 1_000): Promise<DeadLetter[]> {
    const jobs = (await this.dlq.getJobs(['waiting'], 0, -1, true)) as Job<DeadLetter>[];
    return jobs
      .map((j) => j.data)
      .filter((d) => !!d && matchesFilter(d, filter))
      .slice(0, limit);
  }

  async getDead(taskId: string): Promise<DeadLetter | undefined> {
    const job = await this.dlq.getJob(taskId);
    return job?.data;
  }

  async deadLetter(letter: DeadLetter): Promise<void> {
    const existing = await this.dlq.getJob(letter.taskId);
    if (existing) await existing.remove().catch(() => undefined);
    await this.dlq.add(letter.tool, letter, { jobId: letter.taskId, removeOnComplete: true });
  }

  async replay(taskId: string): Promise<boolean> {
    const letter = await this.dlq.getJob(taskId);
    if (!letter) return false;
    const old = await this.queue.getJob(taskId);
    if (old) await old.remove();
    const { tenantId, tool, policy, follow } = letter.data;
    await this.enqueue({ taskId, tenantId, tool, policy, ...(follow && { follow }) });
    await letter.remove();
    return true;
  }

  async purge(filter: DeadLetterFilter = {}): Promise<string[]> {
    const letters = await this.listDead(filter, Number.MAX_SAFE_INTEGER);
    for (const l of letters) await (await this.dlq.getJob(l.taskId))?.remove();
    return letters.map((l) => l.taskId);
  }

  async snapshot(now = Date.now()): Promise<QueueSnapshot> {
    const [counts, oldest, dlq] = await Promise.all([
      this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed'),
      this.queue.getJobs(['waiting'], 0, 0, true),
      this.dlq.getJobCountByTypes('waiting'),
    ]);
    const first = oldest[0];
    return {
      waiting: counts['waiting'] ?? 0,
      active: counts['active'] ?? 0,
      delayed: counts['delayed'] ?? 0,
      failed: counts['failed'] ?? 0,
      dlq,
      oldestWaitingAgeSeconds: first ? Math.max(0, (now - first.timestamp) / 1000) : 0,
    };
  }

  consume(handler: JobHandler, opts: ConsumeOptions): TaskConsumer {
    const connection = queueConnection(this.redisUrl, 'umcp-task-worker');
    const worker = new Worker<TaskJobData>(
      QUEUE.name,
      async (job, token) => {
        const outcome = await handler({
          data: job.data,
          attempt: job.attemptsMade + 1,
          progress: (p) => void job.updateProgress(p as object).catch(() => undefined),
        });
        switch (outcome.kind) {
          case 'done':
            return 'done';
          case 'retry':
            throw new Error(outcome.message); // BullMQ applies the job's attempts and backoff
          case 'dead':
            throw new UnrecoverableError(outcome.message);
          case 'requeue':
            // Back to the queue without using up an attempt; another worker (or this one, restarted) runs it.
            await job.moveToDelayed(Date.now() + outcome.delayMs, token);
            throw new DelayedError();
        }
      },
      {
        connection: connection as unknown as ConnectionOptions,
        prefix: this.prefix,
        concurrency: opts.concurrency,
        lockDuration: opts.lockMs,
        stalledInterval: opts.stalledIntervalMs,
        maxStalledCount: 3,
        autorun: false,
      },
    );
    worker.on('error', (err) => opts.onError?.(err));
    return {
      async start() {
        void worker.run().catch((err: unknown) => opts.onError?.(err instanceof Error ? err : new Error(String(err))));
        await worker.waitUntilReady();
      },
      async close() {
        await worker.close();
        connection.disconnect(); // BullMQ leaves a passed-in connection open
      },
    };
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.queue.close(), this.dlq.close()]);
    this.cancels.close();
    this.connection.disconnect();
  }
}
