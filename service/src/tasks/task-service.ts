/**
 * Task operations as callers see them, tenant-scoped: create (record first, then the job, so a task
 * is durable before its CreateTaskResult leaves; the job runs the tool, or follows an upstream's own
 * task), get, update (answers to pending input requests),
 * cancel, list, and the DLQ replay. Both protocol generations' endpoints and the admin API use it.
 */
import type { Principal } from '../domain/principal.js';
import type { PolicyTable, ToolPolicy } from './policy.js';
import type { FollowSpec, TaskQueue } from './task-queue.js';
import { inProducerSpan } from './task-spans.js';
import { TERMINAL, TaskNotFoundError, TaskStateError, type TaskRecord, type TaskStore } from './types.js';

/** Defaults a created task gets. */
export interface TaskDefaults {
  readonly ttlMs: number;
  readonly pollIntervalMs: number;
  /** Region recorded on created tasks (REGION): `tasks redrive --region` selects by it. */
  readonly region?: string;
}

/** What `tasks redrive` did. */
export interface RedriveResult {
  /** Task ids whose job was enqueued again. */
  readonly redriven: string[];
  /** Unfinished tasks left alone: their job is in the queue, or a worker runs them now. */
  readonly skipped: number;
  /**
   * Set when `region` selected no unfinished task at all: the regions that do have some (a mistyped
   * region name would otherwise look like "nothing to redrive").
   */
  readonly regionsWithUnfinished?: string[];
}

/** Tenant-scoped task operations. */
export class TaskService {
  constructor(
    readonly store: TaskStore,
    readonly queue: TaskQueue,
    readonly policies: PolicyTable,
    private readonly defaults: TaskDefaults,
    /** Whether a worker runs the task now (its run lease; at-least-once backends). */
    private readonly isRunning: (taskId: string) => Promise<boolean> = async () => false,
  ) {}

  /** Creates the task and enqueues its job; an idempotency key already used returns the first task. */
  async create(
    principal: Principal,
    input: {
      era: 'modern' | 'legacy';
      tool: string;
      arguments: Record<string, unknown>;
      policy: ToolPolicy;
      ttlMs?: number;
      idempotencyKey?: string;
      prefilled?: unknown[];
      follow?: FollowSpec;
    },
  ): Promise<TaskRecord> {
    const ttlMs = Math.min(Math.max(input.ttlMs ?? this.defaults.ttlMs, 1_000), this.defaults.ttlMs);
    const { task, created } = await this.store.create({
      tenantId: principal.tenantId,
      subject: principal.subject,
      era: input.era,
      tool: input.tool,
      arguments: input.arguments,
      ttlMs,
      pollIntervalMs: this.defaults.pollIntervalMs,
      ...(input.idempotencyKey && { idempotencyKey: input.idempotencyKey }),
      ...(input.prefilled && { prefilled: input.prefilled }),
      ...(this.defaults.region && { region: this.defaults.region }),
      job: { policy: { ...input.policy }, ...(input.follow && { follow: { ...input.follow } }) },
    });
    // Also for an existing task (created=false): enqueue is a no-op while its job exists (jobId dedup), and
    // re-adds it if the producer died between the INSERT and the enqueue.
    if (created || !TERMINAL.has(task.status))
      await inProducerSpan(this.queue.backend, task, (trace) =>
        this.queue.enqueue({
          taskId: task.id,
          tenantId: task.tenantId,
          tool: task.tool,
          policy: input.policy,
          ...(input.follow && { follow: input.follow }),
          ...(trace && { trace }),
        }),
      );
    return task;
  }

  /** The caller's live task created with `idempotencyKey`, if any. */
  byIdempotencyKey(principal: Principal, idempotencyKey: string): Promise<TaskRecord | null> {
    return this.store.findByIdempotencyKey(principal.tenantId, idempotencyKey);
  }

