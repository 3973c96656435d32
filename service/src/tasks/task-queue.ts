/**
 * The producer side of the worker tier: the BullMQ queue (`umcp-tasks`) and its dead-letter queue
 * (`umcp-tasks-dlq`), plus the cancel channel workers listen on. Job id = task id, so a duplicate
 * enqueue of the same task is a no-op (BullMQ jobId dedup) and a replay keeps the task id.
 *
 * The DLQ is a second BullMQ queue that no worker consumes: its jobs are parked records (task id,
 * tool, tenant, error history) that `dlq replay` moves back onto the main queue.
 */
import { Queue, type ConnectionOptions, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { QUEUE } from '../../../contract/index.js';
import type { ToolPolicy } from './policy.js';
import type { FollowSpec } from './ports.js';
import type { AttemptError } from './types.js';

/** Data of a task job. */
export interface TaskJobData {
  readonly taskId: string;
  readonly tenantId: string;
  readonly tool: string;
  readonly policy: ToolPolicy;
  /** Set when the job follows a task the upstream created and runs itself, instead of calling the tool. */
  readonly follow?: FollowSpec;
}

export type { FollowSpec } from './ports.js';

/** A parked (dead-lettered) job. */
export interface DeadLetter {
  readonly taskId: string;
  readonly tenantId: string;
  readonly tool: string;
  readonly policy: ToolPolicy;
  readonly failedAt: string;
  readonly attempts: number;
  readonly errors: AttemptError[];
}

/** Filter of DLQ list/replay/purge. */
export interface DeadLetterFilter {
  readonly tenantId?: string;
  readonly tool?: string;
  readonly taskId?: string;
}

/** Opens a BullMQ connection: commands wait through a Redis restart instead of failing (workers need this). */
export function queueConnection(url: string, name: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: null, connectionName: name, retryStrategy: (n) => Math.min(n * 100, 2_000) });
  redis.on('error', () => undefined); // reconnects on its own; health is reported through /readyz
  return redis;
}

/** Producer + DLQ administration. */
export class TaskQueue {
  readonly queue: Queue<TaskJobData>;
  readonly dlq: Queue<DeadLetter>;
  private readonly publisher: Redis;
  private readonly connection: Redis;

  constructor(
    redisUrl: string,
    readonly prefix: string,
    private readonly cancelChannel: string,
    onError: (err: Error) => void = () => undefined,
  ) {
    this.connection = queueConnection(redisUrl, 'umcp-task-producer');
    const connection = this.connection as unknown as ConnectionOptions;
    this.queue = new Queue<TaskJobData>(QUEUE.name, { connection, prefix });
    this.dlq = new Queue<DeadLetter>(QUEUE.deadLetterName, { connection, prefix });
    this.publisher = queueConnection(redisUrl, 'umcp-task-cancel');
    // Connection errors while Redis is away: the clients reconnect on their own; readiness reports it.
    this.queue.on('error', onError);
    this.dlq.on('error', onError);
  }

  /** Enqueues the task's job (no-op when a job with this task id exists). */
  async enqueue(data: TaskJobData): Promise<void> {
    await this.queue.add(data.tool, data, {
      jobId: data.taskId,
      attempts: data.policy.attempts,
      backoff: { type: 'exponential', delay: data.policy.backoffMs, jitter: 0.5 },
      removeOnComplete: { age: 3_600, count: 10_000 },
      removeOnFail: { age: 24 * 3_600 },
    });
  }

  /** Tells every worker to stop the task's job; removes it from the queue when it has not started (unless it follows an upstream task). */
  async cancel(taskId: string): Promise<void> {
    await this.publisher.publish(this.cancelChannel, taskId);
    const job = await this.queue.getJob(taskId);
    // A job that follows an upstream's own task stays: the worker that takes it sees the task cancelled
    // and cancels the upstream task too (nothing else knows the upstream session).
    if (job && !job.data.follow && ((await job.isWaiting()) || (await job.isDelayed()))) await job.remove().catch(() => undefined);
  }

  /** Dead letters, oldest first, optionally filtered. */
  async listDead(filter: DeadLetterFilter = {}, limit = 1_000): Promise<DeadLetter[]> {
    const jobs = (await this.dlq.getJobs(['waiting'], 0, -1, true)) as Job<DeadLetter>[];
    return jobs
      .map((j) => j.data)
      .filter(
        (d) =>
          !!d &&
          (!filter.tenantId || d.tenantId === filter.tenantId) &&
          (!filter.tool || d.tool === filter.tool) &&
          (!filter.taskId || d.taskId === filter.taskId),
      )
      .slice(0, limit);
  }

  /** One dead letter by task id. */
  async getDead(taskId: string): Promise<DeadLetter | undefined> {
    const job = await this.dlq.getJob(taskId);
    return job?.data;
  }

  /** Parks an exhausted job (idempotent: one DLQ entry per task). */
  async deadLetter(letter: DeadLetter): Promise<void> {
    const existing = await this.dlq.getJob(letter.taskId);
    if (existing) await existing.remove().catch(() => undefined);
    await this.dlq.add(letter.tool, letter, { jobId: letter.taskId, removeOnComplete: true });
  }

  /**
   * Moves a dead letter back onto the main queue under the same job/task id (the caller reopened the
   * task record first). Returns false when there was no such dead letter.
   */
  async replay(taskId: string): Promise<boolean> {
    const letter = await this.dlq.getJob(taskId);
    if (!letter) return false;
    const old = await this.queue.getJob(taskId);
    if (old) await old.remove();
    await this.enqueue({ taskId, tenantId: letter.data.tenantId, tool: letter.data.tool, policy: letter.data.policy });
    await letter.remove();
    return true;
  }

  /** Deletes dead letters matching the filter; returns their task ids. */
  async purge(filter: DeadLetterFilter = {}): Promise<string[]> {
    const letters = await this.listDead(filter, Number.MAX_SAFE_INTEGER);
    for (const l of letters) await (await this.dlq.getJob(l.taskId))?.remove();
    return letters.map((l) => l.taskId);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.queue.close(), this.dlq.close()]);
    this.publisher.disconnect();
    this.connection.disconnect();
  }
}
