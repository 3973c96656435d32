/**
 * Composition root of one gateway process: config -> logger, metrics, the platform core (pools and
 * migrations, Redis, stores, cache, federation, tasks, object storage, event bus: service/src/platform/,
 * shared with the worker), then what only a gateway has: API keys, MCP endpoint, HTTP server, readiness.
 * `npm run gateway` (gateway-main.ts), `npm start` (local/main.ts) and the tests all start gateways through
 * `startGateway`, so there is one wiring.
 *
 * Out of scope here: signals (the entry points own them) and the task worker (worker-main.ts;
 * local/main.ts starts one in process).
 */
import { once } from 'node:events';
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
import { limitsAdminRoute } from './gateway/limits/admin-routes.js';
import { LimitService } from './gateway/limits/limit-service.js';
import { userTokenAdminRoute } from './gateway/user-token-admin-routes.js';
import { dlqAdminRoute, taskRedriveAdminRoute } from './tasks/index.js';
import { createMcpEndpoint, type McpEndpoint, type McpEndpointDeps } from './mcp/endpoint.js';
import { largeResultMetrics } from './mcp/large-results.js';
import { createPlatform } from './platform/platform.js';
import { startBlobRetention } from './store/blob/retention-schedule.js';
import { CachedApiKeyStore, CachedTenantStore, CachedVirtualServerStore } from './store/cache/index.js';
import { PgVirtualServerStore } from './store/pg/pg-virtual-server-store.js';
import { virtualServerAdminRoute } from './http/virtual-servers-admin.js';
import { tenantSurface } from './mcp/view/tenant-surface.js';
import { shardAdminRoute, TENANT_TABLES } from './store/pg/routing/index.js';
import type { ApiKeyStore, TenantStore } from './store/ports.js';
import { resolveToolsets } from './tools/index.js';
import { migrationsCurrent } from './store/pg/migrate.js';
import { PgApiKeyStore } from './store/pg/pg-api-key-store.js';
import type { PgAuditLog } from './store/pg/pg-audit-log.js';
import type { PgTenantStore } from './store/pg/pg-tenant-store.js';
import { PgLimitStore } from './store/pg/limit-store.js';
import { RedisLimitCounters, RedisRateLimiter } from './store/redis/rate-limiter.js';

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
  const platform = await createPlatform(config, {
    role: 'gateway',
    logger,
    registry,
    queueGauges: registry,
    ...(opts.replicaId && { replicaId: opts.replicaId }),
  });
  const { pool, redis, data, federation, tasks, blobs, audit, toolAudit, cacheLayer, migrations } = platform;

  try {
    const pgApiKeys = new PgApiKeyStore(pool, (err) => logger.warn({ err }, 'api key last_used_at update failed'));

    let migrated = false;
    // Each probe is bounded so /readyz answers within ~2 s even while a dependency hangs.
    const probe = (p: Promise<unknown>) =>
      Promise.race([
        p.then(
          () => true,
          () => false,
        ),
        new Promise<boolean>((r) => setTimeout(() => r(false), READY_PROBE_TIMEOUT_MS).unref()),
      ]);
    const checkReady = async () => {
      const [postgres, redisOk] = await Promise.all([
        probe(pool.query('SELECT 1')),
        probe(redis.ping().then((ok) => (ok ? ok : Promise.reject(new Error('ping'))))),
      ]);
      if (!migrated && postgres) migrated = await migrationsCurrent(pool, migrations).catch(() => false);
      return { postgres, redis: redisOk, migrations: migrated };
    };

    // API key lookup and tenant config through the shared cache: changes and revocations reach every replica via pub/sub.
    const tenants = config.CACHE_ENABLED ? new CachedTenantStore(platform.tenants, cacheLayer.cache) : platform.tenants;
    // Virtual servers (issue 20): read on every request through one, so cached; changes reach every replica via pub/sub.
    const pgVirtualServers = new PgVirtualServerStore(pool, platform.tenantDb);
    const virtualServers = config.CACHE_ENABLED ? new CachedVirtualServerStore(pgVirtualServers, cacheLayer.cache) : pgVirtualServers;
    const apiKeys = config.CACHE_ENABLED ? new CachedApiKeyStore(pgApiKeys, cacheLayer.cache, { negativeTtlMs: config.CACHE_NEGATIVE_TTL_MS }) : pgApiKeys;

    // Object storage: the retention purge runs on one replica at a time.
    if (config.BLOB_RETENTION_DAYS > 0) {
      const retention = startBlobRetention({
        store: blobs,
        redis: redis.state,
        keyPrefix: config.REDIS_KEY_PREFIX,
        intervalMs: config.BLOB_PURGE_INTERVAL_MS,
        logger,
      });
      platform.onClose(() => retention.stop());
    }

    // Tenant-defined limits (docs/limits.md): definitions on the tenant's shard through the shared cache, counters in the state Redis.
    const limits = new LimitService({
      store: new PgLimitStore(pool, platform.tenantDb),
      cache: cacheLayer.cache,
      counters: new RedisLimitCounters(redis.state, config.REDIS_KEY_PREFIX),
      logger,
      registry,
      counterTimeoutMs: config.LIMITS_COUNTER_TIMEOUT_MS,
    });

    const endpoint = await (opts.createEndpoint ?? createMcpEndpoint)({
      federation,
      config,
      stateRedis: redis.state,
      keyPrefix: config.REDIS_KEY_PREFIX,
      tasks,
      largeResults: {
        store: blobs,
        thresholdBytes: config.LARGE_RESULT_BYTES,
        retentionDays: config.BLOB_RETENTION_DAYS,
        logger,
        metrics: largeResultMetrics(registry),
      },
      audit: toolAudit,
      limits,
      logger,
      registry,
      ...(opts.replicaId && { replicaId: opts.replicaId }),
      eventBus: platform.eventBus,
      virtualServers,
      deployment: { region: config.REGION, version: config.VERSION, health: async () => ({ ...(await checkReady()), draining: http.draining }) },
    });
    platform.onClose(() => endpoint.close());

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
      requestLimits: limits,
      ...(config.ADMIN_TOKEN && {
        admin: createAdminHandler({
          adminToken: config.ADMIN_TOKEN,
          tenants,
          apiKeys,
          audit,
          logger,
          maxBodyBytes: Math.min(config.MAX_BODY_BYTES, 1024 * 1024),
          onCredentialsChanged: () => authenticator.invalidate(),
          virtualServers,
          extensions: [
            userTokenAdminRoute(() => federation.userTokens, federation.directory),
            upstreamAdminRoute(federation.registry, () => federation.secrets),
            limitsAdminRoute(limits),
            virtualServerAdminRoute({
              store: virtualServers,
              surface: tenantSurface(federation.catalog),
              changed: (tenantId) => endpoint.viewsChanged?.(tenantId),
            }),
            shardAdminRoute(data, TENANT_TABLES),
            dlqAdminRoute(tasks.service),
            taskRedriveAdminRoute(tasks.service),
          ],
          validateToolsets: (names) => void resolveToolsets(names),
          checkToolsetNames: (tenant, names) => federation.registry.checkToolsets(tenant, names),
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
          return {
            waiting: q.waiting,
            active: q.active,
            delayed: q.delayed,
            failed: q.failed,
            deadLettered: q.dlq,
            oldestWaitingSeconds: q.oldestWaitingAgeSeconds,
          };
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
      ...(() => {
        const routes = federation.oauthRoutes((entry) => audit.record(entry));
        return routes ? { oauthRoutes: routes } : {};
      })(),
      maxBodyBytes: config.MAX_BODY_BYTES,
      requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
      maxDrainBytes: config.MAX_DRAIN_BYTES,
      limits: {
        maxConnections: config.MAX_CONNECTIONS,
        headersTimeoutMs: config.HEADERS_TIMEOUT_MS,
        requestReceiveTimeoutMs: config.REQUEST_RECEIVE_TIMEOUT_MS,
        keepAliveTimeoutMs: config.KEEP_ALIVE_TIMEOUT_MS,
        sseStreamsPerTenant: config.SSE_STREAMS_PER_TENANT,
        refusalDelayMs: config.RATE_LIMIT_REFUSAL_DELAY_MS,
      },
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
        await platform.close();
        logger.info('gateway stopped');
      })());

    return { url, mcpUrl: `${url}/mcp`, port, config, logger, registry, tenants, apiKeys, audit, drain, close };
  } catch (err) {
    await platform.close();
    throw err;
  }
}
