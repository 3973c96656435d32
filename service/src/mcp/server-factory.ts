/**
 * The tenant-keyed server factory: a fresh `McpServer` per request (or per 2025-era session
 * re-hydration), built from the caller's enabled toolsets. Nothing is kept between requests.
 *
 * Both protocol legs use it: the modern leg through `createMcpHandler`, the 2025-era leg (B2's
 * service/src/mcp/legacy) by calling {@link TenantServerFactory} with `era: 'legacy'` and adding its
 * session-scoped handlers (logging/setLevel level, resources/subscribe) to the returned instance.
 */
import {
  McpServer,
  type AuthInfo,
  type McpRequestContext,
  type ServerCapabilities,
  type ServerContext,
  type ServerNotifier,
} from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import type { Principal } from '../domain/principal.js';
import type { AuditLog } from '../store/ports.js';
import { knownToolsets, type DeploymentInfo, type ToolsetContext } from '../tools/index.js';
import type { McpConfig } from './config.js';
import type { RotatingRequestStateCodec } from './request-state.js';

/** Name this server reports in `serverInfo` (discover, initialize, result `_meta`). */
export const SERVER_NAME = 'unified-mcp-platform';

/** What the factory needs from the platform. */
export interface ServerFactoryDeps {
  readonly config: Pick<McpConfig, 'LIST_CACHE_TTL_MS'>;
  readonly audit: AuditLog;
  readonly logger: Logger;
  readonly deployment: DeploymentInfo;
  /** Publishes change events to the tenant's listeners on every replica, both protocol eras. */
  readonly notifierFor: (tenantId: string) => ServerNotifier;
  readonly requestState: RotatingRequestStateCodec;
}

/** The principal the endpoint put into the SDK `authInfo` (`extra.principal`), or undefined. */
export function principalOf(authInfo: AuthInfo | undefined): Principal | undefined {
  const principal = authInfo?.extra?.['principal'] as Principal | undefined;
  return principal && typeof principal.tenantId === 'string' ? principal : undefined;
}

/** The SDK `authInfo` carrying a principal (same shape the legacy leg builds). */
export function authInfoFor(principal: Principal, requestId?: string): AuthInfo {
  return { token: '', clientId: principal.subject, scopes: [...principal.scopes], extra: { principal, requestId } };
}

/** Per-call facts the factory stamps into audit entries. */
export interface ServerRequestFacts {
  readonly requestId?: string;
}

/** Builds the server for one principal and one serving unit. */
export type TenantServerFactory = (principal: Principal, ctx: Pick<McpRequestContext, 'era'> & ServerRequestFacts) => McpServer;

function mergeCapabilities(list: readonly ServerCapabilities[]): ServerCapabilities {
  const merged: Record<string, unknown> = {};
  for (const caps of list) {
    for (const [key, value] of Object.entries(caps)) {
      merged[key] = { ...((merged[key] as object | undefined) ?? {}), ...(value as object) };
    }
  }
  return merged as ServerCapabilities;
}

/**
 * Creates the factory. Capabilities: `tools` (with listChanged, fed by the Redis bus) always, since
 * the gateway federates upstream tools onto every tenant; everything else only when an enabled
 * toolset needs it. Cache hints: list/read/discover results depend on the tenant, so they are
 * `private`, valid for LIST_CACHE_TTL_MS.
 */
export function createTenantServerFactory(deps: ServerFactoryDeps): TenantServerFactory {
  const ttlMs = deps.config.LIST_CACHE_TTL_MS;
  const hint = { ttlMs, cacheScope: 'private' as const };
  const cacheHints = {
    'tools/list': hint,
    'prompts/list': hint,
    'resources/list': hint,
    'resources/templates/list': hint,
    'resources/read': hint,
    'server/discover': hint,
  };

  return (principal, { era, requestId }) => {
    const toolsets = knownToolsets(principal.toolsets, (name) =>
      deps.logger.warn({ tenantId: principal.tenantId, toolset: name }, 'tenant names an unknown toolset; skipped'),
    );
    const capabilities = mergeCapabilities([{ tools: { listChanged: true } }, ...toolsets.map((t) => t.capabilities)]);
    const server = new McpServer(
      { name: SERVER_NAME, version: deps.deployment.version },
      {
        capabilities,
        cacheHints,
        requestState: { verify: deps.requestState.check },
        instructions: `Unified MCP Platform gateway, tenant ${principal.tenantName}. Toolsets: ${toolsets.map((t) => t.name).join(', ') || 'none'}.`,
      },
    );
    auditToolCalls(server, principal, deps, { era, requestId });
    const ctx: ToolsetContext = {
      principal,
      deployment: deps.deployment,
      notify: deps.notifierFor(principal.tenantId),
      requestState: {
        mint: (payload, c) => deps.requestState.mint(payload, c),
        read: async <T extends Record<string, unknown>>(c: ServerContext) => {
          const raw = c.mcpReq.requestState();
          return typeof raw === 'string' ? ((await deps.requestState.verify(raw, c)) as T) : undefined;
        },
      },
    };
    for (const toolset of toolsets) toolset.register(server, ctx);
    if (era === 'legacy' && capabilities.resources?.subscribe) acceptResourceSubscriptions(server);
    return server;
  };
}

/**
 * 2025-era `resources/subscribe` / `resources/unsubscribe`: the instance acknowledges them and the
 * session layer (./legacy) persists the subscription once the answer succeeded.
 * The 2026-07-28 era has no such methods (subscriptions/listen replaces them).
 */
function acceptResourceSubscriptions(server: McpServer): void {
  server.server.setRequestHandler('resources/subscribe', async () => ({}));
  server.server.setRequestHandler('resources/unsubscribe', async () => ({}));
}

type AnyCallback = (...args: unknown[]) => unknown;

/**
 * Wraps every tool registered on `server` so each call is audited: actor, tool, outcome, duration.
 * Argument values are never recorded (they may hold secrets).
 */
function auditToolCalls(
  server: McpServer,
  principal: Principal,
  deps: Pick<ServerFactoryDeps, 'audit' | 'logger'>,
  facts: { era: 'legacy' | 'modern'; requestId?: string },
): void {
  const register = server.registerTool.bind(server) as (name: string, config: unknown, cb: AnyCallback) => unknown;
  const wrapped = (name: string, config: unknown, cb: AnyCallback) =>
    register(name, config, async (...args: unknown[]) => {
      const started = performance.now();
      let outcome: 'ok' | 'error' = 'error';
      try {
        const result = (await cb(...args)) as { isError?: boolean; resultType?: string } | undefined;
        outcome = result?.isError ? 'error' : 'ok';
        return result;
      } finally {
        const durationMs = Math.round(performance.now() - started);
        deps.audit
          .record({
            tenantId: principal.tenantId,
            actor: principal.subject,
            action: 'tools/call',
            target: name,
            outcome,
            durationMs,
            ...(facts.requestId ? { requestId: facts.requestId } : {}),
            detail: { era: facts.era },
          })
          .catch((err: unknown) => deps.logger.warn({ err, tool: name }, 'audit record failed'));
      }
    });
  (server as unknown as { registerTool: typeof wrapped }).registerTool = wrapped;
}
