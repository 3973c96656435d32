/**
 * PostgreSQL store of a tenant's upstream MCP servers (table `upstreams`) and of the per-tenant data
 * keys that encrypt their credentials (table `tenant_data_keys`, migration 006).
 *
 * The store never sees plaintext credentials: callers hand it ciphertext (service/src/gateway/crypto).
 * Rows are parsed with zod; a duplicate namespace becomes a ConflictError, an unknown upstream a
 * NotFoundError.
 *
 * Both tables are tenant data: with a TenantDb that routes, every query runs on the tenant's shard
 * (writes on its writer, reads on a reader with read-your-writes); the rotation scan covers every shard.
 */
import type pg from 'pg';
import { z } from 'zod';
import { ConflictError, NotFoundError } from '../ports.js';
import { isPgError, PG_UNIQUE_VIOLATION } from './pool.js';
import { TenantDb } from './routing/tenant-db.js';

/** How the gateway authenticates to an upstream. */
export type UpstreamAuthKind = 'none' | 'header' | 'bearer' | 'oauth-client-credentials' | 'per-user-oauth' | 'token-exchange';
/** Wire transport of an upstream. */
export type UpstreamTransport = 'streamable-http' | 'sse';

/** One stored upstream registration (credentials as ciphertext only). */
export interface UpstreamRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly namespace: string;
  readonly url: string;
  readonly transport: UpstreamTransport;
  readonly root: boolean;
  readonly authKind: UpstreamAuthKind;
  /** Non-secret description of the credentials (header names, OAuth client id); never values. */
  readonly credentialSummary: Record<string, unknown>;
  /** Envelope ciphertext, or null without credentials. */
  readonly credentials: Buffer | null;
  /** Timeouts, allow/deny lists, concurrency, longRunning (validated by the gateway). */
  readonly options: Record<string, unknown>;
  /** Bumped on every update (part of the client pool key). */
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** A wrapped per-tenant data key. */
export interface WrappedDataKey {
  readonly tenantId: string;
  readonly wrappedKey: Buffer;
  readonly masterKeyId: string;
}

const Row = z
  .object({
    id: z.string(),
    tenant_id: z.string(),
    namespace: z.string(),
    url: z.string(),
    transport: z.enum(['streamable-http', 'sse']),
    root: z.boolean(),
    auth_kind: z.enum(['none', 'header', 'bearer', 'oauth-client-credentials', 'per-user-oauth', 'token-exchange']),
    credential_summary: z.record(z.string(), z.unknown()),
    credentials: z.instanceof(Buffer).nullable(),
    options: z.record(z.string(), z.unknown()),
    version: z.number().int(),
    created_at: z.date(),
    updated_at: z.date(),
  })
  .transform((r): UpstreamRecord => ({
    id: r.id,
    tenantId: r.tenant_id,
    namespace: r.namespace,
    url: r.url,
    transport: r.transport,
    root: r.root,
    authKind: r.auth_kind,
    credentialSummary: r.credential_summary,
    credentials: r.credentials,
    options: r.options,
    version: r.version,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }));

const KeyRow = z
  .object({ tenant_id: z.string(), wrapped_key: z.instanceof(Buffer), master_key_id: z.string() })
  .transform((r): WrappedDataKey => ({ tenantId: r.tenant_id, wrappedKey: r.wrapped_key, masterKeyId: r.master_key_id }));

const COLUMNS = 'id, tenant_id, namespace, url, transport, root, auth_kind, credential_summary, credentials, options, version, created_at, updated_at';

/** Fields of a new or replaced registration. */
export type UpstreamWrite = Omit<UpstreamRecord, 'version' | 'createdAt' | 'updatedAt'>;

/** PostgreSQL adapter for upstream registrations and tenant data keys. */
export class PgUpstreamStore {
  private readonly db: TenantDb;

  /**
   * @param pool shared writer pool of the control database, owned by the caller
   * @param db routes the tenant's queries to its shard; without it everything runs on `pool`
   */
  constructor(pool: pg.Pool, db?: TenantDb) {
    this.db = db ?? new TenantDb(pool);
  }

  /** Inserts a registration; a taken namespace is a ConflictError. */
  async create(u: UpstreamWrite): Promise<UpstreamRecord> {
    try {
      const { rows } = await this.db.write(u.tenantId, (q) =>
        q.query(
          `INSERT INTO upstreams (id, tenant_id, namespace, url, transport, root, auth_kind, credential_summary, credentials, options)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${COLUMNS}`,
          [u.id, u.tenantId, u.namespace, u.url, u.transport, u.root, u.authKind, u.credentialSummary, u.credentials, u.options],
        ),
      );
      return Row.parse(rows[0]);
    } catch (err) {
      if (isPgError(err, PG_UNIQUE_VIOLATION))
        throw new ConflictError(`upstream namespace "${u.namespace}" is already registered for this tenant`, { cause: err });
      throw err;
    }
  }

