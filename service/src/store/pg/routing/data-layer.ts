/**
 * Composition of the PostgreSQL routing layer for one process: the shard map in the control database
 * (DATABASE_URL), the default shard (DATABASE_URL + DATABASE_READER_URLS, adopting the process's writer
 * pool so there is still one writer pool per database), further shards from SHARDS, pool sizes derived
 * from max_connections, and the ShardRouter every tenant-scoped query goes through.
 *
 * Passwords are never written to the shard map: URLs are stored without them, and the process fills them
 * in from its own configuration (or libpq's PGPASSWORD / .pgpass) when it opens a shard.
 */
import type pg from 'pg';
import type { Registry } from 'prom-client';
import { MemoryLsnTracker, type LsnTracker } from './lsn-tracker.js';
import { PoolMetrics } from './pool-metrics.js';
import { defaultPoolSize, readConnectionBudget } from './pool-sizing.js';
import { RolePool } from './role-pool.js';
import type { RoutingConfig } from './routing-config.js';
import { ShardMap, type ShardDef } from './shard-map.js';
import { ShardRouter } from './shard-router.js';
import type { TenantTable } from './table-sync.js';
import { loadMigrations, runMigrations, type Migration } from '../migrate.js';

/**
 * Tables whose rows belong to one tenant and live on the tenant's shard (copied by `tenants move`).
 * Tenants, API keys and the shard map are the global directory in the control database (needed before a
 * shard is known); audit entries without a tenant (control-plane admin actions) stay there too. Keys
 * are unique across shards: uuids (audit_log.uid, upstreams.id), random task ids, or the tenant itself.
 * A store whose table moves to the shards takes a TenantDb (the router) and lists the table here.
 */
export const TENANT_TABLES: readonly TenantTable[] = [
  { name: 'audit_log', tenantColumn: 'tenant_id', key: ['uid'] },
  { name: 'upstreams', tenantColumn: 'tenant_id', key: ['id'] },
  { name: 'tenant_data_keys', tenantColumn: 'tenant_id', key: ['tenant_id'] },
  { name: 'tasks', tenantColumn: 'tenant_id', key: ['id'] },
  { name: 'limits', tenantColumn: 'tenant_id', key: ['id'] },
  { name: 'virtual_servers', tenantColumn: 'tenant_id', key: ['id'] },
  { name: 'upstream_user_tokens', tenantColumn: 'tenant_id', key: ['tenant_id', 'upstream_id', 'subject'] },
];

/** What createPgDataLayer needs from the service config. */
export type PgDataLayerConfig = RoutingConfig & {
  readonly DATABASE_URL: string;
  readonly REGION: string;
  readonly PG_STATEMENT_TIMEOUT_MS: number;
  readonly PG_IDLE_TIMEOUT_MS: number;
  readonly PG_CONNECT_TIMEOUT_MS: number;
};

/** Options of createPgDataLayer. */
export interface PgDataLayerOptions {
  readonly config: PgDataLayerConfig;
  /** The process's writer pool of DATABASE_URL (adopted, not closed here). */
  readonly writerPool: pg.Pool;
  /** Pool and replication-lag gauges go here. */
  readonly registry?: Registry;
  /** @defaultValue MemoryLsnTracker (pass a RedisLsnTracker when several instances serve one tenant) */
  readonly lsn?: LsnTracker;
  readonly applicationName?: string;
  readonly onError?: (err: Error, where: string) => void;
  /**
   * Migrations applied to every other shard when the process first opens it (the control database, which
   * is the default shard, is migrated at start by the caller). @defaultValue the service's migrations
   */
  readonly shardMigrations?: Migration[];
}

/** The routing layer of one process. */
export interface PgDataLayer {
  readonly shardMap: ShardMap;
  readonly router: ShardRouter;
  /** The default shard's id. */
  readonly defaultShard: string;
  /** Derived pool sizes (for logs). */
  readonly poolSizes: { readonly reader: number; readonly shardWriter: number };
  /** Closes every pool the layer opened (not the adopted writer pool). */
  close(): Promise<void>;
}

/** Removes the password from a connection URL before it is stored. */
export function withoutPassword(url: string): string {
  const u = new URL(url);
  u.password = '';
  return u.toString();
}

/** Builds the routing layer: creates the shard-map tables, registers configured shards, sizes pools. */
export async function createPgDataLayer(opts: PgDataLayerOptions): Promise<PgDataLayer> {
  const c = opts.config;
  const metrics = opts.registry ? PoolMetrics.for(opts.registry) : undefined;
  const control = new RolePool({ shard: c.DEFAULT_SHARD_ID, role: 'writer', pool: opts.writerPool, statementTimeoutMs: c.PG_STATEMENT_TIMEOUT_MS });
  metrics?.add(control);
  const shardMap = new ShardMap(control, { cacheTtlMs: c.SHARD_MAP_CACHE_MS, defaultRegion: c.REGION });
  await shardMap.init();

  const configured: ShardDef[] = [
    { id: c.DEFAULT_SHARD_ID, region: c.REGION, writerUrl: c.DATABASE_URL, readerUrls: c.DATABASE_READER_URLS, accepting: true },
    ...(c.SHARDS ?? []).map((s) => ({ ...s, readerUrls: s.readerUrls ?? [], accepting: s.accepting ?? true })),
  ];
  for (const s of configured) {
    await shardMap.registerShard({ ...s, readerUrls: [...s.readerUrls.map(withoutPassword)], writerUrl: withoutPassword(s.writerUrl) });
  }
  const byId = new Map(configured.map((s) => [s.id, s]));

  // A hot standby must have max_connections >= its primary's, so the primary's budget is a safe basis.
  const budget = await control.transaction((q) => readConnectionBudget(q), { readOnly: true });
  const derived = defaultPoolSize({ ...budget, expectedInstances: c.PG_EXPECTED_INSTANCES, headroom: c.PG_POOL_HEADROOM });
  const poolSizes = { reader: c.PG_READER_POOL_MAX ?? derived, shardWriter: c.PG_SHARD_POOL_MAX ?? derived };

  let migrations: Migration[] | undefined;
  const router = new ShardRouter({
    shardMap,
    lsn: opts.lsn ?? new MemoryLsnTracker(c.PG_LSN_TTL_MS),
    metrics,
    probeIntervalMs: c.PG_REPLICA_PROBE_MS,
    unhealthyRetryMs: c.PG_REPLICA_RETRY_MS,
    pools: {
      writerMax: poolSizes.shardWriter,
      readerMax: poolSizes.reader,
      statementTimeoutMs: c.PG_STATEMENT_TIMEOUT_MS,
      idleTimeoutMs: c.PG_IDLE_TIMEOUT_MS,
      acquireTimeoutMs: c.PG_CONNECT_TIMEOUT_MS,
      applicationName: opts.applicationName,
    },
    resolveShard: (def) => {
      const own = byId.get(def.id);
      return own ? { ...def, writerUrl: own.writerUrl, readerUrls: own.readerUrls } : def;
    },
    writerFor: (def) => (def.id === c.DEFAULT_SHARD_ID ? control : undefined),
    // Same migration files on every shard (the runner's advisory lock makes concurrent openers safe).
    prepareShard: async (writer, def) => {
      if (def.id !== c.DEFAULT_SHARD_ID) await runMigrations(writer.pool, (migrations ??= opts.shardMigrations ?? loadMigrations()));
    },
    onError: opts.onError,
  });
  return {
    shardMap,
    router,
    defaultShard: c.DEFAULT_SHARD_ID,
    poolSizes,
    close: async () => {
      await router.close();
      metrics?.remove(control);
    },
  };
}
