/**
 * AuditLog on PostgreSQL (table `audit_log`): admin actions and tool calls. record() never throws into
 * the request path; a failed insert is reported to `onError` (the logger) instead.
 */
import type pg from 'pg';
import { z } from 'zod';
import type { AuditEntry, AuditLog } from '../ports.js';

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
  constructor(
    private readonly pool: pg.Pool,
    private readonly onError: (err: unknown, entry: AuditEntry) => void = () => {},
    private readonly ownsPool = false,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    try {
      await this.pool.query(
        `INSERT INTO audit_log (tenant_id, actor, action, target, outcome, duration_ms, request_id, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          entry.tenantId,
          entry.actor,
          entry.action,
          entry.target ?? null,
          entry.outcome,
          entry.durationMs === undefined ? null : Math.round(entry.durationMs),
          entry.requestId ?? null,
          entry.detail === undefined ? null : JSON.stringify(entry.detail),
        ],
      );
    } catch (err) {
      this.onError(err, entry);
    }
  }

  async list(filter: { tenantId?: string; limit?: number }): Promise<(AuditEntry & { id: string; at: Date })[]> {
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
    const { rows } = filter.tenantId
      ? await this.pool.query('SELECT * FROM audit_log WHERE tenant_id = $1 ORDER BY at DESC, id DESC LIMIT $2', [filter.tenantId, limit])
      : await this.pool.query('SELECT * FROM audit_log ORDER BY at DESC, id DESC LIMIT $1', [limit]);
    return rows.map((r) => AuditRow.parse(r));
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }
}
