/**
 * What a built-in toolset is: a named module that registers tools, resources and prompts on a fresh
 * `McpServer` for one request (through a {@link ToolsetServer}). Toolsets know nothing of HTTP, sessions or Redis; what they may use of
 * the platform arrives in {@link ToolsetContext}.
 */
import type { ServerCapabilities, ServerContext, ServerNotifier } from '@modelcontextprotocol/server';
import type { Principal } from '../domain/principal.js';
import type { ToolsetServer } from './surface.js';

/** This deployment, as the `platform` toolset reports it. */
export interface DeploymentInfo {
  readonly region: string;
  readonly version: string;
  health(): Promise<Record<string, unknown>>;
}

/** Everything a toolset may use while registering its surface for one request. */
export interface ToolsetContext {
  /** The authenticated caller (tenant, subject); never null: every MCP request is authenticated. */
  readonly principal: Principal;
  readonly deployment: DeploymentInfo;
  /**
   * Publishes list-change / resource-update events to every `subscriptions/listen` stream of this
   * principal's tenant, on every replica.
   */
  readonly notify: ServerNotifier;
  /**
   * Seals Multi Round-Trip `requestState` with the deployment's shared keys, bound to the caller, so a
   * retry may land on any replica. The server refuses bad state before a handler runs; handlers read
   * the payload with `read(ctx)`.
   */
  readonly requestState: RequestStateMinter;
  /** Serves `search_tools` and `call_tool` (toolsets `search`, `search-only`); absent where tool search is off. */
  readonly toolSearch?: ToolSearchPort;
}

/** Mints and reads integrity-protected `requestState` (see service/src/mcp/request-state.ts). */
export interface RequestStateMinter {
  mint(payload: Record<string, unknown>, ctx: ServerContext): Promise<string>;
  /** The verified payload of this round's requestState, or undefined when the request carried none. */
  read<T extends Record<string, unknown>>(ctx: ServerContext): Promise<T | undefined>;
}

/** A built-in toolset. */
export interface Toolset {
  /** Stable name used in `TOOLSETS` and the tenant's toolset list, e.g. `diagnostics`. */
  readonly name: string;
  readonly description: string;
  /**
   * Capabilities this toolset needs declared (merged by the server factory). Declaring them up front
   * keeps `server/discover` / `initialize` honest even for a request that registers nothing else.
   */
  readonly capabilities: ServerCapabilities;
  register(server: ToolsetServer, ctx: ToolsetContext): void;
}

/** `search_tools` arguments (tools/search.ts has the schema). */
export interface SearchToolsArgs {
  readonly query: string;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

/** `call_tool` arguments (tools/search.ts has the schema). */
export interface CallToolArgs {
  readonly name: string;
  readonly arguments?: Record<string, unknown> | undefined;
}

/** What serves `search_tools` and `call_tool` on one server instance (the MCP layer, mcp/tool-search.ts). */
export interface ToolSearchPort {
  search(args: SearchToolsArgs, ctx: ServerContext): Promise<Record<string, unknown>>;
  call(args: CallToolArgs, ctx: ServerContext): Promise<Record<string, unknown>>;
}
