/**
 * PostgreSQL store of users' own upstream tokens (table `upstream_user_tokens`, migration 011): one sealed
 * token set per (tenant, upstream, user). The store never sees plaintext tokens: callers hand it
 * ciphertext (service/src/gateway/crypto). Tenant data: with a routing TenantDb every query runs on the
 * tenant's shard.
 */
import type pg from 'pg';
import { z } from 'zod';
import { TenantDb } from './routing/tenant-db.js';

/** One stored token set (ciphertext only). */
export interface UpstreamTokenRecord {
  readonly tenantId: string;
  readonly upstreamId: string;
  readonly subject: string;
  readonly sealed: Buffer;
  readonly expiresAt: Date | null;
  readonly scope: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

const Row = z
  .object({
    tenant_id: z.string(),
    upstream_id: z.string(),
    subject: z.string(),
    sealed: z.instanceof(Buffer),
    expires_at: z.date().nullable(),
    scope: z.string().nullable(),
    created_at: z.date(),
    updated_at: z.date(),
  })
  .transform((r): UpstreamTokenRecord => ({
    tenantId: r.tenant_id,
    upstreamId: r.upstream_id,
    subject: r.subject,
    sealed: r.sealed,
    expiresAt: r.expires_at,
    scope: r.scope,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }));

const COLUMNS = 'tenant_id, upstream_id, subject, sealed, expires_at, scope, created_at, updated_at';

/** PostgreSQL adapter for users' upstream tokens. */
export class PgUpstreamTokenStore {
  private readonly db: TenantDb;

  /** @param db routes the tenant's queries to its shard; without it everything runs on `pool` */
  constructor(pool: pg.Pool, db?: TenantDb) {
    this.db = db ?? new TenantDb(pool);
  }

  /** The user's token set for the upstream, or null. */
  async get(tenantId: string, upstreamId: string, subject: string): Promise<UpstreamTokenRecord | null> {
    const { rows } = await this.db.read(tenantId, (q) =>
      q.query(`SELECT ${COLUMNS} FROM upstream_user_tokens WHERE tenant_id = $1 AND upstream_id = $2 AND subject = $3`, [tenantId, upstreamId, subject]),
    );
    return rows[0] ? Row.parse(rows[0]) : null;
  }

  /** Stores (or replaces) the user's token set. */
  async put(r: Pick<UpstreamTokenRecord, 'tenantId' | 'upstreamId' | 'subject' | 'sealed' | 'expiresAt' | 'scope'>): Promise<void> {
    await this.db.write(r.tenantId, (q) =>
      q.query(
        `INSERT INTO upstream_user_tokens (tenant_id, upstream_id, subject, sealed, expires_at, scope) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (tenant_id, upstream_id, subject) DO UPDATE SET sealed = $4, expires_at = $5, scope = $6, updated_at = now()`,
        [r.tenantId, r.upstreamId, r.subject, r.sealed, r.expiresAt, r.scope],
      ),
    );
  }

  /** Deletes the user's token set (all users' when `subject` is undefined); returns the subjects deleted. */
  async remove(tenantId: string, upstreamId: string, subject?: string): Promise<string[]> {
    const { rows } = await this.db.write(tenantId, (q) =>
      subject === undefined
        ? q.query('DELETE FROM upstream_user_tokens WHERE tenant_id = $1 AND upstream_id = $2 RETURNING subject', [tenantId, upstreamId])
        : q.query('DELETE FROM upstream_user_tokens WHERE tenant_id = $1 AND upstream_id = $2 AND subject = $3 RETURNING subject', [
            tenantId,
            upstreamId,
            subject,
          ]),
    );
    return rows.map((r) => String(r['subject']));
  }

  /** Every user's token set for the upstream (ciphertext; for listings and revocation). */
  async list(tenantId: string, upstreamId: string): Promise<UpstreamTokenRecord[]> {
    const { rows } = await this.db.read(tenantId, (q) =>
      q.query(`SELECT ${COLUMNS} FROM upstream_user_tokens WHERE tenant_id = $1 AND upstream_id = $2 ORDER BY subject`, [tenantId, upstreamId]),
    );
    return rows.map((r) => Row.parse(r));
  }
}
