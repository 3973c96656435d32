/**
 * Composition root of one gateway process: config -> logger, metrics, PostgreSQL pool + migrations,
 * Redis clients, stores, MCP endpoint, HTTP server. `npm run gateway` (gateway-main.ts), `npm start`
 * (local/main.ts) and the tests all start gateways through `startGateway`, so there is one wiring.
 *
 * Out of scope here: signals (the entry points own them) and the task worker (the tasks issue adds it;
 * local/main.ts has the hook).
 */
import { once } from 'node:events';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { allowedHosts, allowedOrigins, type Config } from './config.js';
import { createAdminHandler } from './http/admin.js';
import { Authenticator } from './http/auth.js';
import { createHttpMetrics } from './http/metrics.js';
import { createHttpServer } from './http/server.js';
import { createStatusPage } from './http/status/index.js';
import { createLogger, type Logger } from './log/logger.js';
import { upstreamAdminRoute } from './gateway/admin-routes.js';
import { createFederation } from './gateway/federation.js';
import { createKeyProvider } from './gateway/crypto/create-key-provider.js';
import { createTaskTier, dlqAdminRoute } from './tasks/index.js';
import { createMcpEndpoint, type McpEndpoint, type McpEndpointDeps } from './mcp/endpoint.js';
import { largeResultMetrics } from './mcp/large-results.js';
import { createBlobStore } from './store/blob/create-blob-store.js';
import { startBlobRetention } from './store/blob/retention-schedule.js';
import { CachedApiKeyStore, CachedTenantStore, createCacheLayer } from './store/cache/index.js';
import { createPgDataLayer, RedisLsnTracker, shardAdminRoute, TENANT_TABLES, TenantDb } from './store/pg/routing/index.js';
import type { ApiKeyStore, TenantStore } from './store/ports.js';
import { resolveToolsets } from './tools/index.js';
import { createPgPool } from './store/pg/pool.js';
import { loadMigrations, migrationsCurrent, runMigrations } from './store/pg/migrate.js';
import { PgApiKeyStore } from './store/pg/pg-api-key-store.js';
import { PgAuditLog } from './store/pg/pg-audit-log.js';
import { BatchingAuditLog } from './store/pg/batching-audit-log.js';
import { PgTenantStore } from './store/pg/pg-tenant-store.js';
import { createRedisClients } from './store/redis/connection.js';
import { RedisRateLimiter } from './store/redis/rate-limiter.js';

const READY_PROBE_TIMEOUT_MS = 2_000;

/** What the MCP endpoint factory receives (McpEndpointDeps with the registry always set). */
export type EndpointDeps = McpEndpointDeps & { registry: Registry };

/** Options of startGateway (all optional). */
export interface GatewayOptions {
  /** @defaultValue a pino logger at LOG_LEVEL on stdout */
  logger?: Logger;
  /** Builds the MCP endpoint. @defaultValue createMcpEndpoint from service/src/mcp/endpoint.ts */
  createEndpoint?: (deps: EndpointDeps) => Promise<McpEndpoint>;
  /** Names this replica (leases, routing, logs). @defaultValue a random UUID chosen by the MCP layer */
  replicaId?: string;
}

/** A running gateway. */
export interface Gateway {
  /** Base URL, e.g. http://127.0.0.1:8080 (0.0.0.0 is reported as 127.0.0.1). */
  readonly url: string;
  /** `${url}/mcp` */
  readonly mcpUrl: string;
  readonly port: number;
  readonly config: Config;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly tenants: TenantStore & Pick<PgTenantStore, 'find'>;
  readonly apiKeys: ApiKeyStore;
  readonly audit: PgAuditLog;
  /** Step 1 of shutdown: /readyz 503 at once, the endpoint refuses new sessions and closes SSE streams. */
  drain(): Promise<void>;
  /** Drains (if not yet), lets in-flight requests finish up to SHUTDOWN_GRACE_MS, then closes everything. */
  close(): Promise<void>;
}

