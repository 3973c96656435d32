/**
 * Installs the federated catalog on a tenant's per-request `McpServer` (both protocol generations): the
 * list methods return built-ins followed by the tenant's upstream catalog, paginated with a cursor bound
 * to the catalog version; tools/call, prompts/get, resources/read and completion/complete go to the
 * upstream that owns the name or URI, over the replica's pooled client, with progress relayed to the
 * caller and cancellation (the request's abort signal) relayed to the upstream. Names that no upstream
 * owns fall through to the built-in handlers.
 *
 * Not here: relaying upstream logging and input requests (sampling / elicitation / input_required).
 */
import type { Client } from '@modelcontextprotocol/client';
import { ProtocolError, ProtocolErrorCode, type McpServer, type ServerContext } from '@modelcontextprotocol/server';
import type { Principal } from '../domain/principal.js';
import type { AuditLog } from '../store/ports.js';
import { exposedUri, upstreamUri, type Catalog, type CatalogSnapshot } from './catalog.js';
import { callContext } from './call-context.js';
import { asOwn, callForModernCaller, type RequestStateCodecPort } from './modern-call.js';
import type { PendingInputs } from './pending-inputs.js';
import type { ClientPool } from './client-pool.js';
import { upstreamError } from './errors.js';
import { NAMESPACE_SEPARATOR, toolAllowed, type ResolvedUpstream } from './upstream-config.js';
import type { UpstreamDirectory } from './upstream-directory.js';
import { UPSTREAM_CLIENT_CAPABILITIES } from './task-aware-client.js';
import { asCallerTask, askOnSession, callAsUpstreamTask, followUpstreamTask } from './upstream-tasks.js';
import { needsTasksExtension } from '../protocol/errors.js';
import {
  IDEMPOTENCY_KEY_META,
  LOG_LEVEL_META,
  TASK_CREATE_META,
  TASK_RUN_META,
  UPSTREAM_NAMESPACE_META,
  UPSTREAM_SESSION_META,
} from '../protocol/meta-keys.js';
import { legacyUpstreamTaskOf, upstreamTaskOf } from '../protocol/upstream-task-meta.js';

/** What the router needs. */
export interface RouterDeps {
  readonly directory: UpstreamDirectory;
  readonly catalog: Catalog;
  readonly pool: ClientPool;
  readonly audit?: AuditLog;
  /** Items per page of a merged list. @defaultValue 100 */
  readonly pageSize?: number;
  /** The gateway's own list cache hint, ms (the merged hint is never longer). */
  readonly listTtlMs: number;
  /** The deployment's request-state codec (2026-07-28 callers: upstream input_required passes through). */
  readonly requestState?: RequestStateCodecPort;
  /** Pending upstream calls waiting for a 2026-07-28 caller's answer (2025-era upstreams). */
  readonly pending?: PendingInputs;
}

/** Resource not found (2025-era code; the 2026-07-28 wire maps it to -32602). */
const RESOURCE_NOT_FOUND = -32002;

