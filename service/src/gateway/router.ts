/**
 * Installs the federated catalog on a tenant's per-request `McpServer` (both protocol generations): the
 * list methods return built-ins followed by the tenant's upstream catalog, paginated with a cursor bound
 * to the catalog version; prompts/get, resources/read and completion/complete go to the upstream that
 * owns the name or URI, over the replica's pooled client, with progress relayed to the caller and
 * cancellation (the request's abort signal) relayed to the upstream. Names that no upstream owns fall
 * through to the built-in handlers. Tool calls are not here: they go through the tool-call pipeline
 * (service/src/mcp/pipeline), whose upstream target is upstream-tool-target.ts.
 */
import { ProtocolError, ProtocolErrorCode, type McpServer, type ServerContext } from '@modelcontextprotocol/server';
import type { Principal } from '../domain/principal.js';
import { exposedUri, upstreamUri, type Catalog, type CatalogSnapshot } from './catalog.js';
import { callContext } from './call-context.js';
import { asOwn, callForModernCaller, type RequestStateCodecPort } from './modern-call.js';
import type { PendingInputs } from './pending-inputs.js';
import type { ClientPool } from './client-pool.js';
import { isPerCaller, type ResolvedUpstream } from './upstream-config.js';
import type { UpstreamDirectory } from './upstream-directory.js';
import { relayOptions, routeName } from './upstream-routing.js';
import { inUpstreamPromptSpan, inUpstreamReadSpan } from './upstream-span.js';
import { traceMetaParam, tracingEnabled, withTraceMeta } from '../log/tracing.js';

/** What the router needs. */
export interface RouterDeps {
  readonly directory: UpstreamDirectory;
  readonly catalog: Catalog;
  readonly pool: ClientPool;
  /** Items per page of a merged list. @defaultValue 100 */
  readonly pageSize?: number;
  /** The gateway's own list cache hint, ms (the merged hint is never longer). */
  readonly listTtlMs: number;
  /** The deployment's request-state codec (2026-07-28 callers: upstream input_required passes through). */
  readonly requestState?: RequestStateCodecPort;
  /** Pending upstream calls waiting for a 2026-07-28 caller's answer (2025-era upstreams). */
  readonly pending?: PendingInputs;
  /** The caller's own tools of per-caller upstreams (listed with the caller's credentials). */
  readonly perCallerTools?: (principal: Principal, ctx: ServerContext) => Promise<{ tools: unknown[]; version: string }>;
}

/** A request handler as registered on the server (the request already validated by the SDK). */
export type RawHandler = (request: { method: string; params?: Record<string, unknown> }, ctx: ServerContext) => Promise<Record<string, unknown>>;

/** The server's handlers as the MCP layer records them: the built-in ones, and a way to register others. */
export interface RouterHandlers {
  original(method: string): RawHandler | undefined;
  set(method: string, handler: RawHandler): void;
}

/** A handler typed by its params (the SDK validated them against the method's schema before the call). */
function typed<P>(handler: (request: { params: P }, ctx: ServerContext) => Promise<unknown>): RawHandler {
  return handler as unknown as RawHandler;
}

/** Resource not found (2025-era code; the 2026-07-28 wire maps it to -32602). */
const RESOURCE_NOT_FOUND = -32002;

type ListKey = 'tools' | 'resources' | 'resourceTemplates' | 'prompts';

const LISTS: [string, ListKey][] = [
  ['tools/list', 'tools'],
  ['resources/list', 'resources'],
  ['resources/templates/list', 'resourceTemplates'],
  ['prompts/list', 'prompts'],
];

function encodeCursor(version: string, offset: number): string {
  return Buffer.from(JSON.stringify({ v: version, o: offset })).toString('base64url');
}

function decodeCursor(cursor: string, version: string): number {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { v?: unknown; o?: unknown };
    if (c.v === version && typeof c.o === 'number' && Number.isInteger(c.o) && c.o >= 0) return c.o;
  } catch {
    // fall through to the error below
  }
  throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'Invalid cursor: unknown, or the catalog changed since the first page; list again without a cursor');
}

