/**
 * `search`: tool search for large catalogs. `search_tools` ranks the tools the caller can see by a query
 * over their names, titles and descriptions; `call_tool` runs one of them by name. With hundreds of
 * federated tools, a client can list only these two (toolset `search-only`, or a virtual server's
 * `toolListing: 'search'`) and still reach every tool.
 *
 * The toolset declares the two tools (schemas, descriptions); what they do depends on the caller's server
 * instance (its tools/list, the tool-call pipeline), so the MCP layer serves them through
 * {@link ToolSearchPort} (service/src/mcp/tool-search.ts).
 */
import { ProtocolError, ProtocolErrorCode, type ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Toolset, ToolsetContext, ToolSearchPort } from './types.js';

/** The built-in tool that searches the caller's tools. */
export const SEARCH_TOOLS = 'search_tools';
/** The built-in tool that calls a tool by name. */
export const CALL_TOOL = 'call_tool';
/** Both names; reserved for every tenant (no root-mounted upstream may expose them). */
export const TOOL_SEARCH_NAMES: ReadonlySet<string> = new Set([SEARCH_TOOLS, CALL_TOOL]);

/** Toolset that lists the two tools beside the rest of the catalog. */
export const SEARCH_TOOLSET = 'search';
/** Toolset that makes tools/list answer only the two tools (every other tool stays callable). */
export const SEARCH_ONLY_TOOLSET = 'search-only';

/** Most results `search_tools` returns per page. */
export const MAX_SEARCH_LIMIT = 50;

/** `search_tools` arguments. */
export const SearchToolsInput = z.object({
  query: z.string().trim().min(1).max(1000).describe('Words to look for in tool names, titles and descriptions; prefixes and small typos match'),
  limit: z.number().int().min(1).max(MAX_SEARCH_LIMIT).default(10).describe(`Results per page (1-${MAX_SEARCH_LIMIT})`),
  cursor: z.string().max(1000).optional().describe('nextCursor of a previous answer to the same query, for the next page'),
});

/** `call_tool` arguments. */
export const CallToolInput = z.object({
  name: z.string().min(1).max(256).describe('Name of the tool to call, as search_tools returned it'),
  arguments: z.record(z.string(), z.unknown()).optional().describe("The tool's arguments, matching its inputSchema"),
});

type Handler<A> = (args: A, ctx: ServerContext) => Promise<Record<string, unknown>>;

function served<A>(ctx: ToolsetContext, pick: (port: ToolSearchPort, args: A, c: ServerContext) => Promise<Record<string, unknown>>): Handler<A> {
  return (args, c) => {
    if (!ctx.toolSearch) throw new ProtocolError(ProtocolErrorCode.InternalError, 'tool search is not served on this instance');
    return pick(ctx.toolSearch, args, c);
  };
}

function register(...[server, ctx]: Parameters<Toolset['register']>): void {
  server.registerTool(
    SEARCH_TOOLS,
    {
      title: 'Search tools',
      description:
        'Finds tools by what they do: ranked full-text search over the names, titles and descriptions of every tool you can call here. ' +
        'Each result carries the name and inputSchema to call it with (tools/call, or call_tool).',
      inputSchema: SearchToolsInput,
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    served<z.output<typeof SearchToolsInput>>(ctx, (p, a, c) => p.search(a, c)) as never,
  );
  server.registerTool(
    CALL_TOOL,
    {
      title: 'Call a tool',
      description: 'Calls the tool named `name` with `arguments`, exactly as tools/call would (same access rules, tasks and errors).',
      inputSchema: CallToolInput,
      annotations: { openWorldHint: true },
    },
    served<z.output<typeof CallToolInput>>(ctx, (p, a, c) => p.call(a, c)) as never,
  );
}

/** The `search` toolset: `search_tools` and `call_tool`, listed beside every other tool. */
export const searchToolset: Toolset = {
  name: SEARCH_TOOLSET,
  description: 'search_tools (ranked search over the tools you can see) and call_tool (call one by name).',
  capabilities: { tools: { listChanged: true } },
  register,
};

/** The `search-only` toolset: the same two tools, and tools/list answers only them. */
export const searchOnlyToolset: Toolset = {
  name: SEARCH_ONLY_TOOLSET,
  description: 'As `search`, and tools/list lists only search_tools and call_tool (every other tool stays callable).',
  capabilities: { tools: { listChanged: true } },
  register,
};
