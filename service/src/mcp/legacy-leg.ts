/**
 * The 2025-era leg as the endpoint uses it: the sessionful, Redis-backed implementation in ./legacy
 * (sessions, SSE event log with live tail, call leases, cross-replica routing). This adapter is the one
 * seam between the two legs, so swapping the implementation (e.g. the SDK's `legacyStatelessFallback`
 * for a single-process setup) is a change of this file only.
 */
import type { JSONRPCNotification, McpServerFactory } from '@modelcontextprotocol/server';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Principal } from '../domain/principal.js';
import type { McpConfig } from './config.js';
import type { McpRequestInfo } from './request-info.js';
import { createLegacyHandler, type PrereadBody } from './legacy/index.js';
import type { NotificationGateFactory } from './legacy/context.js';

/** What the legacy leg gets from the endpoint. */
export interface LegacyLegDeps {
  factory: McpServerFactory;
  /** Which tenant-wide notifications a session's stream gets (issue 20: views). @defaultValue all */
  notificationGate?: NotificationGateFactory;
  stateRedis: Redis;
  keyPrefix: string;
  config: McpConfig;
  logger: Logger;
  replicaId?: string;
  registry?: Registry;
}

/** The legacy leg's face. */
export interface LegacyLeg {
  /** `preread`: a POST body the endpoint has read already (its text and, when JSON, the parsed value). */
  handle(request: Request, principal: Principal, info: McpRequestInfo, preread?: PrereadBody): Promise<Response>;
  /** Delivers a tenant-wide list_changed / resources/updated notification to every 2025-era session. */
  notifyTenant(tenantId: string, notification: Pick<JSONRPCNotification, 'method' | 'params'>): Promise<void>;
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** Creates the legacy leg. */
export function createLegacyLeg(deps: LegacyLegDeps): LegacyLeg {
  return createLegacyHandler({
    factory: deps.factory,
    ...(deps.notificationGate && { notificationGate: deps.notificationGate }),
    stateRedis: deps.stateRedis,
    keyPrefix: deps.keyPrefix,
    config: deps.config,
    logger: deps.logger,
    ...(deps.replicaId ? { replicaId: deps.replicaId } : {}),
    ...(deps.registry ? { registry: deps.registry } : {}),
  });
}
