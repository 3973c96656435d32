/**
 * The one way to run a tenant-scoped query: resolve the tenant's shard (placing new tenants), then run the
 * unit of work on that shard's writer or readers. Inside every transaction the router first checks the
 * tenant fence; writes also take the tenant's shared advisory lock (transaction-scoped, so safe behind a
 * transaction-pooling proxy), which a tenant move takes exclusively to freeze writes briefly.
 */
import { TenantMovedError } from './errors.js';
import { MemoryLsnTracker, type LsnTracker } from './lsn-tracker.js';
import type { PoolMetrics } from './pool-metrics.js';
import { ReplicaRouter } from './replica-router.js';
import { RolePool, type Queryable } from './role-pool.js';
import { ensureShardSchema } from './schema.js';
import type { ShardDef, ShardMap } from './shard-map.js';

/** Pool settings applied to every shard's pools. */
export interface ShardPoolSettings {
  /** @defaultValue 10 */
  readonly writerMax?: number;
  /** Per replica. @defaultValue 10 */
  readonly readerMax?: number;
  readonly statementTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  readonly acquireTimeoutMs?: number;
  readonly applicationName?: string;
}

/** Options of ShardRouter. */
export interface ShardRouterOptions {
  readonly shardMap: ShardMap;
  /** @defaultValue a MemoryLsnTracker (use RedisLsnTracker with several gateway instances) */
  readonly lsn?: LsnTracker;
  readonly pools?: ShardPoolSettings;
  readonly metrics?: PoolMetrics;
  /** Reader health probe interval, ms; 0 disables. @defaultValue 5000 */
  readonly probeIntervalMs?: number;
  /** How long an unreachable reader is skipped, ms. @defaultValue 5000 */
  readonly unhealthyRetryMs?: number;
  readonly onError?: (err: Error, where: string) => void;
  /** Completes a shard read from the map, e.g. with credentials that are not stored there. */
  readonly resolveShard?: (shard: ShardDef) => ShardDef;
  /** Supplies an existing writer pool for a shard (e.g. the process's writer pool for the default shard). */
  readonly writerFor?: (shard: ShardDef) => RolePool | undefined;
  /**
   * Brings a shard's schema up to date when its pools are first opened (e.g. runs the service's
   * migrations on it), after the fence table exists and before any tenant query runs there.
   */
  readonly prepareShard?: (writer: RolePool, shard: ShardDef) => Promise<void>;
}

/** Per-call options. */
export interface TenantCallOptions {
  /** The MCP session, so its own writes are read back even across tenants' replicas. */
  readonly sessionId?: string;
  /** Region for a tenant placed by this call. */
  readonly region?: string | null;
}

/** Advisory-lock key text of a tenant (hashed with hashtextextended on the server). */
export const tenantLockKey = (tenantId: string): string => `umcp:tenant:${tenantId}`;

const MAX_HOPS = 3;

/** Routes tenant-scoped work to the right shard and role. */
export class ShardRouter {
  private readonly routers = new Map<string, Promise<ReplicaRouter>>();
  private readonly lsn: LsnTracker;

  constructor(private readonly opts: ShardRouterOptions) {
    this.lsn = opts.lsn ?? new MemoryLsnTracker();
  }

  /** The shard map this router reads. */
  get shardMap(): ShardMap {
    return this.opts.shardMap;
  }

  /** Runs `fn` in a writer transaction of the tenant's shard; follows a move if the tenant was fenced. */
  async write<T>(tenantId: string, fn: (q: Queryable) => Promise<T>, opts: TenantCallOptions = {}): Promise<T> {
    return this.withShard(tenantId, opts, (router) =>
      router.write({ tenantId, sessionId: opts.sessionId }, async (q) => {
        await q.query('SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0))', [tenantLockKey(tenantId)]);
        // A separate statement: its snapshot is taken after the lock is granted, so it sees a fence that a
        // move committed while this write waited (one statement would use its pre-lock snapshot).
        const { rows } = await q.query<{ moved_to: string }>('SELECT moved_to FROM umcp_tenant_fence WHERE tenant_id = $1', [tenantId]);
        const movedTo = rows[0]?.moved_to;
        if (movedTo) throw new TenantMovedError(tenantId, router.shard, movedTo);
        return fn(q);
      }),
    );
  }

