/**
 * The seam between the HTTP layer and MCP serving. The HTTP layer has already checked Host/Origin,
 * authenticated the caller (principal), applied the tenant rate limit and assigned a request id; the
 * endpoint does everything MCP: era classification (2026-07-28 vs 2025-era), validation, sessions, SSE.
 *
 * PLACEHOLDER CONTRACT — replaced by the MCP implementation (service/src/mcp/).
 */
import type { Principal } from '../domain/principal.js';

export interface McpRequestInfo {
  readonly requestId: string;
}

export interface McpEndpoint {
  /** Serves one HTTP request to /mcp. */
  handle(request: Request, principal: Principal, info: McpRequestInfo): Promise<Response>;
  /** Graceful shutdown step 1: refuse new sessions, close SSE streams with a retry hint. */
  drain(): Promise<void>;
  close(): Promise<void>;
}
