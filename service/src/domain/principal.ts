/**
 * Who is calling: resolved once per HTTP request by the auth layer (service/src/http), then handed to the
 * MCP layer, which binds 2025-era sessions to it and scopes every catalog lookup to its tenant.
 */
export interface Principal {
  /** Tenant id (uuid): every store query and Redis key is scoped by it. */
  readonly tenantId: string;
  /** Tenant name (unique, human readable, e.g. `demo`). */
  readonly tenantName: string;
  /** Stable subject: `key:<keyId>` for API keys, the JWT `sub` (prefixed `oauth:`) for OAuth, `anonymous`. */
  readonly subject: string;
  readonly kind: 'api-key' | 'oauth' | 'anonymous';
  /** Built-in toolsets enabled for the tenant (e.g. `platform`, `diagnostics`, `conformance`). */
  readonly toolsets: readonly string[];
  /**
   * OAuth scopes or key scopes; empty for full access. `server:<name>` and `tool:<glob>` restrict what the
   * caller sees (domain/virtual-server.ts, docs/virtual-servers.md); other scopes are ignored here.
   */
  readonly scopes: readonly string[];
  /** The virtual server this request is served by (`/mcp/<server>`, or `/mcp` for a key scoped to one); absent: the whole tenant. */
  readonly server?: string;
}
