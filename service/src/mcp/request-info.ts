/**
 * What the HTTP layer tells the MCP endpoint about one request besides the Request itself. Its own module
 * so both legs (legacy-leg.ts, legacy/) can name it without importing endpoint.ts, which imports them.
 */
export interface McpRequestInfo {
  readonly requestId: string;
  /** A POST's body as the HTTP layer read it (the Request still carries it; it is then not read again). */
  readonly body?: string;
  /** The virtual server named by the path (`/mcp/<server>`); absent for `/mcp`. */
  readonly server?: string;
}
