/**
 * The 2025-era leg as the endpoint uses it. The sessionful implementation lives in ./legacy (owned
 * separately); until it is wired in, this adapter serves 2025-era traffic with the SDK's stateless
 * fallback (no sessions, no GET streams, no server-to-client requests beyond the MRTR shim).
 */
import { legacyStatelessFallback, type JSONRPCNotification, type McpServerFactory } from '@modelcontextprotocol/server';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Principal } from '../domain/principal.js';
import type { McpConfig } from './config.js';
import type { McpRequestInfo } from './endpoint.js';
import { authInfoFor } from './server-factory.js';

/** What the legacy leg gets from the endpoint. */
export interface LegacyLegDeps {
  factory: McpServerFactory;
  stateRedis: Redis;
  keyPrefix: string;
  config: McpConfig;
  logger: Logger;
  replicaId?: string;
}

/** The legacy leg's face. */
export interface LegacyLeg {
  handle(request: Request, principal: Principal, info: McpRequestInfo): Promise<Response>;
  notifyTenant(tenantId: string, notification: Pick<JSONRPCNotification, 'method' | 'params'>): Promise<void>;
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** Creates the legacy leg. */
export function createLegacyLeg(deps: LegacyLegDeps): LegacyLeg {
  const fallback = legacyStatelessFallback(deps.factory, (err) => deps.logger.debug({ err: err.message }, 'mcp legacy: rejected'), {
    maxRequestBodySize: deps.config.MCP_MAX_BODY_BYTES,
  });
  return {
    handle: (request, principal, info) => fallback(request, { authInfo: authInfoFor(principal, info.requestId) }),
    notifyTenant: async () => undefined,
    drain: async () => undefined,
    close: async () => undefined,
  };
}
