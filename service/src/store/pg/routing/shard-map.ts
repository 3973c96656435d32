/**
 * The shard map in the control database: shard -> {region, writer URL, reader URLs}, tenant -> shard.
 * Lookups are cached in-process for `cacheTtlMs`; a stale entry is harmless because a moved tenant is
 * fenced on its old shard (the router then follows the fence and refreshes). New tenants are placed by
 * policy: a shard in the tenant's region first, then the least loaded one.
 */
import { z } from 'zod';
import { ShardNotFoundError } from './errors.js';
import type { Queryable, RolePool } from './role-pool.js';
import { ensureControlSchema } from './schema.js';

const ShardRow = z.object({
  id: z.string(),
  region: z.string(),
  writer_url: z.string(),
  reader_urls: z.array(z.string()),
  accepting: z.boolean(),
});

/** One shard: a primary and its replicas, in one region. */
export interface ShardDef {
  readonly id: string;
  readonly region: string;
  readonly writerUrl: string;
  readonly readerUrls: readonly string[];
  /** New tenants may be placed here. */
  readonly accepting: boolean;
}

/** Input of registerShard, validated. */
export const ShardInput = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase letters, digits, _ and -'),
  region: z.string().min(1),
  writerUrl: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL'),
  readerUrls: z.array(z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')).default([]),
  accepting: z.boolean().default(true),
});

const PlacementRow = z.object({ tenant_id: z.string(), shard_id: z.string(), state: z.enum(['active', 'moving']), epoch: z.number() });

/** Where a tenant lives. */
export interface Placement {
  readonly tenantId: string;
  readonly shardId: string;
  readonly state: 'active' | 'moving';
  readonly epoch: number;
}

const toShard = (r: z.infer<typeof ShardRow>): ShardDef => ({
  id: r.id,
  region: r.region,
  writerUrl: r.writer_url,
  readerUrls: r.reader_urls,
  accepting: r.accepting,
});
const toPlacement = (r: z.infer<typeof PlacementRow>): Placement => ({ tenantId: r.tenant_id, shardId: r.shard_id, state: r.state, epoch: r.epoch });

/** Reads and writes the shard map; caches lookups. */
export class ShardMap {
  private shards: { at: number; list: ShardDef[] } | undefined;
  private readonly placements = new Map<string, { at: number; p: Placement }>();
  private readonly ttlMs: number;
  private readonly defaultRegion: string | null;

  constructor(
    readonly control: RolePool,
    /** defaultRegion: where a tenant without a home region is placed (the placing process's REGION). */
    opts: { cacheTtlMs?: number; defaultRegion?: string } = {},
  ) {
    this.ttlMs = opts.cacheTtlMs ?? 10_000;
    this.defaultRegion = opts.defaultRegion ?? null;
  }

  /** Creates the control tables when missing. */
  async init(): Promise<void> {
    await this.control.transaction((q) => ensureControlSchema(q));
  }

  /** Adds or updates a shard. */
  async registerShard(input: z.input<typeof ShardInput>): Promise<ShardDef> {
    const s = ShardInput.parse(input);
    const { rows } = await this.control.query(
      `INSERT INTO umcp_shards (id, region, writer_url, reader_urls, accepting) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (id) DO UPDATE SET region = EXCLUDED.region, writer_url = EXCLUDED.writer_url,
         reader_urls = EXCLUDED.reader_urls, accepting = EXCLUDED.accepting
       RETURNING id, region, writer_url, reader_urls, accepting`,
      [s.id, s.region, s.writerUrl, s.readerUrls, s.accepting],
    );
    this.shards = undefined;
    return toShard(ShardRow.parse(rows[0]));
  }

  /** Every shard (cached). */
  async listShards(): Promise<ShardDef[]> {
    if (this.shards && Date.now() - this.shards.at < this.ttlMs) return this.shards.list;
    const { rows } = await this.control.query('SELECT id, region, writer_url, reader_urls, accepting FROM umcp_shards ORDER BY id');
    const list = rows.map((r) => toShard(ShardRow.parse(r)));
    this.shards = { at: Date.now(), list };
    return list;
  }

