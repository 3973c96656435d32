/**
 * A tool call as the tool-call pipeline (service/src/mcp/pipeline) carries it, and the target it ends at.
 * Built-in toolsets and upstream servers are both {@link ToolTarget}s: the pipeline resolves the caller's
 * tool name to one, then runs its stages around `invoke`. Defined here, below the layers, so the
 * federation layer (gateway/) implements targets without importing the MCP layer.
 */
import type { ServerContext } from '@modelcontextprotocol/server';
import type { Principal } from './principal.js';

/** `tools/call` params as the caller sent them (validated by the SDK). */
export interface ToolCallParams {
  readonly name: string;
  readonly arguments?: Record<string, unknown>;
  readonly _meta?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

/** One tool call: who asks, in which protocol era, what, and the SDK request context it arrived with. */
export interface ToolCall {
  readonly principal: Principal;
  readonly era: 'modern' | 'legacy';
  readonly requestId?: string;
  readonly params: ToolCallParams;
  readonly ctx: ServerContext;
}

/** Where a tool call ends: a built-in tool, or a tool of one of the tenant's upstream servers. */
export interface ToolTarget {
  readonly kind: 'builtin' | 'upstream';
  /** The upstream's namespace (upstream targets only). */
  readonly upstream?: string;
  /** Refuses a call this target does not take from the caller (throws a JSON-RPC error). */
  authorize(call: ToolCall): void;
  /** Runs the call; resolves with the tools/call result (complete, input_required or a task). */
  invoke(call: ToolCall): Promise<Record<string, unknown>>;
  /**
   * Present on targets whose upstream takes each caller's own credentials: the target bound to the call's
   * caller, or the answer asking the caller to connect first (the user-credentials stage runs it).
   */
  bindCaller?(call: ToolCall): Promise<{ target: ToolTarget } | { result: Record<string, unknown> }>;
}
