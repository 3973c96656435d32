/**
 * List-side and read-side filtering of a caller's view (issue 20), in one place: wraps the handlers of a
 * server instance once everything else registered them (toolsets, federation, tasks, stored results).
 * Lists keep only what the view shows (tools under their exposed names and descriptions); reads, gets,
 * completions and subscriptions of a hidden item answer exactly as for an unknown one; `tools/call` gets
 * the tenant's name of the tool back (renames), the pipeline's authorize stage checks visibility.
 * Stored large results (`umcp-blob:` links a call of this caller returned) stay readable: their ids are
 * unguessable and per tenant (mcp/large-results.ts).
 */
import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import type { View } from '../../domain/virtual-server.js';
import type { RequestHandler, ServerHandlers } from '../pipeline/server-handlers.js';

/** The MCP code of an unknown resource (what federation answers for a URI nothing serves). */
const RESOURCE_NOT_FOUND = -32002;
const STORED_RESULT = /^umcp-blob:/;

type Item = Record<string, unknown>;

/** The error of a tool the caller does not see: the resolve stage's error for an unknown name. */
export function toolNotFound(name: string): ProtocolError {
  return new ProtocolError(ProtocolErrorCode.InvalidParams, `Tool ${name} not found`);
}

/** Installs the view wrappers; `viewOf` is asked per request (undefined: the whole tenant, nothing filtered). */
export function applyView(handlers: ServerHandlers, viewOf: () => Promise<View | undefined>): void {
  const filtered = (method: string, key: string, map: (view: View, item: Item) => Item | undefined) =>
    handlers.wrap(method, (inner) => async (request, ctx) => {
      const [view, result] = await Promise.all([viewOf(), inner(request, ctx)]);
      if (!view || !Array.isArray(result[key])) return result;
      return { ...result, [key]: (result[key] as Item[]).flatMap((item) => map(view, item) ?? []) };
    });
  filtered('tools/list', 'tools', (view, tool) => {
    const shown = view.tool(String(tool['name']));
    return shown && { ...tool, name: shown.name, ...(shown.description !== undefined && { description: shown.description }) };
  });
  filtered('prompts/list', 'prompts', (view, p) => (view.prompt(String(p['name'])) ? p : undefined));
  filtered('resources/list', 'resources', (view, r) => (view.resource(String(r['uri'])) ? r : undefined));
  filtered('resources/templates/list', 'resourceTemplates', (view, t) => (view.template(String(t['uriTemplate'])) ? t : undefined));

  /** Runs `inner` when `allowed(view, params)`, else `refuse(params)`. */
  const gated = (method: string, allowed: (view: View, params: Item) => boolean, refuse: (params: Item) => Promise<Item>) =>
    handlers.wrap(method, (inner): RequestHandler => async (request, ctx) => {
      const view = await viewOf();
      const params = request.params ?? {};
      return !view || allowed(view, params) ? inner(request, ctx) : refuse(params);
    });
  const resourceVisible = (view: View, uri: unknown) => typeof uri === 'string' && (STORED_RESULT.test(uri) || view.resource(uri));
  const resourceNotFound = async (p: Item): Promise<never> => {
    throw new ProtocolError(RESOURCE_NOT_FOUND, `Resource ${String(p['uri'])} not found`, { uri: p['uri'] });
  };
  gated('resources/read', (view, p) => resourceVisible(view, p['uri']), resourceNotFound);
  gated('resources/subscribe', (view, p) => resourceVisible(view, p['uri']), resourceNotFound);
  gated(
    'prompts/get',
    (view, p) => view.prompt(String(p['name'])),
    async (p) => {
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Prompt ${String(p['name'])} not found`);
    },
  );
  gated(
    'completion/complete',
    (view, p) => {
      const ref = (p['ref'] ?? {}) as { type?: string; name?: unknown; uri?: unknown };
      if (ref.type === 'ref/prompt') return view.prompt(String(ref.name));
      return typeof ref.uri === 'string' && (view.resource(ref.uri) || view.template(ref.uri));
    },
    // What an unknown reference completes to.
    async () => ({ completion: { values: [], hasMore: false } }),
  );

  // Names coming in: the caller's name of a tool back to the tenant's (a hidden or old name is unknown).
  handlers.wrap('tools/call', (inner) => async (request, ctx) => {
    const view = await viewOf();
    if (!view) return inner(request, ctx);
    const name = String(request.params?.['name']);
    const original = view.toolOriginal(name);
    if (original === undefined) throw toolNotFound(name);
    return inner(original === name ? request : { ...request, params: { ...request.params, name: original } }, ctx);
  });
}
