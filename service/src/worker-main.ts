/**
 * `npm run worker`: the task worker process (its own image and Deployment; `npm start` runs one in
 * process through {@link startWorker}). Configured only by environment (same keys as the gateway, plus
 * WORKER_* / TASK_*). It runs task jobs from the task queue (TASK_QUEUE_BACKEND: BullMQ, RabbitMQ or SQS) with the same per-tenant server the gateway
 * builds (built-in toolsets + the tenant's upstreams), serves /metrics, /healthz and /readyz on
 * WORKER_METRICS_PORT, and on SIGTERM/SIGINT finishes its jobs within WORKER_SHUTDOWN_GRACE_MS (the rest
 * go back to the queue) and exits 0.
 */
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { Registry } from 'prom-client';
import { loadConfigOrExit, type Config } from './config.js';
import type { Principal } from './domain/principal.js';
import { createLogger, type Logger } from './log/logger.js';
import { startTracing } from './log/tracing-sdk.js';
import { RotatingRequestStateCodec, bindToCaller } from './mcp/request-state.js';
import { largeResultMetrics, offloadToolResult } from './mcp/large-results.js';
import { createTenantServerFactory } from './mcp/server-factory.js';
import { createPlatform } from './platform/platform.js';
import { cancelChannel } from './tasks/index.js';
import { workerMetrics } from './tasks/metrics.js';
import { TaskWorker } from './tasks/task-worker.js';

/** A running worker. */
export interface RunningWorker {
  readonly worker: TaskWorker;
  readonly registry: Registry;
  /** Port of /metrics (undefined when not served). */
  readonly metricsPort: number | undefined;
  /** Graceful stop: finishes or returns running jobs, then closes connections. */
  close(): Promise<void>;
}

