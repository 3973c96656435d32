/**
 * The MCP endpoint (/mcp): one entry serving both protocol generations.
 *
 * - 2026-07-28 (modern, stateless): the SDK's `createMcpHandler` with `legacy: 'reject'`, one handler
 *   per tenant so each tenant's `subscriptions/listen` streams hang off that tenant's Redis bus only
 *   (tenant-handlers.ts keeps them bounded).
 *   Validation (envelope, MCP-Protocol-Version / Mcp-Method / Mcp-Name / Mcp-Param headers, 413,
 *   -32700/-32600/-32601/-32602, unsupported versions) is the SDK's; this module adds 406, 415, draining,
 *   metrics and SSE bookkeeping. A tools/call of a connected 2026-07-28 upstream's tool, or of a built-in
 *   tool of a direct toolset, may skip the SDK server altogether (passthrough.ts decides, before anything
 *   is sent).
 * - 2025-era (sessionful): routed with the SDK's `isLegacyRequest` to the legacy leg (legacy-leg.ts,
 *   implemented in ./legacy).
 *
 * The HTTP layer has already checked Host/Origin, authenticated the principal, applied the tenant
 * rate limit and assigned a request id. Not here: auth, rate limits, health, admin.
 */
import {
  classifyInboundRequest,
  createMcpHandler,
  isJsonContentType,
  type InboundClassificationOutcome,
  type McpServerFactory,
  type ServerNotifier,
} from '@modelcontextprotocol/server';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Principal } from '../domain/principal.js';
import type { Federation } from '../gateway/federation.js';
import type { LimitService } from '../gateway/limits/limit-service.js';
import type { TaskTier } from '../tasks/index.js';
import { RedisServerEventBusHub } from '../store/redis/server-event-bus.js';
import type { AuditLog } from '../store/ports.js';
import type { DeploymentInfo } from '../tools/index.js';
import type { McpConfig } from './config.js';
import type { LargeResultsDeps } from './large-results.js';
import { createLegacyLeg, type LegacyLeg } from './legacy-leg.js';
import { mcpMetrics, methodLabel } from './metrics.js';
import { RotatingRequestStateCodec, bindToCaller } from './request-state.js';
import { passThrough, type PassThroughDeps } from './passthrough.js';
import { createBuiltinCatalog } from './builtin-catalog.js';
import { authInfoFor, createTenantServerFactory, principalOf, SERVER_NAME } from './server-factory.js';
import { SseTracker } from './sse-tracker.js';
import { TenantHandlers } from './tenant-handlers.js';
import { EdgeErrorCode } from '../protocol/errors.js';
import type { McpRequestInfo } from './request-info.js';
import type { VirtualServerStore } from '../store/ports.js';
import { ViewResolver } from './view/view-resolver.js';
import { ListChangeGates } from './view/list-change-gate.js';
import { gatedBus, viewHandlerKey, viewPrincipal, VIEWS_CHANGED_EVENTS, VIEWS_CHANGED_PARAMS } from './view/gated-bus.js';
import { tenantSurface } from './view/tenant-surface.js';
import { withRequestSpan } from './request-span.js';

export type { McpRequestInfo } from './request-info.js';

export interface McpEndpoint {
  /** Serves one HTTP request to /mcp (POST, GET, DELETE). */
  handle(request: Request, principal: Principal, info: McpRequestInfo): Promise<Response>;
  /**
   * A tenant's virtual servers changed (the admin API): list_changed to the callers whose view changed,
   * on every replica, both protocol eras.
   */
  viewsChanged?(tenantId: string): void;
  /** Graceful shutdown step 1: refuse new sessions, close SSE streams with a retry hint. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** What the endpoint needs; every collaborator is owned by the caller. */
export interface McpEndpointDeps {
  /** z.output of McpConfigSchema, parsed once by service/src/config.ts. */
  config: McpConfig;
  /** The "state" Redis role (sessions, event log, pub/sub); owned by the caller. */
  stateRedis: Redis;
  /** Every Redis key and channel this endpoint uses starts with it (tests use a unique one). */
  keyPrefix: string;
  audit: AuditLog;
  logger: Logger;
  deployment: DeploymentInfo;
  /** Names this replica in the legacy leg's leases and routing. @defaultValue a random UUID */
  replicaId?: string;
  /** Registry for the MCP metrics. @defaultValue prom-client's default registry */
  registry?: Registry;
  /** Federation (service/src/gateway): puts the tenant's upstream catalog next to the built-ins. */
  federation?: Pick<Federation, 'attach' | 'resolveTool' | 'resolvePassThrough' | 'useNotifier' | 'useRequestState' | 'holdResourceSubscriptions' | 'catalog'>;
  /** Tasks (service/src/tasks): task-capable tools/call and the tasks/* methods of both generations. */
  tasks?: Pick<TaskTier, 'attach' | 'policyLookup' | 'service'>;
  /** Object storage (issue 8): tool results over the threshold go out as resource links, read back per tenant. */
  largeResults?: LargeResultsDeps;
  /** Tenant-defined call limits (gateway/limits), enforced by the pipeline's `limits` stage. */
  limits?: Pick<LimitService, 'checkCall'>;
  /**
   * Cross-replica server events (list changes), started; owned by the caller (the platform core).
   * @defaultValue one the endpoint creates on `stateRedis`, starts and closes
   */
  eventBus?: RedisServerEventBusHub;
  /**
   * The tenants' virtual servers (issue 20, cached): `/mcp/<server>` and scoped credentials are served
   * through them. @defaultValue none: `/mcp/<server>` answers 404, scopes still narrow tools
   */
  virtualServers?: Pick<VirtualServerStore, 'list'>;
}

/** Most upstream resources one listen stream holds upstream subscriptions for. */
const MAX_LISTEN_RESOURCES = 100;

const jsonRpcError = (status: number, code: number, message: string, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } }), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });

