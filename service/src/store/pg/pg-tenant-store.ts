/**
 * TenantStore on PostgreSQL (table `tenants`). Rows are parsed with zod; a duplicate name becomes a
 * ConflictError, an unknown id a NotFoundError.
 */
import type pg from 'pg';
import { z } from 'zod';
import { ConflictError, NotFoundError, type Tenant, type TenantStore } from '../ports.js';
import { isPgError, PG_UNIQUE_VIOLATION } from './pool.js';

/** Tenant names: lower-case, digits, `-` and `_`, 1-63 characters (also enforced by the table). */
export const TENANT_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a syntactically valid uuid (lets callers address a tenant by id or by name). */
export function isUuid(s: string): boolean {
  return UUID.test(s);
}

const TenantRow = z
  .object({
    id: z.string(),
    name: z.string(),
    status: z.enum(['active', 'disabled']),
    toolsets: z.array(z.string()),
    home_region: z.string().nullable(),
    created_at: z.date(),
  })
  .transform((r): Tenant => ({ id: r.id, name: r.name, status: r.status, toolsets: r.toolsets, homeRegion: r.home_region, createdAt: r.created_at }));

/** Parses a `tenants` row (also used by the API key store's join). */
export function parseTenantRow(row: unknown): Tenant {
  return TenantRow.parse(row);
}

const COLUMNS = 'id, name, status, toolsets, home_region, created_at';

/** Input of create/ensure. */
export interface CreateTenantInput {
  name: string;
  toolsets?: readonly string[];
  homeRegion?: string | null;
}

/** PostgreSQL adapter of TenantStore. */
export class PgTenantStore implements TenantStore {
  /** @param pool shared writer pool; owned by the caller unless `ownsPool` */
  constructor(
    private readonly pool: pg.Pool,
    private readonly ownsPool = false,
  ) {}

  async create(input: CreateTenantInput): Promise<Tenant> {
    try {
      const { rows } = await this.pool.query(`INSERT INTO tenants (name, toolsets, home_region) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`, [
        input.name,
        [...(input.toolsets ?? [])],
        input.homeRegion ?? null,
      ]);
      return parseTenantRow(rows[0]);
    } catch (err) {
      if (isPgError(err, PG_UNIQUE_VIOLATION)) throw new ConflictError(`tenant "${input.name}" already exists`, { cause: err });
      throw err;
    }
  }

  async ensure(input: CreateTenantInput): Promise<Tenant> {
    // ON CONFLICT DO NOTHING + re-read keeps concurrent ensure() calls (replicas starting together) safe.
    await this.pool.query('INSERT INTO tenants (name, toolsets, home_region) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING', [
      input.name,
      [...(input.toolsets ?? [])],
      input.homeRegion ?? null,
    ]);
    const tenant = await this.getByName(input.name);
    if (!tenant) throw new NotFoundError(`tenant "${input.name}" vanished during ensure`);
    return tenant;
  }

  async get(id: string): Promise<Tenant | null> {
    if (!isUuid(id)) return null;
    const { rows } = await this.pool.query(`SELECT ${COLUMNS} FROM tenants WHERE id = $1`, [id]);
    return rows[0] ? parseTenantRow(rows[0]) : null;
  }

  async getByName(name: string): Promise<Tenant | null> {
    const { rows } = await this.pool.query(`SELECT ${COLUMNS} FROM tenants WHERE name = $1`, [name]);
    return rows[0] ? parseTenantRow(rows[0]) : null;
  }

  /** Resolves a tenant by id (uuid) or by name. */
  async find(idOrName: string): Promise<Tenant | null> {
    return isUuid(idOrName) ? this.get(idOrName) : this.getByName(idOrName);
  }

  async list(): Promise<Tenant[]> {
    const { rows } = await this.pool.query(`SELECT ${COLUMNS} FROM tenants ORDER BY name`);
    return rows.map(parseTenantRow);
  }

  async setStatus(id: string, status: Tenant['status']): Promise<Tenant> {
    return this.update(id, 'status = $2', status);
  }

  async setToolsets(id: string, toolsets: readonly string[]): Promise<Tenant> {
    return this.update(id, 'toolsets = $2', [...toolsets]);
  }

  private async update(id: string, set: string, value: unknown): Promise<Tenant> {
    const { rows } = isUuid(id) ? await this.pool.query(`UPDATE tenants SET ${set} WHERE id = $1 RETURNING ${COLUMNS}`, [id, value]) : { rows: [] };
    if (!rows[0]) throw new NotFoundError(`tenant ${id} not found`);
    return parseTenantRow(rows[0]);
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }
}
