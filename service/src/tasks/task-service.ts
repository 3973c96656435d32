/**
 * Task operations as callers see them, tenant-scoped: create (record first, then the job, so a task
 * is durable before its CreateTaskResult leaves), createFollowed (an upstream's own task, mirrored), get, update (answers to pending input requests),
 * cancel, list, and the DLQ replay. Both protocol generations' endpoints and the admin API use it.
 */
import type { Principal } from '../domain/principal.js';
import { FollowedTasks, type FollowHooks } from './followed-tasks.js';
import type { PolicyTable, ToolPolicy } from './policy.js';
import type { TaskQueue } from './task-queue.js';
import { TERMINAL, TaskNotFoundError, TaskStateError, type TaskRecord, type TaskStore } from './types.js';

/** What a caller's request says about the task it creates. */
export interface NewTaskInput {
  readonly era: 'modern' | 'legacy';
  readonly tool: string;
  readonly arguments: Record<string, unknown>;
  readonly idempotencyKey?: string;
}

/** Defaults a created task gets. */
export interface TaskDefaults {
  readonly ttlMs: number;
  readonly pollIntervalMs: number;
}

/** Tenant-scoped task operations. */
export class TaskService {
  /** Upstream tasks followed from this replica (createFollowed). */
  readonly followed: FollowedTasks;

  constructor(
    readonly store: TaskStore,
    readonly queue: TaskQueue,
    readonly policies: PolicyTable,
    private readonly defaults: TaskDefaults,
  ) {
    this.followed = new FollowedTasks(store);
  }

  /** Creates the task and enqueues its job; an idempotency key already used returns the first task. */
  async create(principal: Principal, input: NewTaskInput & { policy: ToolPolicy; ttlMs?: number; prefilled?: unknown[] }): Promise<TaskRecord> {
    const { task, created } = await this.record(principal, input);
    // Also for an existing task (created=false): enqueue is a no-op while its job exists (jobId dedup), and
    // re-adds it if the producer died between the INSERT and the enqueue.
    if (created || !TERMINAL.has(task.status)) await this.queue.enqueue({ taskId: task.id, tenantId: task.tenantId, tool: task.tool, policy: input.policy });
    return task;
  }

  /**
   * Creates a task that mirrors an upstream's own task and starts following it on this replica
   * (followed-tasks.ts): no queue job, the upstream runs the work. An idempotency key already used
   * returns the first task, and the upstream task just created for the repeat is cancelled (`follow`
   * runs with an aborted signal).
   */
  async createFollowed(principal: Principal, input: NewTaskInput, follow: (hooks: FollowHooks) => Promise<Record<string, unknown>>): Promise<TaskRecord> {
    const { task, created } = await this.record(principal, input);
    if (created) this.followed.start(task, follow);
    else void follow({ signal: AbortSignal.abort('duplicate'), ask: async () => ({ action: 'cancel' }), onprogress: () => undefined }).catch(() => undefined);
    return task;
  }

  /** Writes the record (TTL capped by the configured one). */
  private record(principal: Principal, input: NewTaskInput & { ttlMs?: number; prefilled?: unknown[] }): Promise<{ task: TaskRecord; created: boolean }> {
    return this.store.create({
      tenantId: principal.tenantId,
      subject: principal.subject,
      era: input.era,
      tool: input.tool,
      arguments: input.arguments,
      ttlMs: Math.min(Math.max(input.ttlMs ?? this.defaults.ttlMs, 1_000), this.defaults.ttlMs),
      pollIntervalMs: this.defaults.pollIntervalMs,
      ...(input.idempotencyKey && { idempotencyKey: input.idempotencyKey }),
      ...(input.prefilled && { prefilled: input.prefilled }),
    });
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
}
