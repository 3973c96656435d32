/**
 * The settings of the legacy (2025-era, sessionful) leg, taken from the MCP layer's parsed config
 * (service/src/mcp/config.ts) so every key is parsed once at startup with the rest of the service.
 */
import type { McpConfig } from '../config.js';

/** The McpConfig keys this leg reads. */
export type LegacyConfig = Pick<
  McpConfig,
  | 'SESSION_TTL_SECONDS'
  | 'EVENT_LOG_MAX_EVENTS'
  | 'EVENT_LOG_TTL_SECONDS'
  | 'CALL_LEASE_MS'
  | 'SSE_KEEPALIVE_MS'
  | 'SSE_RETRY_MS'
  | 'MCP_MAX_BODY_BYTES'
  | 'MAX_SUBSCRIPTIONS'
>;

/** Resolved settings in the units the code uses. */
export interface LegacySettings {
  readonly sessionTtlSeconds: number;
  readonly eventLogMaxEvents: number;
  readonly eventLogTtlSeconds: number;
  /** Producer lease of a running call; renewed every third of it. */
  readonly leaseMs: number;
  readonly keepAliveMs: number;
  readonly retryMs: number;
  readonly maxBodyBytes: number;
  readonly maxSubscriptions: number;
}

/** Maps the config keys onto the leg's settings. */
export function legacySettings(config: LegacyConfig): LegacySettings {
  return {
    sessionTtlSeconds: config.SESSION_TTL_SECONDS,
    eventLogMaxEvents: config.EVENT_LOG_MAX_EVENTS,
    eventLogTtlSeconds: config.EVENT_LOG_TTL_SECONDS,
    leaseMs: config.CALL_LEASE_MS,
    keepAliveMs: config.SSE_KEEPALIVE_MS,
    retryMs: config.SSE_RETRY_MS,
    maxBodyBytes: config.MCP_MAX_BODY_BYTES,
    maxSubscriptions: config.MAX_SUBSCRIPTIONS,
  };
}
