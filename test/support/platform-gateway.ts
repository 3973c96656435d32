/**
 * Starts a gateway for the platform tests on its own database and Redis prefix. The MCP endpoint is a
 * recording endpoint by default: these suites test the HTTP/auth/store layer in front of the seam and
 * need to see exactly what reached it (principal, request id); the MCP suites test the real endpoint.
 */
import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../service/src/config.js';
import { startGateway, type Gateway, type GatewayOptions } from '../../service/src/app.js';
import { createLogger } from '../../service/src/log/logger.js';
import type { McpEndpoint } from '../../service/src/mcp/endpoint.js';
import type { Principal } from '../../service/src/domain/principal.js';
import { createTestDatabase, createTestRedisPrefix, testServiceUrls, type TestDatabase } from './platform-db.js';

/** A test gateway plus what it was started on. */
export interface TestGateway {
  readonly gateway: Gateway;
  readonly db: TestDatabase;
  readonly prefix: string;
  readonly adminToken: string;
  readonly calls: { principal: Principal; requestId: string; body: string }[];
  readonly endpointState: { drained: boolean; closed: boolean };
  /** Closes the gateway, drops the database, deletes the Redis keys. */
  stop(): Promise<void>;
}

/** A fresh request-state key in the MCP layer's `kid:base64secret` format. */
export function testRequestStateKeys(): string {
  return `t1:${randomBytes(32).toString('base64')}`;
}

/** Environment for loadConfig with the test services filled in. */
export function testEnv(overrides: Record<string, string | undefined>, db: TestDatabase, prefix: string, adminToken: string): NodeJS.ProcessEnv {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: db.url,
    REDIS_URL: testServiceUrls().redisUrl,
    REDIS_KEY_PREFIX: prefix,
    ADMIN_TOKEN: adminToken,
    LOG_LEVEL: 'silent',
    REQUEST_STATE_KEYS: testRequestStateKeys(),
    // Its own task queue (removed with the prefix's keys): jobs of one test never reach another run's worker.
    TASK_QUEUE_PREFIX: `${prefix}bull`,
    ...overrides,
  };
}

/** Options of startTestGateway. */
export interface TestGatewayOptions {
  env?: Record<string, string | undefined>;
  /** Delay or stream in the recording endpoint. */
  handle?: (request: Request, principal: Principal) => Promise<Response>;
  /** Use the real MCP endpoint instead of the recording one. */
  realEndpoint?: boolean;
}

/** Starts a gateway on a fresh database and prefix. */
export async function startTestGateway(opts: TestGatewayOptions = {}): Promise<TestGateway> {
  const db = await createTestDatabase();
  const redis = createTestRedisPrefix();
  const adminToken = randomBytes(24).toString('hex');
  const calls: TestGateway['calls'] = [];
  const endpointState = { drained: false, closed: false };
  const endpoint: McpEndpoint = {
    async handle(request, principal, info) {
      const body = await request.text();
      calls.push({ principal, requestId: info.requestId, body });
      if (opts.handle) return opts.handle(request, principal);
      return Response.json({ jsonrpc: '2.0', id: 1, result: { tenant: principal.tenantName, subject: principal.subject } });
    },
    async drain() {
      endpointState.drained = true;
    },
    async close() {
      endpointState.closed = true;
    },
  };
  let config: Config;
  let gateway: Gateway;
  try {
    config = loadConfig(testEnv(opts.env ?? {}, db, redis.prefix, adminToken));
    const gwOpts: GatewayOptions = { logger: createLogger({ level: 'silent' }) };
    if (!opts.realEndpoint) gwOpts.createEndpoint = async () => endpoint;
    gateway = await startGateway(config, gwOpts);
  } catch (err) {
    await db.drop().catch(() => undefined);
    throw err;
  }
  return {
    gateway,
    db,
    prefix: redis.prefix,
    adminToken,
    calls,
    endpointState,
    async stop() {
      await gateway.close();
      await db.drop();
      await redis.cleanup();
    },
  };
}
