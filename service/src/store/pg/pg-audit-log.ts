/**
 * AuditLog on PostgreSQL (table `audit_log`): admin actions and tool calls. record() never throws into
 * the request path; a failed insert is reported to `onError` (the logger) instead.
 *
 * With a TenantDb, an entry of a tenant is written on the tenant's shard (and a tenant's listing read
 * there); entries without a tenant (control-plane admin actions) stay in the control database. An
 * unfiltered listing merges every shard.
 */
import type pg from 'pg';
import { z } from 'zod';
import type { AuditEntry, AuditLog } from '../ports.js';
import type { Queryable } from './routing/role-pool.js';
import { TenantDb } from './routing/tenant-db.js';

const AuditRow = z
  .object({
    id: z.union([z.string(), z.number()]).transform(String),
    at: z.date(),
    tenant_id: z.string().nullable(),
    actor: z.string(),
    action: z.string(),
    target: z.string().nullable(),
    outcome: z.enum(['ok', 'error', 'denied']),
    duration_ms: z.number().nullable(),
    request_id: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()).nullable(),
  })
  .transform((r) => ({
    id: r.id,
    at: r.at,
    tenantId: r.tenant_id,
    actor: r.actor,
    action: r.action,
    outcome: r.outcome,
    ...(r.target !== null && { target: r.target }),
    ...(r.duration_ms !== null && { durationMs: r.duration_ms }),
    ...(r.request_id !== null && { requestId: r.request_id }),
    ...(r.detail !== null && { detail: r.detail }),
  }));

/** PostgreSQL adapter of AuditLog. */
export class PgAuditLog implements AuditLog {
  private readonly db: TenantDb;

  constructor(
    private readonly pool: pg.Pool,
    private readonly onError: (err: unknown, entry: AuditEntry) => void = () => {},
    private readonly ownsPool = false,
    /** Routes tenants' entries to their shards; without it everything stays in `pool`. */
    db?: TenantDb,
  ) {
    this.db = db ?? new TenantDb(pool);
  }

  async record(entry: AuditEntry): Promise<void> {
    await this.recordMany([entry]);
  }

  /**
   * Writes several entries with one multi-row INSERT per tenant (one transaction on the tenant's shard),
   * so a batch costs the router's fence/lock statements once, not once per entry. Never throws: a failed
   * batch is retried entry by entry, and an entry that still fails goes to `onError`.
   */
  async recordMany(entries: readonly AuditEntry[]): Promise<void> {
    const byTenant = new Map<string | null, AuditEntry[]>();
    for (const e of entries) {
      const group = byTenant.get(e.tenantId);
      if (group) group.push(e);
      else byTenant.set(e.tenantId, [e]);
    }
    await Promise.all(
      [...byTenant].map(async ([tenantId, group]) => {
        try {
          await this.insert(tenantId, group);
        } catch (err) {
          if (group.length === 1) return this.onError(err, group[0]!);
          // One bad entry must not take the others with it.
          for (const e of group) await this.insert(tenantId, [e]).catch((err2: unknown) => this.onError(err2, e));
        }
      }),
    );
  }

  private async insert(tenantId: string | null, entries: readonly AuditEntry[]): Promise<void> {
    const values: unknown[] = [];
    const rows = entries.map((entry) => {
      const at = values.length;
      values.push(
        entry.tenantId,
        entry.actor,
        entry.action,
        entry.target ?? null,
        entry.outcome,
        entry.durationMs === undefined ? null : Math.round(entry.durationMs),
        entry.requestId ?? null,
        entry.detail === undefined ? null : JSON.stringify(entry.detail),
      );
      return `(${Array.from({ length: 8 }, (_, i) => `$${at + i + 1}`).join(', ')})`;
    });
    const insert = (q: Queryable) =>
      q.query(`INSERT INTO audit_log (tenant_id, actor, action, target, outcome, duration_ms, request_id, detail) VALUES ${rows.join(', ')}`, values);
    await (tenantId === null ? insert(this.pool) : this.db.write(tenantId, insert));
  }

  async list(filter: { tenantId?: string; limit?: number }): Promise<(AuditEntry & { id: string; at: Date })[]> {
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
    const tenantId = filter.tenantId;
    if (tenantId) {
      const { rows } = await this.db.read(tenantId, (q) =>
        q.query('SELECT * FROM audit_log WHERE tenant_id = $1 ORDER BY at DESC, id DESC LIMIT $2', [tenantId, limit]),
      );
      return rows.map((r) => AuditRow.parse(r));
    }
    // Every shard's newest `limit` (the control database's include the entries without a tenant), merged.
    const perShard = await this.db.eachShard(async (q) => (await q.query('SELECT * FROM audit_log ORDER BY at DESC, id DESC LIMIT $1', [limit])).rows);
    const all = perShard.flat().map((r) => AuditRow.parse(r));
    if (perShard.length > 1) all.sort((a, b) => b.at.getTime() - a.at.getTime() || Number(b.id) - Number(a.id));
    return all.slice(0, limit);
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }
}
