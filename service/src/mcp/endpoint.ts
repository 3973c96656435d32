/**
 * The seam between the HTTP layer and MCP serving. The HTTP layer has already checked Host/Origin,
 * authenticated the caller (principal), applied the tenant rate limit and assigned a request id; the
 * endpoint does everything MCP: era classification (2026-07-28 vs 2025-era), validation, sessions, SSE.
 *
 * CONTRACT ONLY — the MCP implementation (service/src/mcp/) provides `createMcpEndpoint` with this shape:
 *
 *   import type { Redis } from 'ioredis';
 *   import type { Logger } from 'pino';
 *   export interface McpEndpointDeps {
 *     config: McpConfig;            // z.output of McpConfigSchema (service/src/mcp/config.ts), parsed once by service/src/config.ts
 *     stateRedis: Redis;            // the "state" Redis role (sessions, event log, pub/sub); owned by the caller
 *     keyPrefix: string;            // every Redis key this endpoint writes starts with it (tests use a unique one)
 *     audit: AuditLog;              // store/ports.ts
 *     logger: Logger;
 *     deployment: { region: string; version: string; health(): Promise<Record<string, unknown>> };
 *   }
 *   export function createMcpEndpoint(deps: McpEndpointDeps): Promise<McpEndpoint>;
 */
import type { Principal } from '../domain/principal.js';

export interface McpRequestInfo {
  readonly requestId: string;
}

export interface McpEndpoint {
  /** Serves one HTTP request to /mcp (POST, GET, DELETE). */
  handle(request: Request, principal: Principal, info: McpRequestInfo): Promise<Response>;
  /** Graceful shutdown step 1: refuse new sessions, close SSE streams with a retry hint. */
  drain(): Promise<void>;
  close(): Promise<void>;
}