/** Starts one gateway: migrations run before it listens; resolves once it accepts connections. */
export async function startGateway(config: Config, opts: GatewayOptions = {}): Promise<Gateway> {
  const logger = opts.logger ?? createLogger({ level: config.LOG_LEVEL, base: { service: 'gateway', region: config.REGION, version: config.VERSION } });
  const registry = new Registry();
  registry.setDefaultLabels({ region: config.REGION });
  const metrics = createHttpMetrics(registry);
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((err: unknown) => logger.warn({ err }, 'cleanup step failed'));
  };

  try {
    const pool = createPgPool({
      connectionString: config.DATABASE_URL,
      max: config.PG_POOL_MAX,
      statementTimeoutMs: config.PG_STATEMENT_TIMEOUT_MS,
      idleTimeoutMs: config.PG_IDLE_TIMEOUT_MS,
      connectTimeoutMs: config.PG_CONNECT_TIMEOUT_MS,
      applicationName: `umcp-gateway-${config.REGION}`,
      // Pool gauges come from the data layer (labelled by shard and role), which adopts this pool.
      onError: (err) => logger.warn({ err }, 'idle PostgreSQL connection failed'),
    });
    cleanups.push(() => pool.end());
    const migrations = loadMigrations();
    const result = await runMigrations(pool, migrations);
    logger.info({ applied: result.applied, schemaVersion: result.current }, 'database migrations done');

    const redis = createRedisClients({
      stateUrl: config.REDIS_URL,
      ...(config.REDIS_CACHE_URL && { cacheUrl: config.REDIS_CACHE_URL }),
      keyPrefix: config.REDIS_KEY_PREFIX,
      name: 'umcp-gateway',
      onError: (err, role) => logger.warn({ err: err.message, role }, 'redis connection error'),
    });
    cleanups.push(() => redis.close());
    await redis.connect();

    // Data layer (issue 8): shard map + router on this writer pool, reader pools, read-your-writes by LSN.
    const data = await createPgDataLayer({
      config,
      writerPool: pool,
      registry,
      lsn: new RedisLsnTracker(redis.state, config.REDIS_KEY_PREFIX, config.PG_LSN_TTL_MS),
      applicationName: `umcp-gateway-${config.REGION}`,
      onError: (err, where) => logger.warn({ err: err.message, where }, 'data layer error'),
    });
    cleanups.push(() => data.close());

    const pgTenants = new PgTenantStore(pool);
    const pgApiKeys = new PgApiKeyStore(pool, (err) => logger.warn({ err }, 'api key last_used_at update failed'));
    // Tenant-scoped data (audit entries of a tenant, upstreams, data keys, tasks) on the tenant's shard;
    // a tenant placed by its first write goes to its home region's shard.
    const tenantDb = new TenantDb(pool, { router: data.router, regionOf: async (id) => (await pgTenants.get(id))?.homeRegion });
    const audit = new PgAuditLog(pool, (err, entry) => logger.error({ err, action: entry.action }, 'audit record failed'), false, tenantDb);
    // Tool calls are audited in batches (one shard transaction per batch, not per call); written within
    // 50 ms, and everything queued is written on shutdown (this cleanup runs before the pools close).
    const toolAudit = new BatchingAuditLog(audit);
    cleanups.push(() => toolAudit.close());

    let migrated = false;
    // Each probe is bounded so /readyz answers within ~2 s even while a dependency hangs.
    const probe = (p: Promise<unknown>) =>
      Promise.race([p.then(() => true, () => false), new Promise<boolean>((r) => setTimeout(() => r(false), READY_PROBE_TIMEOUT_MS).unref())]);
    const checkReady = async () => {
      const [postgres, redisOk] = await Promise.all([probe(pool.query('SELECT 1')), probe(redis.ping().then((ok) => (ok ? ok : Promise.reject(new Error('ping')))))]);
      if (!migrated && postgres) migrated = await migrationsCurrent(pool, migrations).catch(() => false);
      return { postgres, redis: redisOk, migrations: migrated };
    };

    // Federation (issue 6): upstream registry, catalog cache (tiered cache + pub/sub invalidation), client pool.
    const cacheLayer = await createCacheLayer({
      config,
      cacheRedis: redis.cache,
      stateRedis: redis.state,
      keyPrefix: config.REDIS_KEY_PREFIX,
      registry,
      onError: (err, where) => logger.warn({ err, where }, 'cache error'),
    });
    cleanups.push(() => cacheLayer.close());
    // API key lookup and tenant config through the shared cache: changes and revocations reach every replica via pub/sub.
    const tenants = config.CACHE_ENABLED ? new CachedTenantStore(pgTenants, cacheLayer.cache) : pgTenants;
    const apiKeys = config.CACHE_ENABLED ? new CachedApiKeyStore(pgApiKeys, cacheLayer.cache, { negativeTtlMs: config.CACHE_NEGATIVE_TTL_MS }) : pgApiKeys;
    const federation = createFederation({
      pool,
      tenantDb,
      cache: cacheLayer.cache,
      allowlist: config.UPSTREAM_ALLOWLIST ?? [],
      // Credential envelope encryption: KMS when SECRETS_KMS_KEY_ID is set, else the local master key.
      keyProvider: createKeyProvider(config, { logger: logger.child({ component: 'key-provider' }) }),
      audit: toolAudit,
      registry,
      version: config.VERSION,
      listTtlMs: config.LIST_CACHE_TTL_MS,
      pageSize: config.FEDERATION_PAGE_SIZE,
      idleMs: config.UPSTREAM_IDLE_MS,
      breakerThreshold: config.UPSTREAM_BREAKER_THRESHOLD,
      halfOpenAfterMs: config.UPSTREAM_HALF_OPEN_MS,
      stateRedis: redis.state,
      keyPrefix: config.REDIS_KEY_PREFIX,
      ...(opts.replicaId && { replicaId: opts.replicaId }),
      onError: (err, where) => logger.debug({ err: err instanceof Error ? err.message : String(err), where }, 'federation: upstream error'),
    });
    cleanups.push(() => federation.close());
    await federation.start();
    // Tasks (issue 7): task store + queue producer; the worker tier runs the jobs.
    const tasks = createTaskTier({
      config,
      pool,
      tenantDb,
      stateRedis: redis.state,
      redisUrl: config.REDIS_URL,
      keyPrefix: config.REDIS_KEY_PREFIX,
      registry,
      // Through the cached directory (as the router reads it), not the registry's PostgreSQL listing:
      // this runs on every upstream tools/call.
      upstreams: async (tenantId) => (await federation.directory.list(tenantId)).map((u) => ({ namespace: u.namespace, root: u.root, longRunning: u.options.longRunning })),
      upstreamTaskSupport: (tenantId, tool) => federation.catalog.legacyTaskSupport(tenantId, tool),
    });
    tasks.useRemote(federation.remoteTasks);
    cleanups.push(() => tasks.close());

    // Object storage (issue 8): large tool results by reference, retention purge on one replica at a time.
    const blobConfig = config.BLOB_BACKEND === 'local' ? { ...config, BLOB_LOCAL_DIR: resolvePath(config.BLOB_LOCAL_DIR) } : config;
    if (blobConfig.BLOB_BACKEND === 'local') {
      // Fail at startup, not on the first large result, when the directory cannot be written.
      const dir = blobConfig.BLOB_LOCAL_DIR;
      await mkdir(dir, { recursive: true })
        .then(() => access(dir, fsConstants.W_OK))
        .catch((err: unknown) => {
          throw new Error(`BLOB_LOCAL_DIR: ${dir} cannot be created or written (${(err as { code?: string }).code ?? String(err)}); set BLOB_LOCAL_DIR to a writable directory, or BLOB_BACKEND=s3`);
        });
    }
    const blobs = createBlobStore(blobConfig);
    cleanups.push(() => blobs.close());
    logger.info(
      {
        backend: blobConfig.BLOB_BACKEND,
        ...(blobConfig.BLOB_BACKEND === 'local' ? { dir: blobConfig.BLOB_LOCAL_DIR } : { bucket: blobConfig.BLOB_S3_BUCKET, prefix: blobConfig.BLOB_S3_PREFIX }),
        largeResultBytes: config.LARGE_RESULT_BYTES,
        retentionDays: config.BLOB_RETENTION_DAYS,
      },
      blobConfig.BLOB_BACKEND === 'local' ? 'object storage: local directory (results are readable on replicas sharing it)' : 'object storage: S3',
    );
    if (config.BLOB_RETENTION_DAYS > 0) {
      const retention = startBlobRetention({ store: blobs, redis: redis.state, keyPrefix: config.REDIS_KEY_PREFIX, intervalMs: config.BLOB_PURGE_INTERVAL_MS, logger });
      cleanups.push(() => retention.stop());
    }

    const endpoint = await (opts.createEndpoint ?? createMcpEndpoint)({
      federation,
      config,
      stateRedis: redis.state,
      keyPrefix: config.REDIS_KEY_PREFIX,
      tasks,
      largeResults: { store: blobs, thresholdBytes: config.LARGE_RESULT_BYTES, retentionDays: config.BLOB_RETENTION_DAYS, logger, metrics: largeResultMetrics(registry) },
      audit: toolAudit,
      logger,
      registry,
      ...(opts.replicaId && { replicaId: opts.replicaId }),
      deployment: { region: config.REGION, version: config.VERSION, health: async () => ({ ...(await checkReady()), draining: http.draining }) },
    });
    cleanups.push(() => endpoint.close());

    const authenticator = new Authenticator({
      apiKeys,
      tenants,
      // With the shared cache on, a second per-process cache would only delay revocations on other replicas.
      cacheMs: config.CACHE_ENABLED ? 0 : config.API_KEY_CACHE_MS,
      ...(config.ANONYMOUS_TENANT && { anonymousTenant: config.ANONYMOUS_TENANT }),
      ...(config.OAUTH_ISSUER &&
        config.OAUTH_JWKS_URL && {
          oauth: {
            issuer: config.OAUTH_ISSUER,
            jwksUrl: config.OAUTH_JWKS_URL,
            audience: config.OAUTH_AUDIENCE ?? `${(config.PUBLIC_URL ?? '').replace(/\/+$/, '')}/mcp`,
            tenantClaim: config.OAUTH_TENANT_CLAIM,
          },
        }),
    });

    const http = createHttpServer({
      logger,
      metrics,
      authenticator,
      endpoint,
      ...(config.RATE_LIMIT_PER_MINUTE > 0 && {
        rateLimiter: new RedisRateLimiter(redis.state, { limit: config.RATE_LIMIT_PER_MINUTE, keyPrefix: config.REDIS_KEY_PREFIX }),
      }),
      ...(config.ADMIN_TOKEN && {
        admin: createAdminHandler({
          adminToken: config.ADMIN_TOKEN,
          tenants,
          apiKeys,
          audit,
          logger,
          maxBodyBytes: Math.min(config.MAX_BODY_BYTES, 1024 * 1024),
          onCredentialsChanged: () => authenticator.invalidate(),
          extensions: [upstreamAdminRoute(federation.registry, () => federation.secrets), shardAdminRoute(data, TENANT_TABLES), dlqAdminRoute(tasks.service)],
          validateToolsets: (names) => void resolveToolsets(names),
        }),
      }),
      checkReady,
      // Queue health: the BullMQ queue's numbers read from the state Redis (the read the /metrics gauges use);
      // not part of /readyz: a gateway serves non-task traffic without the queue (docs/status-page.md).
      statusPage: createStatusPage({
        region: config.REGION,
        version: config.VERSION,
        checkReady,
        checkQueue: async () => {
          const q = await tasks.queueSnapshot();
          return { waiting: q.waiting, active: q.active, delayed: q.delayed, failed: q.failed, deadLettered: q.dlq, oldestWaitingSeconds: q.oldestWaitingAgeSeconds };
        },
        draining: () => http.draining,
      }).handle,
      ...(() => {
        const hosts = allowedHosts(config);
        return hosts ? { allowedHosts: hosts } : {};
      })(),
      allowedOrigins: allowedOrigins(config),
      ...(config.PUBLIC_URL && { publicUrl: config.PUBLIC_URL }),
      ...(config.OAUTH_ISSUER && { oauthIssuer: config.OAUTH_ISSUER }),
      maxBodyBytes: config.MAX_BODY_BYTES,
      requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
    });
    http.server.listen(config.PORT, config.HOST);
    await once(http.server, 'listening');
    const port = (http.server.address() as AddressInfo).port;
    const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST;
    const url = `http://${host}:${port}`;
    logger.info({ url, mcp: `${url}/mcp` }, 'gateway listening');

    let drained: Promise<void> | undefined;
    const drain = () =>
      (drained ??= (async () => {
        http.startDraining();
        logger.info('draining: not ready, closing streams');
        await endpoint.drain().catch((err: unknown) => logger.warn({ err }, 'endpoint drain failed'));
      })());

    let closed: Promise<void> | undefined;
    const close = () =>
      (closed ??= (async () => {
        await drain();
        const serverClosed = new Promise<void>((resolve) => http.server.close(() => resolve()));
        http.server.closeIdleConnections();
        const deadline = Date.now() + config.SHUTDOWN_GRACE_MS;
        while (http.inFlight() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        if (http.inFlight() > 0) logger.warn({ inFlight: http.inFlight() }, 'shutdown grace period over; closing remaining connections');
        http.server.closeAllConnections();
        await serverClosed;
        await cleanup();
        logger.info('gateway stopped');
      })());

    return { url, mcpUrl: `${url}/mcp`, port, config, logger, registry, tenants, apiKeys, audit, drain, close };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