/** Streamable HTTP: a POST must accept both response shapes (the server picks JSON or SSE per request). */
function acceptsJsonAndSse(accept: string | null): boolean {
  const types = (accept ?? '').split(',').map((t) => t.split(';')[0]!.trim().toLowerCase());
  if (types.includes('*/*')) return true;
  return types.includes('application/json') && types.includes('text/event-stream');
}

/**
 * Reads a POST body once: its text and, when it is JSON, the parsed value. Both legs get them from here
 * (the SDK handler as `parsedBody`, the legacy leg as `preread`), so the body is neither cloned nor read
 * and parsed a second time.
 */
async function readBody(request: Request, limit: number, preread?: string): Promise<{ text?: string; parsed?: unknown; tooLarge: boolean }> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > limit) return { tooLarge: true };
  const text = preread ?? (await request.text());
  if (Buffer.byteLength(text) > limit) return { tooLarge: true };
  try {
    return { text, parsed: JSON.parse(text), tooLarge: false };
  } catch {
    return { text, tooLarge: false };
  }
}

/** The SDK's classification of a request whose body has been read (what `isLegacyRequest` computes from it). */
function classify(request: Request, parsed: unknown): InboundClassificationOutcome {
  return classifyInboundRequest({
    httpMethod: request.method,
    protocolVersionHeader: request.headers.get('mcp-protocol-version') ?? undefined,
    mcpMethodHeader: request.headers.get('mcp-method') ?? undefined,
    mcpNameHeader: request.headers.get('mcp-name') ?? undefined,
    ...(parsed !== undefined && { body: parsed }),
  });
}