/**
 * Input schemas of a catalog's tools by name, built once per catalog snapshot (the tiered cache hands out
 * the same snapshot object until the catalog is invalidated or expires; a new snapshot gets its own map).
 */
const schemasBySnapshot = new WeakMap<CatalogSnapshot, ReadonlyMap<string, Record<string, unknown>>>();
function toolSchemas(snap: CatalogSnapshot): ReadonlyMap<string, Record<string, unknown>> {
  let schemas = schemasBySnapshot.get(snap);
  if (!schemas) {
    schemas = new Map(snap.tools.map((t) => [t.name, t.inputSchema as Record<string, unknown>]));
    schemasBySnapshot.set(snap, schemas);
  }
  return schemas;
}

/** Installs federation handlers on one server instance. */
export async function attachFederation(
  server: McpServer,
  handlers: RouterHandlers,
  principal: Principal,
  facts: { era: 'legacy' | 'modern'; requestId?: string },
  deps: RouterDeps,
): Promise<void> {
  // A tenant without upstreams keeps exactly its built-in surface (capabilities included).
  if ((await deps.directory.list(principal.tenantId)).length === 0) return;
  const low = server.server;
  const original = (method: string) => handlers.original(method);
  const callOriginal = (handler: RawHandler, method: string, params: unknown, ctx: ServerContext) =>
    handler({ method, params: params as Record<string, unknown> }, ctx);
  const tenantId = principal.tenantId;
  const pageSize = deps.pageSize ?? 100;
  low.registerCapabilities({
    tools: { listChanged: true },
    // Upstream resources may be subscribed (2025-era `resources/subscribe`, 2026-07-28 listen
    // `resourceSubscriptions`): relayed to the upstream, its updates fanned out to the tenant.
    resources: { listChanged: true, subscribe: true },
    prompts: { listChanged: true },
    completions: {},
    // Upstream log messages are relayed to the caller, filtered by the caller's level.
    logging: {},
  });

  if (facts.era === 'modern') {
    // SEP-2243: the SDK's HTTP entry checks `Mcp-Param-*` headers against the called tool's `x-mcp-header`
    // declarations before dispatch, asking the server for the tool's input schema: upstream tools answer
    // with the schema their upstream lists (from the catalog), so the front rejects like a direct server.
    const schemas = toolSchemas(await deps.catalog.get(tenantId));
    const builtinSchema = server.toolInputSchemaJson.bind(server);
    server.toolInputSchemaJson = (name: string) => builtinSchema(name) ?? schemas.get(name);
  }

  const upstreams = () => deps.directory.list(tenantId);

  for (const [method, key] of LISTS) {
    const builtin = original(method);
    handlers.set(method, async (request, ctx) => {
      const snap = await deps.catalog.get(tenantId);
      const own = builtin ? (((await callOriginal(builtin, method, {}, ctx))[key] as unknown[]) ?? []) : [];
      const mine = key === 'tools' && deps.perCallerTools ? await deps.perCallerTools(principal, ctx) : undefined;
      const all = [...own, ...(snap[key] as unknown[]), ...(mine?.tools ?? [])];
      const version = `${snap.version}.${own.length}${mine?.version ? `.${mine.version}` : ''}`;
      const cursor = (request.params as { cursor?: string } | undefined)?.cursor;
      const offset = cursor === undefined ? 0 : decodeCursor(cursor, version);
      const next = offset + pageSize < all.length ? encodeCursor(version, offset + pageSize) : undefined;
      return {
        [key]: all.slice(offset, offset + pageSize),
        ...(next && { nextCursor: next }),
        // 2026-07-28 cache hints: never longer than the most restrictive upstream hint.
        ...(facts.era === 'modern' && { ttlMs: Math.min(deps.listTtlMs, snap.ttlMs), cacheScope: 'private' as const }),
      } as never;
    });
  }

  /** Per-caller upstreams serve tools only (over the caller's own connection, upstream-tool-target.ts). */
  const onlyShared = <T extends { up: ResolvedUpstream }>(route: T | undefined): T | undefined => {
    if (route && isPerCaller(route.up))
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `upstream "${route.up.namespace}" takes each caller's own credentials: only its tools are served (not its prompts, resources or completions)`,
      );
    return route;
  };
  const routeTo = async (kind: 'tools' | 'prompts', name: string) => onlyShared(await routeName(deps, tenantId, kind, name));
  const relay = relayOptions;

  /** The parts of a 2026-07-28 caller's upstream request that do not depend on the method. */
  const modern = (up: ResolvedUpstream, ctx: ServerContext) => ({
    up,
    ctx,
    pool: deps.pool,
    codec: deps.requestState!,
    pending: deps.pending,
    requestOptions: relay(ctx, up.options.timeouts.callMs),
  });

  const builtinPrompt = original('prompts/get');
  handlers.set(
    'prompts/get',
    typed<{ name: string; arguments?: Record<string, string> }>(async (request, ctx) => {
      const route = await routeTo('prompts', request.params.name);
      if (!route) {
        if (builtinPrompt) return callOriginal(builtinPrompt, 'prompts/get', request.params, ctx) as never;
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Prompt ${request.params.name} not found`);
      }
      const { up, name } = route;
      return inUpstreamPromptSpan(up, name, async () => {
        if (facts.era === 'modern' && deps.requestState) {
          return (await callForModernCaller({
            ...modern(up, ctx),
            target: `prompts/get:${name}`,
            params: { name, ...(request.params.arguments && { arguments: request.params.arguments }) },
            send: async (c, p, o) => (await c.getPrompt(p as { name: string }, o)) as Record<string, unknown>,
          })) as never;
        }
        // With tracing on, the upstream gets the client span's trace context in `_meta` (SEP-414), not the caller's.
        const params = {
          ...request.params,
          name,
          ...(tracingEnabled() && { _meta: withTraceMeta((request.params as { _meta?: Record<string, unknown> })._meta) }),
        };
        return asOwn(
          await callContext.run({ ctx }, () => deps.pool.get(up).run((c) => c.getPrompt(params, relay(ctx, up.options.timeouts.callMs)), false)),
        ) as never;
      });
    }),
  );

  /** The upstream serving `uri` and the URI in its own terms. */
  const routeUri = async (uri: string, snap?: CatalogSnapshot): Promise<{ up: ResolvedUpstream; uri: string } | undefined> => {
    const all = await upstreams();
    for (const up of all) {
      const own = up.root ? undefined : upstreamUri(up.namespace, uri);
      if (own !== undefined) return onlyShared({ up, uri: own });
    }
    const roots = all.filter((u) => u.root);
    if (!roots.length) return undefined;
    const ns = (snap ?? (await deps.catalog.get(tenantId))).roots.resources[uri];
    const up = roots.find((u) => u.namespace === ns);
    return up && { up, uri };
  };

  const readFrom = (up: ResolvedUpstream, uri: string, ctx: ServerContext) => inUpstreamReadSpan(up, uri, () => readUpstream(up, uri, ctx));
  const readUpstream = async (up: ResolvedUpstream, uri: string, ctx: ServerContext) => {
    const ownUris = (r: Record<string, unknown>) => ({
      ...r,
      contents: (r['contents'] as { uri: string }[]).map((c) => ({ ...c, uri: exposedUri(up, c.uri) })),
    });
    if (facts.era === 'modern' && deps.requestState) {
      return callForModernCaller({
        ...modern(up, ctx),
        target: `resources/read:${uri}`,
        params: { uri },
        send: async (c, p, o) => (await c.readResource(p as { uri: string }, { ...o, cacheMode: 'bypass' })) as Record<string, unknown>,
        mapResult: ownUris,
      });
    }
    const result = await callContext.run({ ctx }, () =>
      deps.pool.get(up).run((c) => c.readResource({ uri, ...traceMetaParam() }, { ...relay(ctx, up.options.timeouts.callMs), cacheMode: 'bypass' }), false),
    );
    return asOwn({ ...result, contents: result.contents.map((c) => ({ ...c, uri: exposedUri(up, c.uri) })) });
  };

  const builtinRead = original('resources/read');
  /** Reads `params.uri` from the upstream owning it, the built-ins, or the first root upstream that can. */
  const readRouted = async (params: { uri: string }, ctx: ServerContext): Promise<Record<string, unknown>> => {
    const route = await routeUri(params.uri);
    if (route) return readFrom(route.up, route.uri, ctx);
    const roots = (await upstreams()).filter((u) => u.root);
    if (builtinRead) {
      try {
        return await callOriginal(builtinRead, 'resources/read', params, ctx);
      } catch (err) {
        if (!roots.length) throw err;
      }
    }
    // A URI of a root upstream's template: the first root upstream that can read it answers.
    let last: unknown = new ProtocolError(RESOURCE_NOT_FOUND, `Resource ${params.uri} not found`);
    for (const up of roots) {
      try {
        return await readFrom(up, params.uri, ctx);
      } catch (err) {
        last = err;
      }
    }
    throw last;
  };
  handlers.set(
    'resources/read',
    typed<{ uri: string }>(async (request, ctx) => {
      try {
        return (await readRouted(request.params, ctx)) as never;
      } catch (err) {
        // SEP-2164: a resource-not-found error names the URI in `data.uri`, the caller's (an upstream names
        // its own URI, or none).
        const data = err instanceof ProtocolError ? (err.data as Record<string, unknown> | undefined) : undefined;
        const notFound =
          err instanceof ProtocolError &&
          (err.code === RESOURCE_NOT_FOUND || (err.code === ProtocolErrorCode.InvalidParams && typeof data?.['uri'] === 'string'));
        if (notFound) throw new ProtocolError(err.code, err.message, { ...data, uri: request.params.uri });
        throw err;
      }
    }),
  );

  if (facts.era === 'legacy') {
    for (const method of ['resources/subscribe', 'resources/unsubscribe'] as const) {
      const builtin = original(method);
      handlers.set(
        method,
        typed<{ uri: string }>(async (request, ctx) => {
          const route = await routeUri(request.params.uri);
          if (route) {
            await deps.pool.get(route.up).subscribe(route.uri, method === 'resources/subscribe');
            return {} as never;
          }
          // Built-in resources: the session layer records the subscription once this succeeds.
          return (builtin ? await callOriginal(builtin, method, request.params, ctx) : {}) as never;
        }),
      );
    }
  }

  const builtinComplete = original('completion/complete');
  type CompleteParams = { ref: { type: 'ref/prompt'; name: string } | { type: 'ref/resource'; uri: string }; argument: { name: string; value: string } };
  handlers.set(
    'completion/complete',
    typed<CompleteParams>(async (request, ctx) => {
      const ref = request.params.ref;
      const route =
        ref.type === 'ref/prompt'
          ? await routeTo('prompts', ref.name).then((r) => r && { up: r.up, ref: { ...ref, name: r.name } })
          : await routeUri(ref.uri).then((r) => r && { up: r.up, ref: { ...ref, uri: r.uri } });
      if (!route) {
        if (builtinComplete) return callOriginal(builtinComplete, 'completion/complete', request.params, ctx) as never;
        return { completion: { values: [], hasMore: false } } as never;
      }
      return asOwn(
        await deps.pool.get(route.up).run((c) => c.complete({ ...request.params, ref: route.ref }, relay(ctx, route.up.options.timeouts.callMs)), false),
      ) as never;
    }),
  );
}
