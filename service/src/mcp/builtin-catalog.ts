/**
 * The built-in tools a 2026-07-28 `tools/call` reaches on the direct path (passthrough.ts), without the
 * per-request `McpServer`: the tools of the toolsets in {@link DIRECT_TOOLSETS}, registered once per caller
 * identity on a private instance and kept in a small LRU. The instance's own SDK `tools/call` handler still
 * runs each call (input validation, an exception as an `isError` result, output validation and
 * projection), so a direct call answers exactly as the server path would; what is skipped is building a
 * server, registering every tool (and converting its schemas) and the SDK's request exchange, per request.
 *
 * Only toolsets whose tools read nothing of the request but its signal, `_meta` and `notify` are direct:
 * the others may ask the client (elicitation, sampling), log through the session or read the client's
 * capabilities, and keep the server path. A caller with tool search keeps it too (search wraps the
 * built-ins per request).
 */
import { McpServer } from '@modelcontextprotocol/server';
import type { Principal } from '../domain/principal.js';
import { knownToolsets } from '../tools/index.js';
import { recordingSurface } from '../tools/surface.js';
import { builtinTools, type BuiltinTools } from './pipeline/builtin-tools.js';
import { recordHandlers } from './pipeline/server-handlers.js';
import { SERVER_NAME, toolsetContext, type ServerFactoryDeps } from './server-factory.js';
import { toolSearchMode } from './tool-search.js';

/** Toolsets whose tools may run on the direct path (see the module comment). */
export const DIRECT_TOOLSETS: ReadonlySet<string> = new Set(['diagnostics', 'platform']);

/** Caller identities kept (an entry is one small server with a few tools). */
const MAX_ENTRIES = 256;

/** The direct built-ins of each caller. */
export interface BuiltinCatalog {
  /** The caller's direct built-in tools; undefined when it has none, or uses tool search. */
  builtinsOf(principal: Principal): BuiltinTools | undefined;
}

/** What a tool's registration may capture of its caller: a change to any of it is another entry. */
const identity = (p: Principal) => `${p.tenantId}\n${p.tenantName}\n${p.subject}\n${p.kind}\n${p.toolsets.join(',')}`;

/** Creates the catalog over what the toolsets' registrations use. */
export function createBuiltinCatalog(deps: Pick<ServerFactoryDeps, 'deployment' | 'notifierFor' | 'requestState'>): BuiltinCatalog {
  const entries = new Map<string, BuiltinTools | undefined>();
  const build = (principal: Principal): BuiltinTools | undefined => {
    const enabled = knownToolsets(principal.toolsets, () => undefined);
    const direct = enabled.filter((t) => DIRECT_TOOLSETS.has(t.name));
    if (direct.length === 0 || toolSearchMode(enabled) !== 'off') return undefined;
    const server = new McpServer({ name: SERVER_NAME, version: deps.deployment.version });
    const handlers = recordHandlers(server);
    const surface = recordingSurface(server);
    const ctx = toolsetContext(principal, deps);
    for (const toolset of direct) toolset.register(surface, ctx);
    return builtinTools(surface, handlers, { surfaceErrors: false });
  };
  return {
    builtinsOf(principal) {
      const key = identity(principal);
      if (entries.has(key)) {
        const hit = entries.get(key);
        entries.delete(key);
        entries.set(key, hit);
        return hit;
      }
      const built = build(principal);
      if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value!);
      entries.set(key, built);
      return built;
    },
  };
}
