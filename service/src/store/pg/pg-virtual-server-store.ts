/**
 * PostgreSQL store of a tenant's virtual servers (table `virtual_servers`, migration 010). Tenant data:
 * with a TenantDb that routes, every query runs on the tenant's shard. Rows are parsed with zod; a taken
 * name becomes a ConflictError, an unknown one a NotFoundError.
 */
import type pg from 'pg';
import { z } from 'zod';
import type { VirtualServer } from '../../domain/virtual-server.js';
import { ConflictError, NotFoundError, type VirtualServerInput, type VirtualServerStore } from '../ports.js';
import { isPgError, PG_UNIQUE_VIOLATION } from './pool.js';
import { isUuid } from './pg-tenant-store.js';
import { TenantDb } from './routing/tenant-db.js';

const Row = z
  .object({
    tenant_id: z.string(),
    name: z.string(),
    include: z.array(z.string()),
    exclude: z.array(z.string()),
    renames: z.array(z.object({ from: z.string(), to: z.string() })),
    descriptions: z.record(z.string(), z.string()),
    tool_listing: z.enum(['all', 'search']),
    created_at: z.date(),
    updated_at: z.date(),
  })
  .transform((r): VirtualServer => ({
    tenantId: r.tenant_id,
    name: r.name,
    include: r.include,
    exclude: r.exclude,
    renames: r.renames,
    descriptions: r.descriptions,
    toolListing: r.tool_listing,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }));

const COLUMNS = 'tenant_id, name, include, exclude, renames, descriptions, tool_listing, created_at, updated_at';

/** PostgreSQL adapter of VirtualServerStore. */
export class PgVirtualServerStore implements VirtualServerStore {
  private readonly db: TenantDb;

  /**
   * @param pool writer pool of the control database, owned by the caller
   * @param db routes the tenant's queries to its shard; without it everything runs on `pool`
   */
  constructor(pool: pg.Pool, db?: TenantDb) {
    this.db = db ?? new TenantDb(pool);
  }

  async create(tenantId: string, input: VirtualServerInput): Promise<VirtualServer> {
    if (!isUuid(tenantId)) throw new NotFoundError(`tenant ${tenantId} not found`);
    try {
      const { rows } = await this.db.write(tenantId, (q) =>
        q.query(
          `INSERT INTO virtual_servers (tenant_id, name, include, exclude, renames, descriptions, tool_listing)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
          [
            tenantId,
            input.name,
            input.include,
            input.exclude ?? [],
            JSON.stringify(input.renames ?? []),
            JSON.stringify(input.descriptions ?? {}),
            input.toolListing ?? 'all',
          ],
        ),
      );
      return Row.parse(rows[0]);
    } catch (err) {
      if (isPgError(err, PG_UNIQUE_VIOLATION)) throw new ConflictError(`virtual server "${input.name}" already exists for this tenant`, { cause: err });
      throw err;
    }
  }

  async list(tenantId: string): Promise<VirtualServer[]> {
    if (!isUuid(tenantId)) return [];
    const { rows } = await this.db.read(tenantId, (q) => q.query(`SELECT ${COLUMNS} FROM virtual_servers WHERE tenant_id = $1 ORDER BY name`, [tenantId]));
    return rows.map((r) => Row.parse(r));
  }

  async delete(tenantId: string, name: string): Promise<void> {
    const { rowCount } = isUuid(tenantId)
      ? await this.db.write(tenantId, (q) => q.query('DELETE FROM virtual_servers WHERE tenant_id = $1 AND name = $2', [tenantId, name]))
      : { rowCount: 0 };
    if (!rowCount) throw new NotFoundError(`virtual server "${name}" not found`);
  }
}
