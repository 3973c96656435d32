/**
 * How a tenant-scoped store reaches its tables: through the ShardRouter when the process has one
 * (writes on the tenant's shard writer under the tenant fence and move lock; reads on a reader with
 * read-your-writes), else straight on one database (a store built with a pool only, as in unit tests).
 * Cross-tenant maintenance (sweeps, key rotation scans, an unfiltered audit listing) runs on every shard.
 */
import type pg from 'pg';
import type { Queryable } from './role-pool.js';
import type { ShardRouter } from './shard-router.js';

/** Looks up a tenant's home region, for placing a tenant that has no shard yet. */
export type TenantRegionLookup = (tenantId: string) => Promise<string | null | undefined>;

/** Options of TenantDb. */
export interface TenantDbOptions {
  /** Routes tenant-scoped queries; without it everything runs on `control`. */
  readonly router?: ShardRouter;
  /** Region of a tenant placed by its first write (placement policy: region first). */
  readonly regionOf?: TenantRegionLookup;
}

/** A tenant-scoped store's access to its tables. */
export class TenantDb {
  constructor(
    /** The control database (DATABASE_URL): also the only database without a router. */
    readonly control: pg.Pool,
    private readonly opts: TenantDbOptions = {},
  ) {}

  /** True when queries go through a ShardRouter. */
  get routed(): boolean {
    return this.opts.router !== undefined;
  }

  /** Runs `fn` as one writer transaction on the tenant's shard (or as plain queries on the one database). */
  async write<T>(tenantId: string, fn: (q: Queryable) => Promise<T>): Promise<T> {
    const router = this.opts.router;
    if (!router) return fn(this.control);
    return router.write(tenantId, fn, await this.placementOptions(router, tenantId));
  }

  /** Runs `fn` read-only on the tenant's shard: a reader that has replayed the tenant's writes, else the writer. */
  async read<T>(tenantId: string, fn: (q: Queryable) => Promise<T>): Promise<T> {
    const router = this.opts.router;
    if (!router) return fn(this.control);
    return router.read(tenantId, fn, await this.placementOptions(router, tenantId));
  }

  /** Runs `fn` on every shard's writer (one call on the one database without a router); results by shard. */
  async eachShard<T>(fn: (q: Queryable, shardId: string) => Promise<T>): Promise<T[]> {
    const router = this.opts.router;
    if (!router) return [await fn(this.control, 'control')];
    const shards = await router.shardMap.listShards();
    return Promise.all(shards.map(async (s) => fn((await router.forShard(s.id)).writer, s.id)));
  }

  private async placementOptions(router: ShardRouter, tenantId: string): Promise<{ region?: string | null }> {
    if (!this.opts.regionOf || (await router.shardMap.placement(tenantId))) return {};
    return { region: (await this.opts.regionOf(tenantId)) ?? null };
  }
}
