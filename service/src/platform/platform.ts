/**
 * The platform core of one process: what the gateway (app.ts `startGateway`) and the worker
 * (worker-main.ts `startWorker`) both build from the configuration, built once here with one cleanup:
 * PostgreSQL writer pool + migrations, the Redis roles, the data layer (shards, readers, read-your-writes),
 * tenant store and audit log, the tiered cache, federation, the task tier, object storage and the
 * cross-replica event bus. It is also where the layers that must not import each other are wired:
 * the task layer's ports (tasks/ports.ts) get the federation layer's implementations.
 *
 * Out of scope: what only one entry has (the gateway's HTTP server, MCP endpoint, authentication and
 * readiness; the worker's job runner and its /metrics listener). Where the two entries built the same part
 * differently, `role` keeps each one's settings as they were (see {@link PlatformOptions.role}).
 */
import { constants as fsConstants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { Logger } from '../log/logger.js';
import { createKeyProvider } from '../gateway/crypto/create-key-provider.js';
import type { RejectedToolName } from '../gateway/catalog.js';
import { createFederation, type Federation } from '../gateway/federation.js';
import { setUpstreamLimits } from '../gateway/upstream-limits.js';
import { createBlobStore } from '../store/blob/create-blob-store.js';
import type { BlobStore } from '../store/blob/blob-store.js';
import { CacheConfigSchema, createCacheLayer, type CacheLayer } from '../store/cache/index.js';
import { loadMigrations, runMigrations, type Migration } from '../store/pg/migrate.js';
import { BatchingAuditLog } from '../store/pg/batching-audit-log.js';
import { PgAuditLog } from '../store/pg/pg-audit-log.js';
import { PgTenantStore } from '../store/pg/pg-tenant-store.js';
import { createPgPool } from '../store/pg/pool.js';
import { createPgDataLayer, RedisLsnTracker, TenantDb, type PgDataLayer } from '../store/pg/routing/index.js';
import type { AuditLog } from '../store/ports.js';
import { createRedisClients, type RedisClients } from '../store/redis/connection.js';
import { RedisServerEventBusHub } from '../store/redis/server-event-bus.js';
import { createTaskTier, type TaskTier } from '../tasks/index.js';
import { builtinNames } from '../tools/index.js';

/** What the core needs besides the configuration. */
export interface PlatformOptions {
  /**
   * Which entry builds it. The gateway's parts are the fuller ones; the worker keeps what it had before
   * the core existed: a pool of at most WORKER_CONCURRENCY + 2, the cache at its defaults, federation
   * without pub/sub, metrics or tuning keys (it only follows and calls upstreams for its jobs), and no
   * writability check of BLOB_LOCAL_DIR.
   */
  readonly role: 'gateway' | 'worker';
  readonly logger: Logger;
  /** Receives the data layer's pool gauges, the cache and federation metrics (gateway). @defaultValue none */
  readonly registry?: Registry;
  /** Receives the task queue gauges (depth, oldest waiting age, DLQ size). @defaultValue none */
  readonly queueGauges?: Registry;
  /** Names this replica in federation's pending-input channels (gateway). @defaultValue a random UUID */
  readonly replicaId?: string;
}

/** The shared parts of one process; closed together by {@link Platform.close}. */
export interface Platform {
  readonly pool: pg.Pool;
  /** The migrations the pool was brought up to (the gateway's readiness compares against them). */
  readonly migrations: Migration[];
  readonly redis: RedisClients;
  readonly data: PgDataLayer;
  /** Tenant-scoped data on the tenant's shard. */
  readonly tenantDb: TenantDb;
  readonly tenants: PgTenantStore;
  readonly audit: PgAuditLog;
  /** Audit of tool calls: batched on the gateway (one shard transaction per batch), written through on the worker. */
  readonly toolAudit: AuditLog;
  readonly cacheLayer: CacheLayer;
  readonly federation: Federation;
  readonly tasks: TaskTier;
  readonly blobs: BlobStore;
  /** Cross-replica server events (list changes) per tenant, on the state Redis; started. */
  readonly eventBus: RedisServerEventBusHub;
  /** Adds a step to {@link close}; steps run in reverse order of registration. */
  onClose(step: () => Promise<unknown>): void;
  /** Runs every cleanup step (the entry's and the core's), last registered first; a failing step is logged. */
  close(): Promise<void>;
}

/** Builds the core; on a failure, whatever was built is closed before the error is rethrown. */
export async function createPlatform(config: Config, opts: PlatformOptions): Promise<Platform> {
  const { logger, role } = opts;
  const gateway = role === 'gateway';
  const cleanups: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const fn of cleanups.reverse())
      await fn().catch((err: unknown) => logger.warn({ err }, gateway ? 'cleanup step failed' : 'worker cleanup step failed'));
  };
  try {
    const pool = createPgPool({
      connectionString: config.DATABASE_URL,
      max: gateway ? config.PG_POOL_MAX : Math.min(config.PG_POOL_MAX, config.WORKER_CONCURRENCY + 2),
      statementTimeoutMs: config.PG_STATEMENT_TIMEOUT_MS,
      idleTimeoutMs: config.PG_IDLE_TIMEOUT_MS,
      connectTimeoutMs: config.PG_CONNECT_TIMEOUT_MS,
      applicationName: `umcp-${role}-${config.REGION}`,
      // Pool gauges come from the data layer (labelled by shard and role), which adopts this pool.
      ...(gateway && { onError: (err: Error) => logger.warn({ err }, 'idle PostgreSQL connection failed') }),
    });
    cleanups.push(() => pool.end());
    const migrations = loadMigrations();
    const result = await runMigrations(pool, migrations);
    if (gateway) logger.info({ applied: result.applied, schemaVersion: result.current }, 'database migrations done');

    const redis = createRedisClients({
      stateUrl: config.REDIS_URL,
      ...(config.REDIS_CACHE_URL && { cacheUrl: config.REDIS_CACHE_URL }),
      keyPrefix: config.REDIS_KEY_PREFIX,
      name: `umcp-${role}`,
      onError: (err, redisRole) => logger.warn({ err: err.message, role: redisRole }, 'redis connection error'),
    });
    cleanups.push(() => redis.close());
    await redis.connect();

    // Data layer (issue 8): shard map + router on this writer pool, reader pools, read-your-writes by LSN.
    const data = await createPgDataLayer({
      config,
      writerPool: pool,
      ...(opts.registry && { registry: opts.registry }),
      lsn: new RedisLsnTracker(redis.state, config.REDIS_KEY_PREFIX, config.PG_LSN_TTL_MS),
      applicationName: `umcp-${role}-${config.REGION}`,
      onError: (err, where) => logger.warn({ err: err.message, where }, 'data layer error'),
    });
    cleanups.push(() => data.close());

    const tenants = new PgTenantStore(pool);
    // Tenant-scoped data (audit entries of a tenant, upstreams, data keys, tasks) on the tenant's shard;
    // a tenant placed by its first write goes to its home region's shard.
    const tenantDb = new TenantDb(pool, { router: data.router, regionOf: async (id) => (await tenants.get(id))?.homeRegion });
    const audit = new PgAuditLog(pool, (err, entry) => logger.error({ err, action: entry.action }, 'audit record failed'), false, tenantDb);
    let toolAudit: AuditLog = audit;
    if (gateway) {
      // Tool calls are audited in batches (one shard transaction per batch, not per call); written within
      // 50 ms, and everything queued is written on shutdown (this cleanup runs before the pools close).
      const batching = new BatchingAuditLog(audit);
      cleanups.push(() => batching.close());
      toolAudit = batching;
    }

    // Federation (issue 6): upstream registry, catalog cache (tiered cache + pub/sub invalidation), client pool.
    const cacheLayer = await createCacheLayer({
      config: gateway ? config : CacheConfigSchema.parse({}),
      cacheRedis: redis.cache,
      stateRedis: redis.state,
      keyPrefix: config.REDIS_KEY_PREFIX,
      ...(opts.registry && { registry: opts.registry }),
      onError: (err, where) => logger.warn({ err, where }, 'cache error'),
    });
    cleanups.push(() => cacheLayer.close());
    // What one upstream may send (response size, listing size): process-wide, read where the bytes arrive.
    setUpstreamLimits({
      maxResponseBytes: config.UPSTREAM_MAX_RESPONSE_BYTES,
      maxTools: config.UPSTREAM_MAX_TOOLS,
      maxDescriptionBytes: config.UPSTREAM_MAX_DESCRIPTION_BYTES,
    });
    const federation = createFederation({
      pool,
      tenantDb,
      cache: cacheLayer.cache,
      allowlist: config.UPSTREAM_ALLOWLIST ?? [],
      // Credential envelope encryption: KMS when SECRETS_KMS_KEY_ID is set, else the local master key.
      keyProvider: createKeyProvider(config, { logger: logger.child({ component: 'key-provider' }) }),
      version: config.VERSION,
      listTtlMs: config.LIST_CACHE_TTL_MS,
      builtinNames,
      // Per-user upstream credentials: consent records and refresh locks (gateways and workers).
      credentialsRedis: redis.state,
      keyPrefix: config.REDIS_KEY_PREFIX,
      ...(config.PUBLIC_URL && { publicUrl: config.PUBLIC_URL }),
      consentTtlMs: config.UPSTREAM_CONSENT_TTL_MS,
      ...(gateway && {
        ...(opts.registry && { registry: opts.registry }),
        pageSize: config.FEDERATION_PAGE_SIZE,
        idleMs: config.UPSTREAM_IDLE_MS,
        breakerThreshold: config.UPSTREAM_BREAKER_THRESHOLD,
        halfOpenAfterMs: config.UPSTREAM_HALF_OPEN_MS,
        stateRedis: redis.state,
        keyPrefix: config.REDIS_KEY_PREFIX,
        ...(opts.replicaId && { replicaId: opts.replicaId }),
        onError: (err: unknown, where: string) => logger.debug({ err: err instanceof Error ? err.message : String(err), where }, 'federation: upstream error'),
        onRejectedToolName: (r: RejectedToolName) =>
          logger.warn(
            { tenantId: r.tenantId, upstream: r.namespace, tool: r.name, reason: r.reason },
            'upstream tool not listed: its exposed name breaks the tool-name rule or clashes',
          ),
      }),
    });
    cleanups.push(() => federation.close());
    if (gateway) await federation.start();

    // Tasks (issue 7): task store + queue producer. The task layer's ports get the federation layer's
    // implementations here (tasks/ports.ts); the worker never attaches the MCP surface, so there they stay unused.
    const tasks = createTaskTier({
      config,
      pool,
      tenantDb,
      stateRedis: redis.state,
      redisUrl: config.REDIS_URL,
      keyPrefix: config.REDIS_KEY_PREFIX,
      ...(opts.queueGauges && { registry: opts.queueGauges }),
      // Through the cached directory (as the router reads it), not the registry's PostgreSQL listing:
      // this runs on every upstream tools/call.
      upstreams: async (tenantId) =>
        (await federation.directory.list(tenantId)).map((u) => ({ namespace: u.namespace, root: u.root, longRunning: u.options.longRunning })),
      upstreamTaskSupport: (tenantId, tool) => federation.catalog.legacyTaskSupport(tenantId, tool),
    });
    tasks.useRemote(federation.remoteTasks);
    cleanups.push(() => tasks.close());

    // Object storage (issue 8): large tool results by reference.
    const blobConfig = config.BLOB_BACKEND === 'local' ? { ...config, BLOB_LOCAL_DIR: resolvePath(config.BLOB_LOCAL_DIR) } : config;
    if (gateway && blobConfig.BLOB_BACKEND === 'local') {
      // Fail at startup, not on the first large result, when the directory cannot be written.
      const dir = blobConfig.BLOB_LOCAL_DIR;
      await mkdir(dir, { recursive: true })
        .then(() => access(dir, fsConstants.W_OK))
        .catch((err: unknown) => {
          throw new Error(
            `BLOB_LOCAL_DIR: ${dir} cannot be created or written (${(err as { code?: string }).code ?? String(err)}); set BLOB_LOCAL_DIR to a writable directory, or BLOB_BACKEND=s3`,
          );
        });
    }
    const blobs = createBlobStore(blobConfig);
    cleanups.push(() => blobs.close());
    if (gateway) {
      logger.info(
        {
          backend: blobConfig.BLOB_BACKEND,
          ...(blobConfig.BLOB_BACKEND === 'local'
            ? { dir: blobConfig.BLOB_LOCAL_DIR }
            : { bucket: blobConfig.BLOB_S3_BUCKET, prefix: blobConfig.BLOB_S3_PREFIX }),
          largeResultBytes: config.LARGE_RESULT_BYTES,
          retentionDays: config.BLOB_RETENTION_DAYS,
        },
        blobConfig.BLOB_BACKEND === 'local' ? 'object storage: local directory (results are readable on replicas sharing it)' : 'object storage: S3',
      );
    }

    // Tools may announce list changes; they reach the tenant's listeners on every gateway.
    const busLog = gateway ? logger.child({ component: 'mcp' }) : logger;
    const eventBus = new RedisServerEventBusHub({
      redis: redis.state,
      keyPrefix: config.REDIS_KEY_PREFIX,
      onerror: (err) => busLog.warn({ err }, `${gateway ? 'mcp' : 'worker'}: event bus error`),
    });
    await eventBus.start();
    cleanups.push(() => eventBus.close());

    return {
      pool,
      migrations,
      redis,
      data,
      tenantDb,
      tenants,
      audit,
      toolAudit,
      cacheLayer,
      federation,
      tasks,
      blobs,
      eventBus,
      onClose: (step) => void cleanups.push(step),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
