/** PostgreSQL routing: role pools, replica routing, shard map, shard router, tenant moves. */
export { createPgDataLayer, TENANT_TABLES, withoutPassword, type PgDataLayer, type PgDataLayerConfig, type PgDataLayerOptions } from './data-layer.js';
export { PoolAcquireTimeoutError, StatementTimeoutError, TenantMovedError, ShardNotFoundError, TenantMoveError } from './errors.js';
export { MemoryLsnTracker, RedisLsnTracker, parseLsn, formatLsn, type LsnTracker } from './lsn-tracker.js';
export { PoolMetrics } from './pool-metrics.js';
export { defaultPoolSize, readConnectionBudget, type PoolSizeInputs } from './pool-sizing.js';
export { ReplicaRouter, type ConsistencyScope, type ReadTarget, type ReplicaRouterOptions } from './replica-router.js';
export { RolePool, isConnectionError, type PoolRole, type Queryable, type RolePoolOptions } from './role-pool.js';
export { RoutingConfigSchema, type RoutingConfig } from './routing-config.js';
export { ShardMap, ShardInput, choosePlacement, type Placement, type ShardDef } from './shard-map.js';
export { ShardRouter, tenantLockKey, type ShardRouterOptions, type TenantCallOptions } from './shard-router.js';
export { TenantTable } from './table-sync.js';
export { TenantDb, type TenantDbOptions, type TenantRegionLookup } from './tenant-db.js';
export { moveTenant, type MoveTenantOptions, type MoveTenantResult } from './tenant-move.js';
export { shardAdminRoute, type ShardAdminContext } from './admin-route.js';
