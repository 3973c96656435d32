/**
 * What a toolset registers on: the registration methods of the SDK's `McpServer`, behind a recorder that
 * keeps what each registration returned. The tool-call pipeline (service/src/mcp/pipeline) reads the
 * registered tools from it (input schema for validation before a task, the handler for a task's run), and
 * `builtinNames` the names; both through the SDK's public `RegisteredTool`, never the server's internals.
 */
import type { McpServer, RegisteredTool } from '@modelcontextprotocol/server';

/** The part of `McpServer` a toolset uses. */
export interface ToolsetServer {
  readonly registerTool: McpServer['registerTool'];
  readonly registerResource: McpServer['registerResource'];
  readonly registerPrompt: McpServer['registerPrompt'];
  /** The low-level server (a toolset reads the session's client capabilities from it). */
  readonly server: Pick<McpServer['server'], 'getClientCapabilities'>;
}

/** A toolset surface over one server, with what was registered through it. */
export interface RecordingSurface extends ToolsetServer {
  /** Tools registered through this surface, by name. */
  readonly tools: ReadonlyMap<string, RegisteredTool>;
  /** Names of the prompts registered through this surface. */
  readonly prompts: ReadonlySet<string>;
}

/** Wraps `server`'s registration methods; toolsets register through the returned surface. */
export function recordingSurface(server: McpServer): RecordingSurface {
  const tools = new Map<string, RegisteredTool>();
  const prompts = new Set<string>();
  const registerTool = (name: string, ...rest: unknown[]): RegisteredTool => {
    const registered = (server.registerTool as (n: string, ...r: unknown[]) => RegisteredTool)(name, ...rest);
    tools.set(name, registered);
    return registered;
  };
  const registerPrompt = (name: string, ...rest: unknown[]): unknown => {
    prompts.add(name);
    return (server.registerPrompt as (n: string, ...r: unknown[]) => unknown)(name, ...rest);
  };
  return {
    tools,
    prompts,
    registerTool: registerTool as McpServer['registerTool'],
    registerPrompt: registerPrompt as McpServer['registerPrompt'],
    registerResource: server.registerResource.bind(server) as McpServer['registerResource'],
    server: server.server,
  };
}