/** Creates the endpoint of one replica. */
export async function createMcpEndpoint(deps: McpEndpointDeps): Promise<McpEndpoint> {
  const { config, logger } = deps;
  const log = logger.child({ component: 'mcp' });
  const onerror = (err: Error) => log.debug({ err: err.message }, 'mcp: request rejected or out-of-band error');
  const ownHub = deps.eventBus === undefined;
  const hub =
    deps.eventBus ??
    new RedisServerEventBusHub({ redis: deps.stateRedis, keyPrefix: deps.keyPrefix, onerror: (err) => log.warn({ err }, 'mcp: event bus error') });
  if (ownHub) await hub.start();
  const requestState = new RotatingRequestStateCodec(config.REQUEST_STATE_KEYS, config.REQUEST_STATE_TTL_SECONDS, bindToCaller);

  // Created below: the legacy leg needs the server factory, whose notifier reaches the legacy leg.
  let legacy: LegacyLeg | undefined;
  const notifierFor = (tenantId: string): ServerNotifier => {
    const bus = hub.forTenant(tenantId);
    const both = (event: Parameters<typeof bus.publish>[0], method: string, params?: Record<string, unknown>) => {
      bus.publish(event);
      legacy?.notifyTenant(tenantId, { method, ...(params ? { params } : {}) })?.catch((err: unknown) => log.warn({ err }, 'mcp: legacy notify failed'));
    };
    return {
      toolsChanged: () => both({ kind: 'tools_list_changed' }, 'notifications/tools/list_changed'),
      promptsChanged: () => both({ kind: 'prompts_list_changed' }, 'notifications/prompts/list_changed'),
      resourcesChanged: () => both({ kind: 'resources_list_changed' }, 'notifications/resources/list_changed'),
      resourceUpdated: (uri) => both({ kind: 'resource_updated', uri }, 'notifications/resources/updated', { uri }),
    };
  };

  const views = new ViewResolver(deps.virtualServers ?? { list: async () => [] });
  const gates = new ListChangeGates(views, tenantSurface(deps.federation?.catalog));
  const tenantFactory = createTenantServerFactory({
    views,
    config,
    audit: deps.audit,
    logger: log,
    deployment: deps.deployment,
    notifierFor,
    requestState,
    ...(deps.federation && { federation: deps.federation }),
    ...(deps.tasks && { tasks: deps.tasks }),
    ...(deps.largeResults && { largeResults: deps.largeResults }),
    ...(deps.limits && { limits: deps.limits }),
  });
  // 2026-07-28 tools/call without the SDK server (passthrough.ts): a connected 2026-07-28 upstream's tool
  // as bytes to the upstream, a direct built-in on the caller's cached instance (builtin-catalog.ts).
  const federation = deps.federation;
  const tasks = deps.tasks;
  const catalog = createBuiltinCatalog({ deployment: deps.deployment, notifierFor, requestState });
  const passThroughDeps: PassThroughDeps = {
    pipeline: tenantFactory.pipeline,
    ...(federation && { resolve: (tenantId: string, name: string) => federation.resolvePassThrough(tenantId, name) }),
    builtins: (principal) => catalog.builtinsOf(principal),
    ...(tasks && { taskPolicy: () => tasks.policyLookup() }),
    serverInfo: { name: SERVER_NAME, version: deps.deployment.version },
  };
  /** The SDK-shaped factory both legs call; the principal rides in `authInfo.extra.principal`. */
  const sdkFactory: McpServerFactory = async (ctx) => {
    const principal = principalOf(ctx.authInfo);
    if (!principal) throw new Error('MCP server factory called without an authenticated principal');
    const { requestId, protocolVersion } = ctx.authInfo?.extra ?? {};
    return tenantFactory(principal, {
      era: ctx.era,
      ...(typeof requestId === 'string' && { requestId }),
      ...(typeof protocolVersion === 'string' && { protocolVersion }),
    });
  };
  deps.federation?.useNotifier(notifierFor);
  deps.federation?.useRequestState({ mint: (payload, c) => requestState.mint(payload, c), verify: (state, c) => requestState.verify(state, c) });

  const legacyLeg = createLegacyLeg({
    factory: sdkFactory,
    notificationGate: (principal) => gates.open(principal),
    stateRedis: deps.stateRedis,
    keyPrefix: deps.keyPrefix,
    config,
    logger: log,
    ...(deps.replicaId ? { replicaId: deps.replicaId } : {}),
    ...(deps.registry ? { registry: deps.registry } : {}),
  });
  legacy = legacyLeg;

  // One handler per tenant, and per view for restricted callers: their listen streams get what their view admits.
  const busFor = (key: string) => {
    const principal = viewPrincipal(key);
    return gatedBus(
      hub.forTenant(principal.tenantId),
      () => gates.open(principal),
      (err) => log.warn({ err }, 'mcp: gated notification failed'),
    );
  };
  const modern = new TenantHandlers((key) =>
    createMcpHandler(sdkFactory, {
      legacy: 'reject',
      bus: busFor(key),
      maxSubscriptions: config.MAX_SUBSCRIPTIONS,
      keepAliveMs: config.SSE_KEEPALIVE_MS,
      maxRequestBodySize: config.MCP_MAX_BODY_BYTES,
      onerror,
    }),
  );
  const metrics = mcpMetrics(deps.registry);
  const sse = new SseTracker(metrics.openSseStreams);
  let draining = false;

  async function route(request: Request, caller: Principal, info: McpRequestInfo, labels: { method: string; era: string }): Promise<Response> {
    if (draining) {
      return jsonRpcError(503, EdgeErrorCode.Refused, 'Server is shutting down; retry on another replica', {
        'retry-after': String(Math.ceil(config.SSE_RETRY_MS / 1000)),
      });
    }
    // The virtual server serving this request (path, or the credential's one server scope), or 403/404.
    const bound = await views.bind(caller, info.server);
    if (!('tenantId' in bound)) return jsonRpcError(bound.status, EdgeErrorCode.Refused, bound.message);
    const principal: Principal = bound;
    const isPost = request.method.toUpperCase() === 'POST';
    if (isPost && !isJsonContentType(request.headers.get('content-type'))) {
      return jsonRpcError(415, EdgeErrorCode.Refused, 'Unsupported Media Type: Content-Type must be application/json');
    }
    if (isPost && !acceptsJsonAndSse(request.headers.get('accept'))) {
      return jsonRpcError(406, EdgeErrorCode.Refused, 'Not Acceptable: Client must accept both application/json and text/event-stream');
    }
    let parsed: unknown;
    let text: string | undefined;
    if (isPost) {
      const body = await readBody(request, config.MCP_MAX_BODY_BYTES, info.body);
      if (body.tooLarge) return jsonRpcError(413, EdgeErrorCode.Refused, `Request body exceeds ${config.MCP_MAX_BODY_BYTES} bytes`);
      ({ parsed, text } = body);
      labels.method = methodLabel(Array.isArray(parsed) ? 'batch' : (parsed as { method?: unknown } | undefined)?.method);
    } else {
      labels.method = request.method.toUpperCase();
    }
    // One server span per MCP request (request-span.ts), active while it is served; nothing with tracing off.
    return withRequestSpan(request, parsed, principal, () => dispatch(request, principal, info, labels, isPost, parsed, text));
  }

  /** Serves a request whose body has been read: the legacy leg, the pass-through, or the tenant's SDK handler. */
  async function dispatch(
    request: Request,
    principal: Principal,
    info: McpRequestInfo,
    labels: { method: string; era: string },
    isPost: boolean,
    parsed: unknown,
    text: string | undefined,
  ): Promise<Response> {
    // A POST whose body is empty or not JSON is the legacy leg's (as the SDK classifies it: 2025-era
    // transports answer it with -32700); anything else is classified once, here, as `isLegacyRequest` would.
    const route = isPost && parsed === undefined ? undefined : classify(request, parsed);
    if (route === undefined || route.kind === 'legacy') {
      labels.era = 'legacy';
      return legacyLeg.handle(request, principal, info, text === undefined ? undefined : { text, parsed });
    }
    labels.era = 'modern';
    // A restricted view renames and filters names: its calls take the SDK path, where the view applies.
    const passed =
      isPost && !ViewResolver.restricted(principal) ? await passThrough(passThroughDeps, request, parsed, route, principal, info.requestId) : undefined;
    if (passed) {
      (passed.kind === 'direct' ? metrics.direct : metrics.passedThrough).inc();
      return sse.track(passed.response, false, () => undefined);
    }
    const listen = labels.method === 'subscriptions/listen';
    // Upstream resources a listen stream asks for are subscribed upstream while the stream is open.
    const unhold = listen ? await holdListenResources(principal, parsed) : undefined;
    const lease = modern.acquire(viewHandlerKey(principal));
    const done = () => {
      lease.release();
      unhold?.();
    };
    let response: Response;
    try {
      // parsedBody: the SDK classifies from the value and never reads the (already read) body.
      response = await lease.handler.fetch(request, { authInfo: authInfoFor(principal, info.requestId), ...(isPost && { parsedBody: parsed }) });
    } catch (err) {
      done();
      throw err;
    }
    // In flight until a streamed response ends; a JSON response is complete already.
    return sse.track(response, listen, done);
  }

  /** The upstream share of a listen request's `resourceSubscriptions`, held until the stream ends. */
  async function holdListenResources(principal: Principal, parsed: unknown): Promise<(() => void) | undefined> {
    const uris = (parsed as { params?: { notifications?: { resourceSubscriptions?: unknown } } } | undefined)?.params?.notifications?.resourceSubscriptions;
    if (!deps.federation || !Array.isArray(uris) || uris.length === 0) return undefined;
    // The SDK refuses a malformed filter itself; only well-formed URIs are held, at most as many as a listen may carry.
    const view = await views.viewOf(principal);
    const wanted = uris.filter((u): u is string => typeof u === 'string' && u.length <= 2_048 && (!view || view.resource(u))).slice(0, MAX_LISTEN_RESOURCES);
    return deps.federation.holdResourceSubscriptions(principal.tenantId, wanted);
  }

  return {
    viewsChanged(tenantId) {
      const bus = hub.forTenant(tenantId);
      for (const [kind, method] of VIEWS_CHANGED_EVENTS) {
        bus.publish({ kind, params: VIEWS_CHANGED_PARAMS });
        legacy?.notifyTenant(tenantId, { method, params: VIEWS_CHANGED_PARAMS })?.catch((err: unknown) => log.warn({ err }, 'mcp: legacy notify failed'));
      }
    },
    async handle(request, principal, info) {
      const started = process.hrtime.bigint();
      const labels = { method: 'none', era: 'unknown' };
      let status = 500;
      try {
        const response = await route(request, principal, info, labels);
        status = response.status;
        return response;
      } catch (err) {
        log.error({ err, requestId: info.requestId }, 'mcp: request failed');
        return jsonRpcError(500, -32603, 'Internal error');
      } finally {
        metrics.requests.inc({ ...labels, status: String(status) });
        metrics.duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
      }
    },
    async drain() {
      draining = true;
      sse.closeListenStreams(config.SSE_RETRY_MS);
      await legacyLeg.drain();
    },
    async close() {
      draining = true;
      sse.closeAll(config.SSE_RETRY_MS);
      await modern.closeAll();
      await legacyLeg.close();
      if (ownHub) await hub.close();
    },
  };
}