type RawHandler = (request: { jsonrpc: '2.0'; id: unknown; method: string; params?: unknown }, ctx: ServerContext) => Promise<Record<string, unknown>>;
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
  principal: Principal,
  facts: { era: 'legacy' | 'modern'; requestId?: string },
  deps: RouterDeps,
): Promise<void> {
  // A tenant without upstreams keeps exactly its built-in surface (capabilities included).
  if ((await deps.directory.list(principal.tenantId)).length === 0) return;
  const low = server.server;
  const original = (method: string) => (low as unknown as { _getRequestHandler(m: string): RawHandler | undefined })._getRequestHandler(method);
  const callOriginal = (handler: RawHandler, method: string, params: unknown, ctx: ServerContext) =>
    handler({ jsonrpc: '2.0', id: ctx.mcpReq.id, method, params }, ctx);
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
  const byNamespace = async (ns: string) => (await upstreams()).find((u) => u.namespace === ns);

  for (const [method, key] of LISTS) {
    const builtin = original(method);
    low.setRequestHandler(method as 'tools/list', async (request, ctx) => {
      const snap = await deps.catalog.get(tenantId);
      const own = builtin ? (((await callOriginal(builtin, method, {}, ctx))[key] as unknown[]) ?? []) : [];
      const all = [...own, ...(snap[key] as unknown[])];
      const version = `${snap.version}.${own.length}`;
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

  /** Resolves a tool or prompt name to its upstream (namespaced first, then root-mounted). */
  const routeName = async (kind: 'tools' | 'prompts', name: string): Promise<{ up: ResolvedUpstream; name: string } | undefined> => {
    const sep = name.indexOf(NAMESPACE_SEPARATOR);
    if (sep > 0) {
      const up = await byNamespace(name.slice(0, sep));
      if (up && !up.root) return { up, name: name.slice(sep + NAMESPACE_SEPARATOR.length) };
    }
    const all = await upstreams();
    if (!all.some((u) => u.root)) return undefined;
    const ns = (await deps.catalog.get(tenantId)).roots[kind][name];
    const up = ns === undefined ? undefined : all.find((u) => u.namespace === ns && u.root);
    return up && { up, name };
  };

  const relay = (ctx: ServerContext, timeout: number) => {
    const token = ctx.mcpReq._meta?.progressToken;
    return {
      timeout,
      signal: ctx.mcpReq.signal,
      ...(token !== undefined && {
        resetTimeoutOnProgress: true,
        onprogress: (p: { progress: number; total?: number; message?: string }) => {
          ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, ...p } }).catch(() => undefined);
        },
      }),
    };
  };

  /** The parts of a 2026-07-28 caller's upstream request that do not depend on the method. */
  const modern = (up: ResolvedUpstream, ctx: ServerContext) => ({
    up,
    ctx,
    pool: deps.pool,
    codec: deps.requestState!,
    pending: deps.pending,
    requestOptions: relay(ctx, up.options.timeouts.callMs),
  });

  const builtinCall = original('tools/call');
  low.setRequestHandler('tools/call', async (request, ctx) => {
    const route = await routeName('tools', request.params.name);
    if (!route) {
      if (builtinCall) return callOriginal(builtinCall, 'tools/call', request.params, ctx) as never;
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Tool ${request.params.name} not found`);
    }
    const { up, name } = route;
    if (!toolAllowed(up.options, name)) throw upstreamError(up.namespace, 'denied', `tool "${name}" is not exposed (allow/deny list)`);
    const started = performance.now();
    let outcome: 'ok' | 'error' = 'error';
    try {
      if (facts.era === 'modern' && deps.requestState) {
        // 2026-07-28 caller: upstream input requests come back as input_required rounds (modern-call.ts).
        // The task layer's call of a 2025-era upstream's task tool (TASK_CREATE_META): task-augmented
        // upstream; questions it asks before creating the task come back as input_required rounds.
        const createTask = request.params._meta?.[TASK_CREATE_META] !== undefined;
        const result = await callForModernCaller({
          ...modern(up, ctx),
          target: `tools/call:${name}`,
          params: { name, ...(request.params.arguments && { arguments: request.params.arguments }) },
          send: async (c, p, o) => {
            const legacyTask = createTask && c.getProtocolEra() === 'legacy';
            const r = (await c.callTool((legacyTask ? { ...p, task: {} } : p) as { name: string }, o)) as Record<string, unknown>;
            if (!legacyTask || !upstreamTaskOf(r)) return r;
            // A 2025-era upstream's task is bound to the upstream session that created it: this client's,
            // on this replica (the caller's answer to an earlier round may have landed on another one).
            // The task layer mirrors it in a gateway task whose worker follows it in that session.
            const session = deps.pool.get(up).sessionOf(c);
            return {
              ...r,
              _meta: { ...(r['_meta'] as object), [UPSTREAM_NAMESPACE_META]: up.namespace, ...(session && { [UPSTREAM_SESSION_META]: session }) },
            };
          },
        });
        const task = upstreamTaskOf(result);
        if (task) {
          outcome = 'ok';
          // A 2025-era upstream's task goes to the task layer as it is (RemoteTasks.followLegacy).
          if (legacyUpstreamTaskOf(result)) return result as never;
          // A 2026-07-28 upstream made the call a task (the caller declared the tasks extension): it stays
          // the upstream's, under a federated id the caller's tasks/* requests are routed by.
          return { resultType: 'task', ...asCallerTask(up.namespace, task) } as never;
        }
        outcome = (result as { isError?: boolean }).isError ? 'error' : 'ok';
        return result as never;
      }
      const params = {
        name,
        // 2026-07-28 upstreams log per request at the level the request names; the caller's level filters later.
        _meta: {
          [LOG_LEVEL_META]: 'debug',
          // A task's worker passes the task id, so a retried run can be recognised by the upstream.
          ...(typeof request.params._meta?.[IDEMPOTENCY_KEY_META] === 'string' && { [IDEMPOTENCY_KEY_META]: request.params._meta[IDEMPOTENCY_KEY_META] }),
        },
        ...(request.params.arguments && { arguments: request.params.arguments }),
      };
      // The worker running a gateway task of a 2025-era upstream's task-capable tool: the call is made a
      // task on the upstream too, so its outcome (tool error vs protocol error) and questions carry over.
      const asTask = request.params._meta?.[TASK_RUN_META] !== undefined && (await deps.catalog.legacyTaskSupport(tenantId, request.params.name)) !== undefined;
      const options = relay(ctx, up.options.timeouts.callMs);
      const result = (await callContext.run({ ctx }, () =>
        deps.pool.get(up).run(async (c) => {
          if (asTask && c.getProtocolEra() === 'legacy') return callAsUpstreamTask(c, params, options);
          try {
            return await c.callTool(params, options);
          } catch (err) {
            // A 2026-07-28 upstream's task-only tool, for a caller that cannot hold a task: the gateway
            // takes the task and follows it to its end as this call.
            if (c.getProtocolEra() !== 'modern' || !needsTasksExtension(err)) throw err;
            return followUpstreamTask(c, params, options, UPSTREAM_CLIENT_CAPABILITIES, askOnSession(ctx));
          }
        }, false),
      )) as Awaited<ReturnType<Client['callTool']>>;
      outcome = result.isError ? 'error' : 'ok';
      return asOwn(result) as never;
    } finally {
      deps.audit
        ?.record({
          tenantId,
          actor: principal.subject,
          action: 'tools/call',
          target: request.params.name,
          outcome,
          durationMs: Math.round(performance.now() - started),
          ...(facts.requestId && { requestId: facts.requestId }),
          detail: { era: facts.era, upstream: up.namespace },
        })
        .catch(() => undefined);
    }
  });

  const builtinPrompt = original('prompts/get');
  low.setRequestHandler('prompts/get', async (request, ctx) => {
    const route = await routeName('prompts', request.params.name);
    if (!route) {
      if (builtinPrompt) return callOriginal(builtinPrompt, 'prompts/get', request.params, ctx) as never;
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Prompt ${request.params.name} not found`);
    }
    const { up, name } = route;
    if (facts.era === 'modern' && deps.requestState) {
      return (await callForModernCaller({
        ...modern(up, ctx),
        target: `prompts/get:${name}`,
        params: { name, ...(request.params.arguments && { arguments: request.params.arguments }) },
        send: async (c, p, o) => (await c.getPrompt(p as { name: string }, o)) as Record<string, unknown>,
      })) as never;
    }
    return asOwn(
      await callContext.run({ ctx }, () =>
        deps.pool.get(up).run((c) => c.getPrompt({ ...request.params, name }, relay(ctx, up.options.timeouts.callMs)), false),
      ),
    ) as never;
  });

  /** The upstream serving `uri` and the URI in its own terms. */
  const routeUri = async (uri: string, snap?: CatalogSnapshot): Promise<{ up: ResolvedUpstream; uri: string } | undefined> => {
    const all = await upstreams();
    for (const up of all) {
      const own = up.root ? undefined : upstreamUri(up.namespace, uri);
      if (own !== undefined) return { up, uri: own };
    }
    const roots = all.filter((u) => u.root);
    if (!roots.length) return undefined;
    const ns = (snap ?? (await deps.catalog.get(tenantId))).roots.resources[uri];
    const up = roots.find((u) => u.namespace === ns);
    return up && { up, uri };
  };

  const readFrom = async (up: ResolvedUpstream, uri: string, ctx: ServerContext) => {
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
      deps.pool.get(up).run((c) => c.readResource({ uri }, { ...relay(ctx, up.options.timeouts.callMs), cacheMode: 'bypass' }), false),
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
  low.setRequestHandler('resources/read', async (request, ctx) => {
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
  });

  if (facts.era === 'legacy') {
    for (const method of ['resources/subscribe', 'resources/unsubscribe'] as const) {
      const builtin = original(method);
      low.setRequestHandler(method, async (request, ctx) => {
        const route = await routeUri(request.params.uri);
        if (route) {
          await deps.pool.get(route.up).subscribe(route.uri, method === 'resources/subscribe');
          return {} as never;
        }
        // Built-in resources: the session layer records the subscription once this succeeds.
        return (builtin ? await callOriginal(builtin, method, request.params, ctx) : {}) as never;
      });
    }
  }

  const builtinComplete = original('completion/complete');
  low.setRequestHandler('completion/complete', async (request, ctx) => {
    const ref = request.params.ref;
    const route =
      ref.type === 'ref/prompt'
        ? await routeName('prompts', ref.name).then((r) => r && { up: r.up, ref: { ...ref, name: r.name } })
        : await routeUri(ref.uri).then((r) => r && { up: r.up, ref: { ...ref, uri: r.uri } });
    if (!route) {
      if (builtinComplete) return callOriginal(builtinComplete, 'completion/complete', request.params, ctx) as never;
      return { completion: { values: [], hasMore: false } } as never;
    }
    return asOwn(
      await deps.pool.get(route.up).run((c) => c.complete({ ...request.params, ref: route.ref }, relay(ctx, route.up.options.timeouts.callMs)), false),
    ) as never;
  });
}
