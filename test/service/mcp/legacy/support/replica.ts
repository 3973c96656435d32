/**
 * One legacy-leg replica for tests: a node:http server on a free loopback port serving /mcp through
 * `createLegacyHandler`, with a test principal taken from `Authorization: Bearer <tenant>:<subject>`.
 */
import { toNodeHandler } from '@modelcontextprotocol/node';
import type { McpServerFactory } from '@modelcontextprotocol/server';
import { Redis } from 'ioredis';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { Principal } from '../../../../../service/src/domain/principal.js';
import { createLegacyHandler, type LegacyMcpHandler } from '../../../../../service/src/mcp/legacy/index.js';
import type { LegacyConfig } from '../../../../../service/src/mcp/legacy/config.js';
import { testFactory } from './test-factory.js';

/** Test defaults: short lease so lost calls surface quickly. */
export const TEST_CONFIG: LegacyConfig = {
  SESSION_TTL_SECONDS: 60,
  EVENT_LOG_MAX_EVENTS: 1000,
  EVENT_LOG_TTL_SECONDS: 60,
  CALL_LEASE_MS: 1500,
  SSE_KEEPALIVE_MS: 15_000,
  SSE_RETRY_MS: 200,
  MCP_MAX_BODY_BYTES: 1024 * 1024,
  MAX_SUBSCRIPTIONS: 100,
};

/** `Authorization` value for a test principal. */
export function bearer(tenant: string, subject = 'key:1'): string {
  return `Bearer ${tenant}:${subject}`;
}

function principalOf(request: Request): Principal | undefined {
  const m = /^Bearer ([a-z0-9-]+):(.+)$/.exec(request.headers.get('authorization') ?? '');
  if (!m) return undefined;
  return { tenantId: `t-${m[1]}`, tenantName: m[1]!, subject: m[2]!, kind: 'api-key', toolsets: [], scopes: [] };
}

/** A running test replica. */
export interface TestReplica {
  readonly url: string;
  readonly handler: LegacyMcpHandler;
  readonly registry: Registry;
  stop(): Promise<void>;
}

/** Starts a replica on `redisUrl` with `keyPrefix`. */
export async function startReplica(opts: {
  redisUrl: string;
  keyPrefix: string;
  replicaId?: string;
  config?: Partial<LegacyConfig>;
  /** Receives every log line (JSON objects) when given. */
  logLines?: Record<string, unknown>[];
  /** The server factory. @defaultValue testFactory */
  factory?: McpServerFactory;
}): Promise<TestReplica> {
  const redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 2 });
  const registry = new Registry();
  const handler = createLegacyHandler({
    factory: opts.factory ?? testFactory,
    stateRedis: redis,
    keyPrefix: opts.keyPrefix,
    config: { ...TEST_CONFIG, ...opts.config },
    logger: opts.logLines
      ? pino({ level: 'info' }, { write: (line: string) => void opts.logLines!.push(JSON.parse(line) as Record<string, unknown>) })
      : pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    registry,
    ...(opts.replicaId ? { replicaId: opts.replicaId } : {}),
  });
  let n = 0;
  const node = toNodeHandler({
    fetch: async (request) => {
      const principal = principalOf(request);
      if (!principal) return new Response('unauthorized', { status: 401 });
      return handler.handle(request, principal, { requestId: `r${++n}` });
    },
  });
  const server: Server = createServer((req, res) => void node(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    handler,
    registry,
    async stop() {
      await handler.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      redis.disconnect();
    },
  };
}
