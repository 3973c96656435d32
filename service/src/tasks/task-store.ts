/**
 * TaskStore adapter: the record lives in PostgreSQL (source of truth, survives a Redis loss), its current
 * state is cached in Redis under `<prefix>task:<id>` for the polling traffic (tasks/get every
 * pollIntervalMs from every client). Every write goes to PostgreSQL first and then refreshes the cache
 * with a version check (Lua), so a slower writer can never put an older state back into the cache.
 *
 * Task rows are tenant data: with a routing TenantDb every query runs on the tenant's shard (writes under
 * the tenant fence, so a `tenants move` loses none). Calls that name only a task id find its tenant in
 * this process's memory, the Redis status cache, or else by asking every shard (a task's tenant never
 * changes, so any copy answers). The expiry sweep runs on every shard.
 */
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { z } from 'zod';
import type { Queryable } from '../store/pg/routing/role-pool.js';
import { TenantDb } from '../store/pg/routing/tenant-db.js';
import { InvalidTaskCursorError, TERMINAL, type NewTask, type TaskRecord, type TaskStore, type TaskTransition } from './types.js';

const Row = z.object({
  id: z.string(),
  tenant_id: z.string(),
  subject: z.string(),
  era: z.enum(['modern', 'legacy']),
  tool: z.string(),
  arguments: z.record(z.string(), z.unknown()),
  status: z.enum(['working', 'input_required', 'completed', 'failed', 'cancelled']),
  status_message: z.string().nullable(),
  result: z.record(z.string(), z.unknown()).nullable(),
  error: z.object({ code: z.number(), message: z.string(), data: z.unknown().optional() }).nullable(),
  input_requests: z.record(z.string(), z.object({ method: z.string(), params: z.record(z.string(), z.unknown()) })),
  input_responses: z.record(z.string(), z.unknown()),
  prefilled: z.array(z.unknown()),
  idempotency_key: z.string().nullable(),
  error_history: z.array(z.object({ attempt: z.number(), at: z.string(), message: z.string(), code: z.number().optional() })),
  runs: z.number(),
  ttl_ms: z.number(),
  poll_interval_ms: z.number(),
  version: z.number(),
  created_at: z.date(),
  updated_at: z.date(),
  expires_at: z.date(),
  region: z.string().nullable().optional(),
  job: z
    .object({ policy: z.record(z.string(), z.unknown()).optional(), follow: z.record(z.string(), z.unknown()).optional() })
    .nullable()
    .optional(),
});

function toRecord(raw: unknown): TaskRecord {
  const r = Row.parse(raw);
  return {
    id: r.id,
    tenantId: r.tenant_id,
    subject: r.subject,
    era: r.era,
    tool: r.tool,
    arguments: r.arguments,
    status: r.status,
    statusMessage: r.status_message,
    result: r.result,
    error: r.error,
    inputRequests: r.input_requests,
    inputResponses: r.input_responses,
    prefilled: r.prefilled,
    idempotencyKey: r.idempotency_key,
    errorHistory: r.error_history,
    runs: r.runs,
    ttlMs: r.ttl_ms,
    pollIntervalMs: r.poll_interval_ms,
    version: r.version,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    expiresAt: r.expires_at.toISOString(),
    region: r.region ?? null,
    job: r.job ?? null,
  };
}

