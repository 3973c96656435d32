/**
 * The task queue port: what the task tier needs from a queue, whatever carries the jobs. Three adapters
 * implement it (service/src/tasks/queues/): BullMQ on Redis (the default), RabbitMQ (quorum queues) and
 * Amazon SQS, chosen by TASK_QUEUE_BACKEND. PostgreSQL stays the system of record of every task; a queue
 * is transport, so a lost queue is rebuilt from the task records (`tasks redrive`).
 *
 * Job id = task id everywhere: a duplicate delivery of the same task is harmless (the worker takes a
 * per-task run lease and only a non-terminal task runs; its terminal transition is a conditional UPDATE),
 * and a replay keeps the task id. The dead-letter queue holds parked records (task id, tool, tenant,
 * error history) that `dlq replay` moves back onto the main queue.
 */
import type { ToolPolicy } from './policy.js';
import type { FollowSpec } from './ports.js';
import type { AttemptError } from './types.js';
import type { TraceCarrier } from '../log/tracing.js';

export type { FollowSpec } from './ports.js';

/** The queue backends (TASK_QUEUE_BACKEND). */
export const TASK_QUEUE_BACKENDS = ['bullmq', 'rabbitmq', 'sqs'] as const;
export type TaskQueueBackend = (typeof TASK_QUEUE_BACKENDS)[number];

/** Data of a task job. */
export interface TaskJobData {
  readonly taskId: string;
  readonly tenantId: string;
  readonly tool: string;
  readonly policy: ToolPolicy;
  /** Set when the job follows a task the upstream created and runs itself, instead of calling the tool. */
  readonly follow?: FollowSpec;
  /** W3C trace context of the producer span (tracing on): the worker's span joins the caller's trace (task-spans.ts). */
  readonly trace?: TraceCarrier;
}

/** A parked (dead-lettered) job. */
export interface DeadLetter {
  readonly taskId: string;
  readonly tenantId: string;
  readonly tool: string;
  readonly policy: ToolPolicy;
  readonly follow?: FollowSpec;
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

/** The queue's numbers (the same for every gateway and worker: read from the broker). */
export interface QueueSnapshot {
  /** Jobs waiting for a worker. */
  readonly waiting: number;
  /** Jobs being run by a worker (taken, not yet acknowledged). */
  readonly active: number;
  /** Jobs waiting for their retry backoff (or an enqueue delay). */
  readonly delayed: number;
  /** Jobs in BullMQ's failed set of the main queue (0 on the other backends: they keep no such set). */
  readonly failed: number;
  /** Jobs in the dead-letter queue. */
  readonly dlq: number;
  /** Age of the oldest waiting job, seconds (0 when none waits, or when the backend cannot tell). */
  readonly oldestWaitingAgeSeconds: number;
}

/** One delivery of a job to a worker. */
export interface DeliveredJob {
  readonly data: TaskJobData;
  /** 1-based attempt number (a crash redelivery or a shutdown hand-back keeps it). */
  readonly attempt: number;
  /** Best-effort progress report to the queue (BullMQ shows it; the others ignore it). */
  progress?(p: unknown): void;
}

/** What became of one delivery; the adapter acknowledges the message accordingly. */
export type JobOutcome =
  /** Done with it (completed, cancelled, already terminal, or dead-lettered by the worker). */
  | { readonly kind: 'done' }
  /** Failed attempt: run again after `delayMs` as attempt + 1. */
  | { readonly kind: 'retry'; readonly delayMs: number; readonly message: string }
  /** Last attempt failed: the worker parked it in the DLQ already. */
  | { readonly kind: 'dead'; readonly message: string }
  /** Not run (shutdown, or another worker holds the task): back to the queue after `delayMs`, attempt unchanged. */
  | { readonly kind: 'requeue'; readonly delayMs: number };

/** Runs one delivery. */
export type JobHandler = (job: DeliveredJob) => Promise<JobOutcome>;

/** Consumer settings. */
export interface ConsumeOptions {
  readonly concurrency: number;
  /** How long a taken job stays with a worker that stops heartbeating (crash), ms. */
  readonly lockMs: number;
  /** BullMQ: how often workers look for stalled jobs, ms. */
  readonly stalledIntervalMs: number;
  readonly onError?: (err: Error) => void;
}

/** A running consumer. */
export interface TaskConsumer {
  /** Starts taking jobs; resolves once consuming. */
  start(): Promise<void>;
  /** Takes no new jobs; resolves when the running handlers have returned and their outcomes are acknowledged. */
  close(): Promise<void>;
}

/** The task queue port. */
export interface TaskQueue {
  readonly backend: TaskQueueBackend;
  /**
   * True when the queue itself never hands one job to two workers at once (BullMQ's job lock). The others
   * deliver at least once, so the worker guards each run with a per-task lease.
   */
  readonly exclusiveDelivery: boolean;
  /**
   * Enqueues the task's job (BullMQ: no-op while a job with this task id exists), after `delayMs` when given.
   * `replace`: a finished (completed or failed) job left under this task id does not block it (redrive).
   */
  enqueue(data: TaskJobData, opts?: { delayMs?: number; replace?: boolean }): Promise<void>;
  /** Removes the task's job from the queue when it has not started and the backend can (BullMQ); the worker skips cancelled tasks anyway. */
  cancel(taskId: string): Promise<void>;
  /** Whether the task's job is in the queue (waiting, delayed or running); undefined when the backend cannot look a job up by id. */
  has(taskId: string): Promise<boolean | undefined>;
  /** Dead letters, oldest first, one per task, optionally filtered. */
  listDead(filter?: DeadLetterFilter, limit?: number): Promise<DeadLetter[]>;
  /** One dead letter by task id. */
  getDead(taskId: string): Promise<DeadLetter | undefined>;
  /** Parks an exhausted job (one DLQ entry per task as listed). */
  deadLetter(letter: DeadLetter): Promise<void>;
  /** Moves a dead letter back onto the main queue under the same task id; false when there was none. */
  replay(taskId: string): Promise<boolean>;
  /** Deletes dead letters matching the filter; returns their task ids. */
  purge(filter?: DeadLetterFilter): Promise<string[]>;
  /** The queue's numbers; rejects when the broker cannot be read. */
  snapshot(): Promise<QueueSnapshot>;
  /** A consumer running `handler` for each delivered job. */
  consume(handler: JobHandler, opts: ConsumeOptions): TaskConsumer;
  close(): Promise<void>;
}

/**
 * The queue's broker cannot be used (unreachable, login refused, unknown vhost...): the message says which
 * broker (never its credentials) and why, as its client last reported it.
 */
export class QueueUnavailableError extends Error {
  override readonly name = 'QueueUnavailableError';
}

/** Matches a dead letter against a filter. */
export function matchesFilter(d: DeadLetter, filter: DeadLetterFilter): boolean {
  return (!filter.tenantId || d.tenantId === filter.tenantId) && (!filter.tool || d.tool === filter.tool) && (!filter.taskId || d.taskId === filter.taskId);
}

/** Exponential backoff with jitter (the delay before attempt `attempt + 1`): base * 2^(attempt-1), minus up to half of it at random. */
export function backoffDelay(policy: Pick<ToolPolicy, 'backoffMs'>, attempt: number, random: () => number = Math.random): number {
  const full = policy.backoffMs * 2 ** Math.max(0, attempt - 1);
  return Math.round(full * (1 - 0.5 * random()));
}
