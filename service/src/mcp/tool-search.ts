/**
 * Tool search on one server instance: serves `search_tools` and `call_tool` (the toolsets `search` and
 * `search-only`, service/src/tools/search.ts) over the caller's own view of the catalog.
 *
 * - What the caller can see is what this instance's tools/list answers: the handler registered last
 *   before {@link InstanceToolSearch.install} (built-ins, the federated catalog, and any filter wrapped
 *   around them), walked through all its pages. Search and `call_tool` apply exactly that view.
 * - `search_tools` ranks that view (./tool-search-index.ts, index cached per tenant and view).
 * - `call_tool` is a pipeline target: it runs the named tool through the same tool-call pipeline as a
 *   tools/call of that name (authorization, tasks, validation, audit, offload), with the outer call's
 *   other params (`_meta`, a 2025-era `task`), and hands back its result or error unchanged. A name the
 *   caller cannot see is "not found", worded as tools/call words it.
 * - With `searchOnly`, tools/list answers only the two tools; every tool stays callable by name.
 *
 * The server factory decides the mode ({@link toolSearchMode}) and calls, in order: `port` into the
 * toolsets' context, `builtins` around the scope's built-ins, `install` after every tools/list wrapper.
 */
import { ProtocolError, ProtocolErrorCode, type ServerContext } from '@modelcontextprotocol/server';
import type { Principal } from '../domain/principal.js';
import type { View } from '../domain/virtual-server.js';
import type { ToolCall, ToolCallParams, ToolTarget } from '../domain/tool-call.js';
import {
  CALL_TOOL,
  SEARCH_ONLY_TOOLSET,
  SEARCH_TOOLS,
  SEARCH_TOOLSET,
  TOOL_SEARCH_NAMES,
  resolveToolsets,
  type CallToolArgs,
  type SearchToolsArgs,
  type Toolset,
  type ToolSearchPort,
} from '../tools/index.js';
import type { BuiltinTools } from './pipeline/builtin-tools.js';
import type { RequestHandler, ServerHandlers } from './pipeline/server-handlers.js';
import { ToolIndexCache, type ListedTool } from './tool-search-index.js';

/** Most pages of tools/list walked to collect the caller's view (100 per page: 20,000 tools). */
const MAX_LIST_PAGES = 200;

/** Walks of tools/list started over when the catalog changes under one. */
const MAX_LIST_WALKS = 3;

/** The process's index cache (derived data; see tool-search-index.ts). */
export const toolIndexCache = new ToolIndexCache();

/** How tool search runs for a caller: off, listed beside the other tools, or the only tools listed. */
export type ToolSearchMode = 'off' | 'beside' | 'only';

/** The mode the caller's enabled toolsets ask for. */
export function toolSearchMode(toolsets: readonly Pick<Toolset, 'name'>[]): ToolSearchMode {
  if (toolsets.some((t) => t.name === SEARCH_ONLY_TOOLSET)) return 'only';
  return toolsets.some((t) => t.name === SEARCH_TOOLSET) ? 'beside' : 'off';
}

/**
 * `toolsets` with tool search listing only its two tools: what a virtual server's `toolListing: 'search'`
 * asks for (the factory then finds mode `only`).
 */
export function withSearchOnly(toolsets: readonly Pick<Toolset, 'name'>[]): Toolset[] {
  return resolveToolsets([...toolsets.map((t) => t.name), SEARCH_ONLY_TOOLSET]);
}

/**
 * `view` with the two search tools visible under their own names, whatever the view selects: they show
 * and call only what the view shows (a virtual server listing by search, or a search toolset beside scopes).
 */
export function searchableView(view: View): View {
  return {
    ...view,
    tool: (name) => (TOOL_SEARCH_NAMES.has(name) ? { name } : view.tool(name)),
    toolOriginal: (name) => (TOOL_SEARCH_NAMES.has(name) ? name : view.toolOriginal(name)),
    toolVisible: (name) => TOOL_SEARCH_NAMES.has(name) || view.toolVisible(name),
  };
}

/** Who calls, on this instance. */
export interface ToolSearchFacts {
  readonly principal: Principal;
  readonly era: 'modern' | 'legacy';
  readonly requestId?: string;
}

/** Tool search on one instance. */
export interface InstanceToolSearch {
  /** Serves the two tools (goes into the toolsets' context). */
  readonly port: ToolSearchPort;
  /** The instance's built-ins with `call_tool` as a pipeline target. */
  builtins(inner: BuiltinTools): BuiltinTools;
  /**
   * Takes the instance's tools/list as the caller's view and its tools/call as the way in (the caller's
   * names mapped as for a direct call, then the pipeline); with `searchOnly`, lists only the two tools.
   */
  install(handlers: ServerHandlers): void;
}

type ListPage = { tools?: ListedTool[]; nextCursor?: string; [key: string]: unknown };

function encodeCursor(fingerprint: string, query: string, offset: number): string {
  return Buffer.from(JSON.stringify({ f: fingerprint, q: query, o: offset })).toString('base64url');
}

function decodeCursor(cursor: string, fingerprint: string, query: string): number {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { f?: unknown; q?: unknown; o?: unknown };
    if (c.f === fingerprint && c.q === query && typeof c.o === 'number' && Number.isInteger(c.o) && c.o >= 0) return c.o;
  } catch {
    // fall through
  }
  throw new ProtocolError(
    ProtocolErrorCode.InvalidParams,
    'Invalid cursor: it belongs to another query, or the tools you can see changed since; search again without a cursor',
  );
}

