/**
 * PostgreSQL store of a tenant's limit definitions (table `limits`, migration 012). Tenant data: with a
 * TenantDb that routes, every query runs on the tenant's shard. Rows are parsed with zod; `put` replaces
 * a limit of the same name (its id stays, its version is bumped), `remove` takes an id or a name.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { z } from 'zod';
import { NotFoundError } from '../ports.js';
import { TenantDb } from './routing/tenant-db.js';

/** A dimension a limit can select on and split its counter by. */
export type LimitDimension = 'key' | 'user' | 'server' | 'tool';

/** One stored limit. */
export interface LimitRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  /** `calls`: tools/call; `requests`: every HTTP request to /mcp. */
  readonly appliesTo: 'calls' | 'requests';
  /** Selectors (absent = any value). `tool` is a glob over the tool name the caller sent. */
  readonly match: { readonly tool?: string; readonly key?: string; readonly user?: string; readonly server?: string };
  /** Dimensions that split the counter: one counter per distinct value of each. */
  readonly per: readonly LimitDimension[];
  readonly kind: 'rate' | 'quota';
  readonly max: number;
  /** rate: the window; quota: 86400 (a UTC day). */
  readonly windowSeconds: number;
  /** `reject` refuses calls past the limit; `log` only counts and reports them. */
  readonly action: 'reject' | 'log';
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** Fields of a new or replaced limit. */
export type LimitWrite = Omit<LimitRecord, 'id' | 'version' | 'createdAt' | 'updatedAt'>;

const DIMENSION = z.enum(['key', 'user', 'server', 'tool']);

const Row = z
  .object({
    id: z.string(),
    tenant_id: z.string(),
    name: z.string(),
    applies_to: z.enum(['calls', 'requests']),
    tool: z.string().nullable(),
    key_id: z.string().nullable(),
    user_subject: z.string().nullable(),
    server: z.string().nullable(),
    per: z.array(DIMENSION),
    kind: z.enum(['rate', 'quota']),
    max_count: z.number().int(),
    window_seconds: z.number().int(),
    action: z.enum(['reject', 'log']),
    version: z.number().int(),
    created_at: z.date(),
    updated_at: z.date(),
  })
  .transform((r): LimitRecord => ({
    id: r.id,
    tenantId: r.tenant_id,
    name: r.name,
    appliesTo: r.applies_to,
    match: {
      ...(r.tool !== null && { tool: r.tool }),
      ...(r.key_id !== null && { key: r.key_id }),
      ...(r.user_subject !== null && { user: r.user_subject }),
      ...(r.server !== null && { server: r.server }),
    },
    per: r.per,
    kind: r.kind,
    max: r.max_count,
    windowSeconds: r.window_seconds,
    action: r.action,
    version: r.version,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }));

const COLUMNS =
  'id, tenant_id, name, applies_to, tool, key_id, user_subject, server, per, kind, max_count, window_seconds, action, version, created_at, updated_at';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** PostgreSQL adapter for limit definitions. */
export class PgLimitStore {
  private readonly db: TenantDb;

  /**
   * @param pool the control database's writer pool, owned by the caller
   * @param db routes the tenant's queries to its shard; without it everything runs on `pool`
   */
  constructor(pool: pg.Pool, db?: TenantDb) {
    this.db = db ?? new TenantDb(pool);
  }

  /** Every limit of a tenant, by name. */
  async list(tenantId: string): Promise<LimitRecord[]> {
    const { rows } = await this.db.read(tenantId, (q) => q.query(`SELECT ${COLUMNS} FROM limits WHERE tenant_id = $1 ORDER BY name`, [tenantId]));
    return rows.map((r) => Row.parse(r));
  }

  /** Creates the limit, or replaces the tenant's limit of the same name (same id, version + 1). */
  async put(l: LimitWrite): Promise<{ limit: LimitRecord; created: boolean }> {
    const { rows } = await this.db.write(l.tenantId, (q) =>
      q.query(
        `INSERT INTO limits (id, tenant_id, name, applies_to, tool, key_id, user_subject, server, per, kind, max_count, window_seconds, action)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (tenant_id, name) DO UPDATE SET applies_to = EXCLUDED.applies_to, tool = EXCLUDED.tool, key_id = EXCLUDED.key_id,
           user_subject = EXCLUDED.user_subject, server = EXCLUDED.server, per = EXCLUDED.per, kind = EXCLUDED.kind,
           max_count = EXCLUDED.max_count, window_seconds = EXCLUDED.window_seconds, action = EXCLUDED.action,
           version = limits.version + 1, updated_at = now()
         RETURNING ${COLUMNS}, (xmax = 0) AS inserted`,
        [
          randomUUID(),
          l.tenantId,
          l.name,
          l.appliesTo,
          l.match.tool ?? null,
          l.match.key ?? null,
          l.match.user ?? null,
          l.match.server ?? null,
          [...l.per],
          l.kind,
          l.max,
          l.windowSeconds,
          l.action,
        ],
      ),
    );
    const row = rows[0] as Record<string, unknown>;
    return { limit: Row.parse(row), created: row['inserted'] === true };
  }

  /** Deletes one limit by id or name; NotFoundError when absent. Returns what was deleted. */
  async remove(tenantId: string, idOrName: string): Promise<LimitRecord> {
    const column = UUID.test(idOrName) ? 'id' : 'name';
    const { rows } = await this.db.write(tenantId, (q) =>
      q.query(`DELETE FROM limits WHERE tenant_id = $1 AND ${column} = $2 RETURNING ${COLUMNS}`, [tenantId, idOrName]),
    );
    if (!rows[0]) throw new NotFoundError(`limit "${idOrName}" not found`);
    return Row.parse(rows[0]);
  }
}
