/**
 * ApiKeyStore on PostgreSQL (table `api_keys`). Keys look like `umcp_<prefix>_<secret>`: the prefix
 * (12 hex chars) is stored in clear for lookup, the secret (32 random bytes, base64url) only as a hash.
 *
 * Why a plain SHA-256 and not bcrypt/scrypt: those slow hashes exist to protect low-entropy passwords
 * against guessing. A 256-bit random secret cannot be guessed, so a fast hash is just as safe and keeps
 * verification (on every MCP request without cache) in microseconds.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type pg from 'pg';
import { z } from 'zod';
import type { Principal } from '../../domain/principal.js';
import { ConflictError, NotFoundError, type ApiKeyRecord, type ApiKeyStore, type KeyRejection } from '../ports.js';
import { isPgError, PG_UNIQUE_VIOLATION } from './pool.js';
import { isUuid, parseTenantRow } from './pg-tenant-store.js';

const KEY_FORMAT = /^umcp_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

/** Splits a plain key into prefix and secret, or null when it is not one of ours. */
export function parseApiKey(plain: string): { prefix: string; secret: string } | null {
  const m = KEY_FORMAT.exec(plain);
  return m ? { prefix: m[1]!, secret: m[2]! } : null;
}

function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

const KeyRow = z
  .object({
    id: z.string(),
    tenant_id: z.string(),
    prefix: z.string(),
    name: z.string(),
    created_at: z.date(),
    revoked_at: z.date().nullable(),
    last_used_at: z.date().nullable(),
    scopes: z.array(z.string()),
  })
  .transform((r): ApiKeyRecord => ({
    id: r.id,
    tenantId: r.tenant_id,
    prefix: r.prefix,
    name: r.name,
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
    lastUsedAt: r.last_used_at,
    scopes: r.scopes,
  }));

const COLUMNS = 'id, tenant_id, prefix, name, created_at, revoked_at, last_used_at, scopes';

/** last_used_at is written at most this often per key, so verification is not a write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** PostgreSQL adapter of ApiKeyStore. */
export class PgApiKeyStore implements ApiKeyStore {
  /** keyId -> when this process last wrote last_used_at (bounded by the number of live keys). */
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly onError: (err: unknown) => void = () => {},
    private readonly ownsPool = false,
  ) {}

  /** `scopes` are stored as given: the caller (the admin API) validates them. */
  async create(tenantId: string, name: string, scopes: readonly string[] = []): Promise<{ key: string; record: ApiKeyRecord }> {
    if (!isUuid(tenantId)) throw new NotFoundError(`tenant ${tenantId} not found`);
    // A prefix collision (2^-48 per pair) is retried once rather than surfaced.
    for (let attempt = 0; ; attempt++) {
      const prefix = randomBytes(6).toString('hex');
      const secret = randomBytes(32).toString('base64url');
      try {
        const { rows } = await this.pool.query(
          `INSERT INTO api_keys (tenant_id, prefix, hash, name, scopes) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
          [tenantId, prefix, hashSecret(secret), name, [...scopes]],
        );
        return { key: `umcp_${prefix}_${secret}`, record: KeyRow.parse(rows[0]) };
      } catch (err) {
        if (isPgError(err, '23503')) throw new NotFoundError(`tenant ${tenantId} not found`);
        if (isPgError(err, PG_UNIQUE_VIOLATION) && attempt === 0) continue;
        if (isPgError(err, PG_UNIQUE_VIOLATION)) throw new ConflictError('api key prefix collision', { cause: err });
        throw err;
      }
    }
  }

  async verify(plainKey: string): Promise<Principal | null> {
    const parsed = parseApiKey(plainKey);
    if (!parsed) return null;
    const { rows } = await this.pool.query(
      `SELECT k.id AS key_id, k.hash, k.revoked_at, k.last_used_at, k.scopes,
              t.id, t.name, t.status, t.toolsets, t.home_region, t.created_at
         FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
        WHERE k.prefix = $1`,
      [parsed.prefix],
    );
    const row = rows[0] as { key_id: string; hash: Buffer; revoked_at: Date | null; last_used_at: Date | null; scopes: string[] } | undefined;
    if (!row) return null;
    const expected = hashSecret(parsed.secret);
    if (row.hash.length !== expected.length || !timingSafeEqual(row.hash, expected)) return null;
    if (row.revoked_at !== null) return null;
    const tenant = parseTenantRow(row);
    if (tenant.status !== 'active') return null;
    this.touch(row.key_id, row.last_used_at);
    return {
      tenantId: tenant.id,
      tenantName: tenant.name,
      subject: `key:${row.key_id}`,
      kind: 'api-key',
      toolsets: tenant.toolsets,
      scopes: row.scopes,
    };
  }

  async explainRejection(plainKey: string): Promise<KeyRejection> {
    const parsed = parseApiKey(plainKey);
    if (!parsed) return { reason: 'unknown' };
    const { rows } = await this.pool.query(
      `SELECT k.hash, k.revoked_at, t.name, t.status FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.prefix = $1`,
      [parsed.prefix],
    );
    const row = rows[0] as { hash: Buffer; revoked_at: Date | null; name: string; status: string } | undefined;
    const expected = hashSecret(parsed.secret);
    // A wrong secret learns nothing beyond `unknown`: the prefix alone is not a credential.
    if (!row || row.hash.length !== expected.length || !timingSafeEqual(row.hash, expected)) return { reason: 'unknown' };
    if (row.revoked_at !== null) return { reason: 'revoked' };
    if (row.status !== 'active') return { reason: 'tenant-disabled', tenant: row.name };
    return { reason: 'unknown' };
  }

  /** Records use without delaying the request; at most one write per key per minute from this process. */
  private touch(keyId: string, lastUsedAt: Date | null): void {
    const now = Date.now();
    const seen = Math.max(lastUsedAt?.getTime() ?? 0, this.touched.get(keyId) ?? 0);
    if (now - seen < LAST_USED_RESOLUTION_MS) return;
    this.touched.set(keyId, now);
    if (this.touched.size > 10_000) this.touched.clear();
    this.pool
      .query(
        // The WHERE clause makes concurrent replicas collapse to one write per minute as well.
        `UPDATE api_keys SET last_used_at = now()
          WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
        [keyId],
      )
      .catch((err: unknown) => this.onError(err));
  }

  async list(tenantId: string): Promise<ApiKeyRecord[]> {
    if (!isUuid(tenantId)) return [];
    const { rows } = await this.pool.query(`SELECT ${COLUMNS} FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id`, [tenantId]);
    return rows.map((r) => KeyRow.parse(r));
  }

  /** Idempotent for an already revoked key; NotFoundError when the key is not the tenant's. */
  async revoke(tenantId: string, keyId: string): Promise<void> {
    if (!isUuid(tenantId) || !isUuid(keyId)) throw new NotFoundError(`key ${keyId} not found`);
    const { rowCount } = await this.pool.query('UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 AND tenant_id = $2', [
      keyId,
      tenantId,
    ]);
    if (rowCount === 0) throw new NotFoundError(`key ${keyId} not found for tenant ${tenantId}`);
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }
}