  /** Replaces a registration's fields (namespace and id stay) and bumps its version. */
  async update(u: UpstreamWrite): Promise<UpstreamRecord> {
    const { rows } = await this.db.write(u.tenantId, (q) =>
      q.query(
        `UPDATE upstreams SET url = $3, transport = $4, root = $5, auth_kind = $6, credential_summary = $7, credentials = $8, options = $9,
         version = version + 1, updated_at = now()
       WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
        [u.tenantId, u.id, u.url, u.transport, u.root, u.authKind, u.credentialSummary, u.credentials, u.options],
      ),
    );
    if (!rows[0]) throw new NotFoundError(`upstream "${u.namespace}" not found`);
    return Row.parse(rows[0]);
  }

  /** Every upstream of a tenant, by namespace. */
  async list(tenantId: string): Promise<UpstreamRecord[]> {
    const { rows } = await this.db.read(tenantId, (q) => q.query(`SELECT ${COLUMNS} FROM upstreams WHERE tenant_id = $1 ORDER BY namespace`, [tenantId]));
    return rows.map((r) => Row.parse(r));
  }

  /** One upstream by namespace, or null. */
  async get(tenantId: string, namespace: string): Promise<UpstreamRecord | null> {
    const { rows } = await this.db.read(tenantId, (q) =>
      q.query(`SELECT ${COLUMNS} FROM upstreams WHERE tenant_id = $1 AND namespace = $2`, [tenantId, namespace]),
    );
    return rows[0] ? Row.parse(rows[0]) : null;
  }

  /** Deletes one upstream; NotFoundError when absent. */
  async remove(tenantId: string, namespace: string): Promise<void> {
    const { rowCount } = await this.db.write(tenantId, (q) => q.query('DELETE FROM upstreams WHERE tenant_id = $1 AND namespace = $2', [tenantId, namespace]));
    if (!rowCount) throw new NotFoundError(`upstream "${namespace}" not found`);
  }

  /** The tenant's wrapped data key, or null. */
  async getDataKey(tenantId: string): Promise<WrappedDataKey | null> {
    const { rows } = await this.db.read(tenantId, (q) =>
      q.query('SELECT tenant_id, wrapped_key, master_key_id FROM tenant_data_keys WHERE tenant_id = $1', [tenantId]),
    );
    return rows[0] ? KeyRow.parse(rows[0]) : null;
  }

  /** Stores a tenant's first data key; when one exists already (a concurrent writer won) returns that one. */
  async putDataKeyIfAbsent(key: WrappedDataKey): Promise<WrappedDataKey> {
    const { rows } = await this.db.write(key.tenantId, async (q) => {
      await q.query('INSERT INTO tenant_data_keys (tenant_id, wrapped_key, master_key_id) VALUES ($1, $2, $3) ON CONFLICT (tenant_id) DO NOTHING', [
        key.tenantId,
        key.wrappedKey,
        key.masterKeyId,
      ]);
      return q.query('SELECT tenant_id, wrapped_key, master_key_id FROM tenant_data_keys WHERE tenant_id = $1', [key.tenantId]);
    });
    if (!rows[0]) throw new NotFoundError(`tenant ${key.tenantId} not found`);
    return KeyRow.parse(rows[0]);
  }

  /** Data keys not wrapped by `masterKeyId` (what a rotation still has to re-wrap). */
  async dataKeysNotWrappedBy(masterKeyId: string, limit = 500): Promise<WrappedDataKey[]> {
    const perShard = await this.db.eachShard(
      async (q) =>
        (
          await q.query('SELECT tenant_id, wrapped_key, master_key_id FROM tenant_data_keys WHERE master_key_id <> $1 ORDER BY tenant_id LIMIT $2', [
            masterKeyId,
            limit,
          ])
        ).rows,
    );
    const keys = perShard.flat().map((r) => KeyRow.parse(r));
    // A moved tenant's source rows are purged right after its switch; never hand out one tenant twice.
    const unique = [...new Map(keys.map((k) => [k.tenantId, k])).values()];
    return unique.sort((a, b) => (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0)).slice(0, limit);
  }

  /** Replaces a wrapped key only if it is still the one read (compare-and-set); true when replaced. */
  async rewrapDataKey(previous: WrappedDataKey, next: WrappedDataKey): Promise<boolean> {
    const { rowCount } = await this.db.write(previous.tenantId, (q) =>
      q.query('UPDATE tenant_data_keys SET wrapped_key = $3, master_key_id = $4, rotated_at = now() WHERE tenant_id = $1 AND wrapped_key = $2', [
        previous.tenantId,
        previous.wrappedKey,
        next.wrappedKey,
        next.masterKeyId,
      ]),
    );
    return (rowCount ?? 0) > 0;
  }
}