// KEYS[1] = cache key; ARGV = json, version, ttl ms. Writes only when newer than what is cached.
const SET_IF_NEWER = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local v = tonumber(string.match(cur, '"version":(%d+)'))
  if v and v > tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1`;

const NON_TERMINAL = ['working', 'input_required'] as const;
/** Longest an active task's cached state may lag PostgreSQL after a failed cache refresh, ms. */
const ACTIVE_CACHE_MS = 3_000;
/** Task id -> tenant entries remembered in-process (ids are random; the oldest are dropped first). */
const TENANT_MEMO_MAX = 10_000;

/** PostgreSQL + Redis implementation of {@link TaskStore}. */
export class PgTaskStore implements TaskStore {
  private readonly db: TenantDb;
  private readonly tenantOfTask = new Map<string, string>();

  constructor(
    pool: pg.Pool,
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    /** Routes each tenant's tasks to its shard; without it everything runs on `pool`. */
    db?: TenantDb,
  ) {
    this.db = db ?? new TenantDb(pool);
  }

  private remember(id: string, tenantId: string): void {
    if (this.tenantOfTask.size >= TENANT_MEMO_MAX) this.tenantOfTask.delete(this.tenantOfTask.keys().next().value!);
    this.tenantOfTask.set(id, tenantId);
  }

  /** The task's tenant, or null when no shard has the task. */
  private async tenantOf(id: string): Promise<string | null> {
    const known = this.tenantOfTask.get(id);
    if (known) return known;
    const cached = await this.redis.get(this.key(id)).catch(() => null);
    const fromCache = cached ? (JSON.parse(cached) as Partial<TaskRecord>).tenantId : undefined;
    const found =
      fromCache ??
      (await this.db.eachShard(async (q) => (await q.query<{ tenant_id: string }>('SELECT tenant_id FROM tasks WHERE id = $1', [id])).rows[0]?.tenant_id)).find(
        (t) => t !== undefined,
      );
    if (!found) return null;
    this.remember(id, found);
    return found;
  }

  /** Runs `fn` on the task's tenant's shard (writer or reader); null when the task is unknown. */
  private async onTask(id: string, mode: 'write' | 'read', fn: (q: Queryable) => Promise<TaskRecord | null>): Promise<TaskRecord | null> {
    if (!this.db.routed) return fn(this.db.control);
    const tenantId = await this.tenantOf(id);
    if (!tenantId) return null;
    return mode === 'write' ? this.db.write(tenantId, fn) : this.db.read(tenantId, fn);
  }

  private key(id: string): string {
    return `${this.keyPrefix}task:${id}`;
  }

  private async cache(task: TaskRecord): Promise<void> {
    // A refresh can fail while Redis is away (the PostgreSQL write stands): active states are cached only
    // briefly so such a miss heals within ACTIVE_CACHE_MS; terminal states do not change and live to expiry.
    const untilExpiry = Date.parse(task.expiresAt) - Date.now();
    const ttl = Math.max(1, TERMINAL.has(task.status) ? untilExpiry : Math.min(untilExpiry, ACTIVE_CACHE_MS));
    // The cache is an optimisation: a Redis failure must not fail a write that PostgreSQL accepted.
    await this.redis.eval(SET_IF_NEWER, 1, this.key(task.id), JSON.stringify(task), String(task.version), String(ttl)).catch(() => undefined);
  }

  async create(t: NewTask): Promise<{ task: TaskRecord; created: boolean }> {
    const id = crypto.randomUUID();
    const out = await this.db.write(t.tenantId, async (q) => {
      const { rows } = await q.query(
        `INSERT INTO tasks (id, tenant_id, subject, era, tool, arguments, status, idempotency_key, prefilled, ttl_ms, poll_interval_ms, expires_at, region, job)
       VALUES ($1, $2, $3, $4, $5, $6, 'working', $7, $8, $9::int, $10::int, now() + $9::int * interval '1 millisecond', $11, $12)
       ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
       RETURNING *`,
        [
          id,
          t.tenantId,
          t.subject,
          t.era,
          t.tool,
          JSON.stringify(t.arguments),
          t.idempotencyKey ?? null,
          JSON.stringify(t.prefilled ?? []),
          t.ttlMs,
          t.pollIntervalMs,
          t.region ?? null,
          t.job ? JSON.stringify(t.job) : null,
        ],
      );
      if (rows[0]) return { task: toRecord(rows[0]), created: true };
      const existing = await q.query('SELECT * FROM tasks WHERE tenant_id = $1 AND idempotency_key = $2', [t.tenantId, t.idempotencyKey]);
      if (!existing.rows[0]) throw new Error('task idempotency conflict but no existing task found');
      return { task: toRecord(existing.rows[0]), created: false };
    });
    this.remember(out.task.id, t.tenantId);
    if (out.created) await this.cache(out.task);
    return out;
  }

  async get(id: string): Promise<TaskRecord | null> {
    const cached = await this.redis.get(this.key(id)).catch(() => null);
    if (cached) {
      const task = JSON.parse(cached) as TaskRecord;
      return Date.parse(task.expiresAt) > Date.now() ? task : null;
    }
    const task = await this.getFresh(id);
    if (task) await this.cache(task);
    return task;
  }

  async findByIdempotencyKey(tenantId: string, idempotencyKey: string): Promise<TaskRecord | null> {
    return this.db.read(tenantId, async (q) => {
      const { rows } = await q.query('SELECT * FROM tasks WHERE tenant_id = $1 AND idempotency_key = $2 AND expires_at > now()', [tenantId, idempotencyKey]);
      return rows[0] ? toRecord(rows[0]) : null;
    });
  }

  async getFresh(id: string): Promise<TaskRecord | null> {
    return this.onTask(id, 'read', async (q) => {
      const { rows } = await q.query('SELECT * FROM tasks WHERE id = $1 AND expires_at > now()', [id]);
      return rows[0] ? toRecord(rows[0]) : null;
    });
  }

  async transition(id: string, c: TaskTransition): Promise<TaskRecord | null> {
    const sets: string[] = ['version = version + 1', 'updated_at = now()'];
    const args: unknown[] = [id, c.from ?? NON_TERMINAL];
    const add = (sql: string, value: unknown) => {
      args.push(value);
      sets.push(sql.replace('?', `$${args.length}`));
    };
    if (c.status) {
      add('status = ?', c.status);
      if (c.status === 'completed' || c.status === 'failed' || c.status === 'cancelled') sets.push('completed_at = now()');
    }
    if (c.statusMessage !== undefined) add('status_message = ?', c.statusMessage);
    if (c.result) add('result = ?', JSON.stringify(c.result));
    if (c.error) add('error = ?', JSON.stringify(c.error));
    if (c.inputRequests) add('input_requests = input_requests || ?::jsonb', JSON.stringify(c.inputRequests));
    if (c.removeInputKeys?.length) add('input_requests = input_requests - ?::text[]', c.removeInputKeys);
    if (c.inputResponses) add('input_responses = input_responses || ?::jsonb', JSON.stringify(c.inputResponses));
    if (c.appendError) add('error_history = error_history || ?::jsonb', JSON.stringify([c.appendError]));
    if (c.incrementRuns) sets.push('runs = runs + 1');
    const task = await this.onTask(id, 'write', async (q) => {
      const { rows } = await q.query(`UPDATE tasks SET ${sets.join(', ')} WHERE id = $1 AND status = ANY($2) AND expires_at > now() RETURNING *`, args);
      return rows[0] ? toRecord(rows[0]) : null;
    });
    if (!task) return null;
    await this.cache(task);
    return task;
  }

  async list(tenantId: string, opts: { limit: number; cursor?: string }): Promise<{ tasks: TaskRecord[]; nextCursor?: string }> {
    const args: unknown[] = [tenantId, opts.limit + 1];
    let where = 'tenant_id = $1 AND expires_at > now()';
    if (opts.cursor) {
      const { at, id } = decodeTaskCursor(opts.cursor);
      args.push(at, id);
      where += ' AND (created_at, id) < ($3::timestamptz, $4)';
    }
    const { rows } = await this.db.read(tenantId, (q) => q.query(`SELECT * FROM tasks WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT $2`, args));
    const tasks = rows.slice(0, opts.limit).map(toRecord);
    const last = tasks.at(-1);
    return rows.length > opts.limit && last ? { tasks, nextCursor: encodeTaskCursor(last.createdAt, last.id) } : { tasks };
  }

  async sweep(): Promise<number> {
    const deleted = await this.db.eachShard(async (q) => (await q.query('DELETE FROM tasks WHERE expires_at <= now()')).rowCount ?? 0);
    return deleted.reduce((a, b) => a + b, 0);
  }

  async reopen(id: string): Promise<TaskRecord | null> {
    const task = await this.onTask(id, 'write', async (q) => {
      const { rows } = await q.query(
        `UPDATE tasks SET status = 'working', status_message = 'replayed from the dead-letter queue', error = NULL, completed_at = NULL,
           version = version + 1, updated_at = now(), expires_at = greatest(expires_at, now() + ttl_ms * interval '1 millisecond')
         WHERE id = $1 AND status = 'failed' RETURNING *`,
        [id],
      );
      return rows[0] ? toRecord(rows[0]) : null;
    });
    if (!task) return null;
    await this.cache(task);
    return task;
  }

  async listUnfinished(opts: { olderThanMs: number; region?: string; limit: number }): Promise<TaskRecord[]> {
    const rows = await this.db.eachShard(
      async (q) =>
        (
          await q.query(
            `SELECT * FROM tasks WHERE status IN ('working', 'input_required') AND expires_at > now()
               AND updated_at <= now() - $1::int * interval '1 millisecond' AND ($2::text IS NULL OR region = $2)
             ORDER BY updated_at LIMIT $3`,
            [Math.round(opts.olderThanMs), opts.region ?? null, opts.limit],
          )
        ).rows,
    );
    return rows
      .flat()
      .map(toRecord)
      .sort((a, b) => a.updatedAt.localeCompare(b.updatedAt))
      .slice(0, opts.limit);
  }

  async unfinishedRegions(): Promise<string[]> {
    const rows = await this.db.eachShard(
      async (q) =>
        (
          await q.query<{ region: string }>(
            `SELECT DISTINCT region FROM tasks WHERE status IN ('working', 'input_required') AND expires_at > now() AND region IS NOT NULL`,
          )
        ).rows,
    );
    return [...new Set(rows.flat().map((r) => r.region))].sort();
  }
}

/** A tasks/list cursor: the last task's creation time and id (keyset pagination). */
export function encodeTaskCursor(createdAt: string, id: string): string {
  return Buffer.from(`${createdAt}|${id}`).toString('base64url');
}

/** The position `cursor` names, or InvalidTaskCursorError when it is not one {@link encodeTaskCursor} made. */
export function decodeTaskCursor(cursor: string): { at: string; id: string } {
  const [at, id, ...rest] = Buffer.from(cursor, 'base64url').toString().split('|');
  if (
    rest.length ||
    !at ||
    !id ||
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(at) ||
    Number.isNaN(Date.parse(at)) ||
    id.length > 200
  )
    throw new InvalidTaskCursorError();
  return { at, id };
}