/** A search result: what a client needs to call the tool directly. */
function resultOf(tool: ListedTool, score: number): Record<string, unknown> {
  const { name, title, description, inputSchema, outputSchema, annotations, execution } = tool;
  return {
    name,
    ...(title !== undefined && { title }),
    ...(description !== undefined && { description }),
    inputSchema,
    ...(outputSchema !== undefined && { outputSchema }),
    ...(annotations !== undefined && { annotations }),
    ...(execution !== undefined && { execution }),
    score,
  };
}

/** Tool search for one server instance. */
export function createToolSearch(facts: ToolSearchFacts, opts: { searchOnly: boolean; cache?: ToolIndexCache }): InstanceToolSearch {
  const cache = opts.cache ?? toolIndexCache;
  let list: RequestHandler | undefined;
  let call: RequestHandler | undefined;

  const page = async (cursor: string | undefined, ctx: ServerContext): Promise<ListPage> => {
    if (!list) throw new ProtocolError(ProtocolErrorCode.InternalError, 'tool search is not installed on this instance');
    return (await list({ method: 'tools/list', params: cursor === undefined ? {} : { cursor } }, ctx)) as ListPage;
  };

  /** Every tool the caller can see, without the two search tools. */
  const visible = async (ctx: ServerContext): Promise<ListedTool[]> => {
    for (let attempt = 1; ; attempt++) {
      const tools: ListedTool[] = [];
      let cursor: string | undefined;
      try {
        for (let pages = 0; pages < MAX_LIST_PAGES; pages++) {
          const p = await page(cursor, ctx);
          for (const t of p.tools ?? []) if (!TOOL_SEARCH_NAMES.has(t.name)) tools.push(t);
          cursor = p.nextCursor;
          if (cursor === undefined) break;
        }
        return tools;
      } catch (err) {
        // The catalog was rebuilt between two pages (its cursors name a version): walk the new one.
        const stale = cursor !== undefined && err instanceof ProtocolError && err.code === ProtocolErrorCode.InvalidParams;
        if (!stale || attempt >= MAX_LIST_WALKS) throw err;
      }
    }
  };

  const search = async (args: SearchToolsArgs, ctx: ServerContext): Promise<Record<string, unknown>> => {
    const tools = await visible(ctx);
    const index = cache.get(facts.principal.tenantId, tools);
    const hits = index.search(args.query);
    const offset = args.cursor === undefined ? 0 : decodeCursor(args.cursor, index.fingerprint, args.query);
    const byName = new Map(tools.map((t) => [t.name, t]));
    const found = hits.slice(offset, offset + args.limit).map((h) => resultOf(byName.get(h.name)!, h.score));
    const next = offset + args.limit < hits.length ? encodeCursor(index.fingerprint, args.query, offset + args.limit) : undefined;
    const structured = { tools: found, total: hits.length, ...(next && { nextCursor: next }) };
    return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
  };

  /** Runs the named tool through the pipeline, as a tools/call of that name with the outer call's other params. */
  const callThrough = async (outer: ToolCall): Promise<Record<string, unknown>> => {
    const { name, arguments: args } = (outer.params.arguments ?? {}) as Partial<CallToolArgs>;
    if (typeof name !== 'string' || (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))))
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Invalid arguments for tool ${CALL_TOOL}: expected {name: string, arguments?: object}`);
    if (TOOL_SEARCH_NAMES.has(name))
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Tool ${name} cannot be called through ${CALL_TOOL}; call it directly`);
    if (!call) throw new ProtocolError(ProtocolErrorCode.InternalError, 'tool search is not installed on this instance');
    // Worded as the resolver words an unknown name: a tool outside the caller's view does not exist for it.
    if (!(await visible(outer.ctx)).some((t) => t.name === name)) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Tool ${name} not found`);
    const { name: _outer, arguments: _wrapped, ...rest } = outer.params;
    const params: ToolCallParams = { ...rest, name, ...(args !== undefined && { arguments: args }) };
    // The instance's tools/call handler: the caller's name mapped as a direct call's is (renames), then the pipeline.
    return call({ method: 'tools/call', params }, outer.ctx);
  };

  const port: ToolSearchPort = {
    search,
    // Reached only where `builtins` was not applied (the SDK's own tools/call of the tool).
    call: (args, ctx) =>
      callThrough({
        ...facts,
        params: { name: CALL_TOOL, arguments: { ...args }, ...(ctx.mcpReq._meta && { _meta: ctx.mcpReq._meta }) },
        ctx,
      }),
  };

  return {
    port,
    builtins(inner) {
      return {
        target(name) {
          const target = inner.target(name);
          if (name !== CALL_TOOL || !target) return target;
          const through: ToolTarget = { kind: 'builtin', authorize: (c) => target.authorize(c), invoke: callThrough };
          return through;
        },
        validate: (name, args) => inner.validate(name, args),
      };
    },
    install(handlers) {
      list = handlers.current('tools/list');
      call = handlers.current('tools/call');
      if (!opts.searchOnly || !list) return;
      handlers.set('tools/list', async (request, ctx) => {
        if (request.params?.['cursor'] !== undefined)
          throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'Invalid cursor: this server lists search_tools and call_tool on one page');
        // The two tools are built-ins, listed first; walk on only if a filter moved them.
        const found: ListedTool[] = [];
        let first: ListPage | undefined;
        let cursor: string | undefined;
        for (let pages = 0; pages < MAX_LIST_PAGES && found.length < TOOL_SEARCH_NAMES.size; pages++) {
          const p = await page(cursor, ctx);
          first ??= p;
          for (const t of p.tools ?? []) if (TOOL_SEARCH_NAMES.has(t.name)) found.push(t);
          cursor = p.nextCursor;
          if (cursor === undefined) break;
        }
        const { tools: _all, nextCursor: _next, ...hints } = first ?? {};
        const order = [SEARCH_TOOLS, CALL_TOOL];
        return { ...hints, tools: found.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name)) };
      });
    },
  };
}