  /** The caller's task; another tenant's or an unknown id is the same "unknown task". */
  async get(principal: Principal, taskId: string): Promise<TaskRecord> {
    const task = await this.store.get(taskId);
    if (!task || task.tenantId !== principal.tenantId) throw new TaskNotFoundError(taskId);
    return task;
  }

  /**
   * Cancels a running or waiting task. Returns the cancelled record; a finished task throws
   * TaskStateError (the 2026-07-28 endpoint turns that into its idempotent ack).
   */
  async cancel(principal: Principal, taskId: string): Promise<TaskRecord> {
    const task = await this.get(principal, taskId);
    if (TERMINAL.has(task.status)) throw new TaskStateError(`Task ${taskId} is already ${task.status} and cannot be cancelled`);
    const cancelled = await this.store.transition(taskId, { status: 'cancelled', statusMessage: 'cancelled by the client' });
    if (!cancelled) {
      const now = await this.get(principal, taskId);
      throw new TaskStateError(`Task ${taskId} is already ${now.status} and cannot be cancelled`);
    }
    await this.queue.cancel(taskId);
    return cancelled;
  }

  /** Delivers answers to pending input requests; unknown keys are ignored. */
  async update(principal: Principal, taskId: string, responses: Record<string, unknown>): Promise<TaskRecord> {
    const task = await this.get(principal, taskId);
    const answered = Object.keys(responses).filter((k) => k in task.inputRequests);
    if (answered.length === 0 || TERMINAL.has(task.status)) return task;
    const remaining = Object.keys(task.inputRequests).filter((k) => !answered.includes(k));
    const picked = Object.fromEntries(answered.map((k) => [k, responses[k]]));
    const next = await this.store.transition(taskId, {
      inputResponses: picked,
      removeInputKeys: answered,
      ...(remaining.length === 0 && { status: 'working' as const, statusMessage: 'input received; resuming' }),
    });
    return next ?? task;
  }

  /** The caller's tasks, newest first. */
  list(principal: Principal, cursor?: string, limit = 50): Promise<{ tasks: TaskRecord[]; nextCursor?: string }> {
    return this.store.list(principal.tenantId, { limit, ...(cursor && { cursor }) });
  }

  /** DLQ replay of one task: reopens the record (same id) and moves the job back onto the queue. */
  async replay(taskId: string): Promise<boolean> {
    const letter = await this.queue.getDead(taskId);
    if (!letter) return false;
    await this.store.reopen(taskId);
    return this.queue.replay(taskId);
  }

  /**
   * Re-enqueues every accepted, unfinished task (oldest first) whose job is missing from the queue: after a
   * region failover, a lost Redis, a purged broker. PostgreSQL is the system of record; the job is rebuilt
   * from the task's stored spec (older records: the tool's current policy). On backends that cannot look a
   * job up by id (RabbitMQ, SQS) every such task not running on a worker is enqueued again; a duplicate is
   * harmless (the run lease and the terminal check let it take effect once).
   */
  async redrive(opts: { olderThanMs: number; region?: string; limit?: number }): Promise<RedriveResult> {
    const tasks = await this.store.listUnfinished({ olderThanMs: opts.olderThanMs, limit: opts.limit ?? 10_000, ...(opts.region && { region: opts.region }) });
    const redriven: string[] = [];
    let skipped = 0;
    for (const task of tasks) {
      if ((await this.queue.has(task.id)) === true || (await this.isRunning(task.id))) {
        skipped++;
        continue;
      }
      const policy = (task.job?.policy as ToolPolicy | undefined) ?? this.policies.forTool(task.tool);
      const follow = task.job?.follow as FollowSpec | undefined;
      await this.queue.enqueue({ taskId: task.id, tenantId: task.tenantId, tool: task.tool, policy, ...(follow && { follow }) }, { replace: true });
      redriven.push(task.id);
    }
    if (opts.region && tasks.length === 0) return { redriven, skipped, regionsWithUnfinished: await this.store.unfinishedRegions() };
    return { redriven, skipped };
  }
}
