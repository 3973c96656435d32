/**
 * The task model shared by the gateway side (MCP endpoints, producer) and the worker tier: records,
 * statuses, the store port and the errors both sides map to protocol errors.
 */

/** Task statuses (identical names in the 2025-11-25 utility and the 2026-07-28 extension). */
export type TaskStatus = 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled';

/** Statuses after which nothing changes any more. */
export const TERMINAL: ReadonlySet<TaskStatus> = new Set(['completed', 'failed', 'cancelled']);

/** A pending server-to-client request of a task (`elicitation/create`, ...). */
export interface InputRequest {
  readonly method: string;
  readonly params: Record<string, unknown>;
}

/** One failed attempt, kept for the DLQ. */
export interface AttemptError {
  readonly attempt: number;
  readonly at: string;
  readonly message: string;
  readonly code?: number;
}

/** The durable task record. */
export interface TaskRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly subject: string;
  readonly era: 'modern' | 'legacy';
  readonly tool: string;
  readonly arguments: Record<string, unknown>;
  readonly status: TaskStatus;
  readonly statusMessage: string | null;
  readonly result: Record<string, unknown> | null;
  readonly error: { code: number; message: string; data?: unknown } | null;
  readonly inputRequests: Record<string, InputRequest>;
  readonly inputResponses: Record<string, unknown>;
  readonly prefilled: unknown[];
  readonly idempotencyKey: string | null;
  readonly errorHistory: AttemptError[];
  readonly runs: number;
  readonly ttlMs: number;
  readonly pollIntervalMs: number;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly expiresAt: string;
  /** Region whose gateway accepted the task (REGION); null on records from before issue 19. */
  readonly region?: string | null;
  /** The job spec (policy, followed upstream task) `tasks redrive` re-enqueues; null on older records. */
  readonly job?: TaskJobSpec | null;
}

/** What a task's queue job carries besides the ids (stored with the task for `tasks redrive`). */
export interface TaskJobSpec {
  readonly policy?: Record<string, unknown>;
  readonly follow?: Record<string, unknown>;
}

/** What creating a task needs. */
export interface NewTask {
  readonly tenantId: string;
  readonly subject: string;
  readonly era: 'modern' | 'legacy';
  readonly tool: string;
  readonly arguments: Record<string, unknown>;
  readonly ttlMs: number;
  readonly pollIntervalMs: number;
  readonly idempotencyKey?: string;
  readonly prefilled?: unknown[];
  readonly region?: string;
  readonly job?: TaskJobSpec;
}

/** A status transition; `from` restricts which current statuses it applies to. */
export interface TaskTransition {
  readonly status?: TaskStatus;
  readonly statusMessage?: string | null;
  readonly result?: Record<string, unknown>;
  readonly error?: { code: number; message: string; data?: unknown };
  /** Merged into the pending requests. */
  readonly inputRequests?: Record<string, InputRequest>;
  /** Removed from the pending requests (they were answered). */
  readonly removeInputKeys?: readonly string[];
  /** Merged into the answers. */
  readonly inputResponses?: Record<string, unknown>;
  readonly appendError?: AttemptError;
  readonly incrementRuns?: boolean;
  /** Apply only when the current status is one of these. @defaultValue the non-terminal statuses */
  readonly from?: readonly TaskStatus[];
}

/** Task persistence (PostgreSQL record + Redis status cache), in domain verbs. */
export interface TaskStore {
  /** Creates the task; with an idempotency key already used by the tenant, returns that task (`created: false`). */
  create(task: NewTask): Promise<{ task: TaskRecord; created: boolean }>;
  /** Reads through the cache; null when unknown or expired. */
  get(id: string): Promise<TaskRecord | null>;
  /** The tenant's live task created with `idempotencyKey`, if any (read-your-writes). */
  findByIdempotencyKey(tenantId: string, idempotencyKey: string): Promise<TaskRecord | null>;
  /** Reads the durable record (bypasses the cache). */
  getFresh(id: string): Promise<TaskRecord | null>;
  /** Applies the transition when the status allows it; returns the new record or null (not applied). */
  transition(id: string, change: TaskTransition): Promise<TaskRecord | null>;
  /** One tenant's tasks, newest first. */
  list(tenantId: string, opts: { limit: number; cursor?: string }): Promise<{ tasks: TaskRecord[]; nextCursor?: string }>;
  /** Deletes expired tasks; returns how many. */
  sweep(): Promise<number>;
  /** Reverts a failed task to `working` for a replay (keeps its id and history). */
  reopen(id: string): Promise<TaskRecord | null>;
  /** Unfinished (working, input_required), unexpired tasks last changed before `olderThanMs` ago, oldest first, on every shard. */
  listUnfinished(opts: { olderThanMs: number; region?: string; limit: number }): Promise<TaskRecord[]>;
  /** The regions that accepted the unfinished, unexpired tasks (tasks without a region are left out), sorted. */
  unfinishedRegions(): Promise<string[]>;
}

/** The task does not exist or belongs to another tenant (never says which). */
export class TaskNotFoundError extends Error {
  constructor(readonly taskId: string) {
    super(`Unknown task id: ${taskId}`);
    this.name = 'TaskNotFoundError';
  }
}

/** A tasks/list cursor this server did not hand out (or one mangled on the way back). */
export class InvalidTaskCursorError extends Error {
  constructor() {
    super('Invalid cursor: pass the nextCursor of a previous tasks/list answer unchanged, or no cursor for the first page');
    this.name = 'InvalidTaskCursorError';
  }
}

/** The operation is not allowed in the task's current status (e.g. cancel of a finished task). */
export class TaskStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TaskStateError';
  }
}