  /** Runs `fn` in a read-only transaction on a reader of the tenant's shard (or its writer, see ReplicaRouter). */
  async read<T>(tenantId: string, fn: (q: Queryable) => Promise<T>, opts: TenantCallOptions = {}): Promise<T> {
    return this.withShard(tenantId, opts, (router) =>
      router.read({ tenantId, sessionId: opts.sessionId }, async (q) => {
        const { rows } = await q.query<{ moved_to: string }>('SELECT moved_to FROM umcp_tenant_fence WHERE tenant_id = $1', [tenantId]);
        if (rows[0]) throw new TenantMovedError(tenantId, router.shard, rows[0].moved_to);
        return fn(q);
      }),
    );
  }

  /** The replica router of a shard, opening its pools on first use. */
  async forShard(shardId: string): Promise<ReplicaRouter> {
    let r = this.routers.get(shardId);
    if (!r) {
      const def = await this.opts.shardMap.shard(shardId);
      r = this.open(this.opts.resolveShard?.(def) ?? def);
      this.routers.set(shardId, r);
      r.catch(() => this.routers.delete(shardId));
    }
    return r;
  }

  /** The replica router of the tenant's shard (placing the tenant when new). */
  async forTenant(tenantId: string, opts: TenantCallOptions = {}): Promise<ReplicaRouter> {
    const p = await this.opts.shardMap.place(tenantId, { region: opts.region });
    return this.forShard(p.shardId);
  }

  /** Closes every shard's pools. */
  async close(): Promise<void> {
    const all = [...this.routers.values()];
    this.routers.clear();
    await Promise.all(all.map(async (r) => (await r.catch(() => undefined))?.close()));
  }

  private async withShard<T>(tenantId: string, opts: TenantCallOptions, run: (r: ReplicaRouter) => Promise<T>): Promise<T> {
    let router = await this.forTenant(tenantId, opts);
    for (let hop = 0; ; hop++) {
      try {
        return await run(router);
      } catch (err) {
        if (!(err instanceof TenantMovedError) || hop >= MAX_HOPS) throw err;
        // The fence names the new shard even if the control database is not updated or cached yet.
        this.opts.shardMap.invalidate(tenantId);
        router = await this.forShard(err.movedTo);
      }
    }
  }

  private async open(def: ShardDef): Promise<ReplicaRouter> {
    const p = this.opts.pools ?? {};
    const common = {
      shard: def.id,
      statementTimeoutMs: p.statementTimeoutMs,
      idleTimeoutMs: p.idleTimeoutMs,
      acquireTimeoutMs: p.acquireTimeoutMs,
      applicationName: p.applicationName,
      onError: (err: Error) => this.opts.onError?.(err, `shard ${def.id} pool`),
    };
    const writer = this.opts.writerFor?.(def) ?? new RolePool({ ...common, role: 'writer', connectionString: def.writerUrl, max: p.writerMax });
    const readers = def.readerUrls.map((url) => new RolePool({ ...common, role: 'reader', connectionString: url, max: p.readerMax }));
    for (const pool of [writer, ...readers]) this.opts.metrics?.add(pool);
    const router = new ReplicaRouter({
      shard: def.id,
      writer,
      readers,
      lsn: this.lsn,
      metrics: this.opts.metrics,
      unhealthyRetryMs: this.opts.unhealthyRetryMs,
      onReaderDown: (i, err) => this.opts.onError?.(err instanceof Error ? err : new Error(String(err)), `shard ${def.id} reader ${i}`),
    });
    try {
      await writer.transaction((q) => ensureShardSchema(q));
      await this.opts.prepareShard?.(writer, def);
    } catch (err) {
      await router.close();
      throw err;
    }
    const interval = this.opts.probeIntervalMs ?? 5_000;
    if (interval > 0 && readers.length > 0) router.startProbing(interval);
    return router;
  }
}