  /** One shard by id; throws ShardNotFoundError. */
  async shard(id: string): Promise<ShardDef> {
    let s = (await this.listShards()).find((x) => x.id === id);
    if (!s) {
      this.shards = undefined;
      s = (await this.listShards()).find((x) => x.id === id);
    }
    if (!s) throw new ShardNotFoundError(`no shard "${id}" in the shard map`);
    return s;
  }

  /** The tenant's placement (cached), or null when it was never placed. */
  async placement(tenantId: string): Promise<Placement | null> {
    const hit = this.placements.get(tenantId);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.p;
    const { rows } = await this.control.query('SELECT tenant_id, shard_id, state, epoch FROM umcp_tenant_shards WHERE tenant_id = $1', [tenantId]);
    if (rows.length === 0) {
      this.placements.delete(tenantId);
      return null;
    }
    const p = toPlacement(PlacementRow.parse(rows[0]));
    this.placements.set(tenantId, { at: Date.now(), p });
    return p;
  }

  /**
   * The tenant's placement, placing it first when new: among accepting shards, those in `region` (when
   * any), then the one with the fewest tenants. Concurrent callers agree (first insert wins).
   */
  async place(tenantId: string, opts: { region?: string | null } = {}): Promise<Placement> {
    const existing = await this.placement(tenantId);
    if (existing) return existing;
    const p = await this.control.transaction(async (q) => {
      const { rows: load } = await q.query<{ id: string; region: string; tenants: number }>(
        `SELECT s.id, s.region, count(t.tenant_id)::int AS tenants FROM umcp_shards s
         LEFT JOIN umcp_tenant_shards t ON t.shard_id = s.id WHERE s.accepting GROUP BY s.id ORDER BY s.id`,
      );
      const chosen = choosePlacement(load, opts.region ?? this.defaultRegion);
      await q.query(`INSERT INTO umcp_tenant_shards (tenant_id, shard_id) VALUES ($1, $2) ON CONFLICT (tenant_id) DO NOTHING`, [tenantId, chosen]);
      return this.readPlacement(q, tenantId);
    });
    this.placements.set(tenantId, { at: Date.now(), p });
    return p;
  }

  /** Tenants per shard. */
  async load(): Promise<Record<string, number>> {
    const { rows } = await this.control.query<{ id: string; n: number }>(
      `SELECT s.id, count(t.tenant_id)::int AS n FROM umcp_shards s LEFT JOIN umcp_tenant_shards t ON t.shard_id = s.id GROUP BY s.id`,
    );
    return Object.fromEntries(rows.map((r) => [r.id, r.n]));
  }

  /** Drops cached placements (one tenant, or all) and the shard list. */
  invalidate(tenantId?: string): void {
    if (tenantId) this.placements.delete(tenantId);
    else this.placements.clear();
    this.shards = undefined;
  }

  /** Reads a placement inside a caller's transaction (uncached). */
  async readPlacement(q: Queryable, tenantId: string, forUpdate = false): Promise<Placement> {
    const { rows } = await q.query(`SELECT tenant_id, shard_id, state, epoch FROM umcp_tenant_shards WHERE tenant_id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [
      tenantId,
    ]);
    if (rows.length === 0) throw new ShardNotFoundError(`tenant ${tenantId} has no shard placement`);
    return toPlacement(PlacementRow.parse(rows[0]));
  }
}

/** The placement policy: region first, then least loaded, then shard id (deterministic). */
export function choosePlacement(shards: readonly { id: string; region: string; tenants: number }[], region: string | null): string {
  if (shards.length === 0) throw new ShardNotFoundError('no shard accepts new tenants (register one, or set accepting = true)');
  const inRegion = region ? shards.filter((s) => s.region === region) : [];
  const pool = inRegion.length > 0 ? inRegion : shards;
  return [...pool].sort((a, b) => a.tenants - b.tenants || a.id.localeCompare(b.id))[0]!.id;
}