/** Starts a worker. `serveMetrics: false` (in-process worker of `npm start`) skips the HTTP listener. */
export async function startWorker(config: Config, opts: { logger?: Logger; registry?: Registry; serveMetrics?: boolean } = {}): Promise<RunningWorker> {
  const logger = opts.logger ?? createLogger({ level: config.LOG_LEVEL, base: { service: 'worker', region: config.REGION, version: config.VERSION } });
  const registry = opts.registry ?? new Registry();
  // Serving its own /metrics, the worker registers the queue gauges (depth, oldest waiting age, DLQ size) too
  // (docs/tasks.md), so queue alerts still see them when no gateway runs. In process (`npm start`) it shares
  // the gateway's registry, which has them already.
  const ownMetrics = opts.serveMetrics !== false;
  const platform = await createPlatform(config, { role: 'worker', logger, ...(ownMetrics && { queueGauges: registry }) });
  const { pool, redis, federation, blobs, audit, eventBus: hub, tasks: tier, tenants } = platform;
  try {
    // Large task results go to object storage like the gateway's (same BLOB_* and LARGE_RESULT_BYTES).
    const largeResults = {
      store: blobs,
      thresholdBytes: config.LARGE_RESULT_BYTES,
      retentionDays: config.BLOB_RETENTION_DAYS,
      logger,
      metrics: largeResultMetrics(registry),
    };
    const factory = createTenantServerFactory({
      config,
      audit,
      logger,
      deployment: { region: config.REGION, version: config.VERSION, health: async () => ({ worker: true }) },
      notifierFor: (tenantId) => {
        const bus = hub.forTenant(tenantId);
        return {
          toolsChanged: () => bus.publish({ kind: 'tools_list_changed' }),
          promptsChanged: () => bus.publish({ kind: 'prompts_list_changed' }),
          resourcesChanged: () => bus.publish({ kind: 'resources_list_changed' }),
          resourceUpdated: (uri: string) => bus.publish({ kind: 'resource_updated', uri }),
        };
      },
      requestState: new RotatingRequestStateCodec(config.REQUEST_STATE_KEYS, config.REQUEST_STATE_TTL_SECONDS, bindToCaller),
      federation,
      largeResults,
      runsTasks: true,
    });
    const principalFor = async (tenantId: string, subject: string): Promise<Principal | null> => {
      const t = await tenants.get(tenantId);
      if (!t || t.status !== 'active') return null;
      const kind = subject.startsWith('key:') ? 'api-key' : subject === 'anonymous' ? 'anonymous' : 'oauth';
      return { tenantId: t.id, tenantName: t.name, subject, kind, toolsets: t.toolsets, scopes: [] };
    };
    const worker = new TaskWorker({
      redisUrl: config.REDIS_URL,
      queue: tier.service.queue,
      store: tier.service.store,
      build: (principal) => factory(principal, { era: 'legacy' }),
      principalFor,
      // Upstream-owned tasks (a 2025-era upstream's, created by a gateway for a 2026-07-28 caller): followed
      // in the upstream session that created them; large results offloaded as the tools' are.
      follow: async (principal, task, hooks) =>
        (await offloadToolResult(
          await federation.remoteTasks.followLegacy(principal, task.follow, hooks),
          principal.tenantId,
          largeResults,
          task.tool,
        )) as Record<string, unknown>,
      policies: tier.policies,
      logger: logger.child({ component: 'task-worker' }),
      metrics: workerMetrics(registry),
      concurrency: config.WORKER_CONCURRENCY,
      lockMs: config.TASK_LOCK_MS,
      stalledIntervalMs: config.TASK_STALLED_INTERVAL_MS,
      shutdownGraceMs: config.WORKER_SHUTDOWN_GRACE_MS,
      cancelChannel: cancelChannel(config.REDIS_KEY_PREFIX),
      keyPrefix: config.REDIS_KEY_PREFIX,
    });
    await worker.start();
    platform.onClose(() => worker.close());
    // Expired task records go away (their TTL promise has been kept).
    const sweeper = setInterval(() => void tier.service.store.sweep().catch((err: unknown) => logger.warn({ err }, 'task sweep failed')), 60_000);
    sweeper.unref();
    platform.onClose(async () => clearInterval(sweeper));

    let http: Server | undefined;
    let draining = false;
    if (opts.serveMetrics !== false) {
      http = createServer((req, res) => {
        const path = (req.url ?? '/').split('?')[0];
        if (path === '/metrics') {
          registry.metrics().then(
            (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
            () => res.writeHead(500).end(),
          );
        } else if (path === '/healthz') res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        else if (path === '/readyz') {
          Promise.all([pool.query('SELECT 1'), redis.ping()]).then(
            () => res.writeHead(draining ? 503 : 200, { 'content-type': 'application/json' }).end(JSON.stringify({ ready: !draining })),
            () => res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ ready: false })),
          );
        } else res.writeHead(404).end();
      });
      http.listen(config.WORKER_METRICS_PORT, config.HOST);
      await once(http, 'listening');
      const server = http;
      platform.onClose(() => new Promise((r) => server.close(r)));
    }
    const metricsPort = http ? (http.address() as AddressInfo).port : undefined;
    logger.info({ concurrency: config.WORKER_CONCURRENCY, metricsPort, queueBackend: config.TASK_QUEUE_BACKEND }, 'task worker running');
    let closed: Promise<void> | undefined;
    return {
      worker,
      registry,
      metricsPort,
      close: () =>
        (closed ??= (async () => {
          draining = true;
          await platform.close();
          logger.info('task worker stopped');
        })()),
    };
  } catch (err) {
    await platform.close();
    throw err;
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.LOG_LEVEL, base: { service: 'worker', region: config.REGION, version: config.VERSION } });
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'unhandled rejection');
    process.exit(1);
  });
  // OpenTelemetry (docs/tracing.md): a task's run joins the trace of the call that created it.
  const tracing = await startTracing(config, { defaultServiceName: 'unified-mcp-worker', version: config.VERSION, region: config.REGION, logger });
  const running = await startWorker(config, { logger });
  process.stdout.write(`WORKER_READY metrics=${running.metricsPort ?? 'none'}\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'worker shutting down');
    running
      .close()
      .then(() => tracing?.shutdown().catch((err: unknown) => logger.warn({ err }, 'tracing: final export failed')))
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'worker shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
