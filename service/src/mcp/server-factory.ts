/**
 * The tenant-keyed server factory. The SDK serves each request (or 2025-era session re-hydration) with a
 * fresh `McpServer`; what is built once, per process, is everything around it: the tool-call pipeline
 * (./pipeline) and its stages over the platform's federation, task tier, blob store and audit log. Per
 * instance the factory registers the caller's enabled toolsets (through a recording surface), the
 * federated lists, prompts and resources, stored-result reads and the tasks/* methods, and hands
 * `tools/call` to the pipeline. Nothing is kept between requests.
 *
 * Both protocol legs use it: the modern leg through `createMcpHandler`, the 2025-era leg (./legacy) with
 * `era: 'legacy'`, adding its session-scoped handlers (logging/setLevel level, resources/subscribe); the
 * worker builds its private instances with it too (`runsTasks`).
 */
import {
  McpServer,
  ProtocolError,
  ProtocolErrorCode,
  ResourceNotFoundError,
  type AuthInfo,
  type McpRequestContext,
  type ServerCapabilities,
  type ServerContext,
  type ServerNotifier,
} from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import type { Principal } from '../domain/principal.js';
import type { ToolCallParams } from '../domain/tool-call.js';
import type { Federation } from '../gateway/federation.js';
import type { LimitService } from '../gateway/limits/limit-service.js';
import type { AuditLog } from '../store/ports.js';
import type { TaskTier } from '../tasks/index.js';
import { offersTasks as tasksOffered } from '../tasks/mcp-tasks.js';
import { knownToolsets, type DeploymentInfo, type ToolsetContext, type ToolSearchPort } from '../tools/index.js';
import { recordingSurface } from '../tools/surface.js';
import type { McpConfig } from './config.js';
import { nameInputKeys } from './input-keys.js';
import { serveStoredResults, type LargeResultsDeps } from './large-results.js';
import { builtinTools } from './pipeline/builtin-tools.js';
import { assemblePipeline, type RequestScope, type Stage, type ToolCallPipeline } from './pipeline/pipeline.js';
import { recordHandlers, type ServerHandlers } from './pipeline/server-handlers.js';
import { auditStage } from './pipeline/stages/audit.js';
import { userCredentialsStage } from './pipeline/stages/user-credentials.js';
import { authorizeStage } from './pipeline/stages/authorize.js';
import { largeResultStage } from './pipeline/stages/large-result.js';
import { limitsStage } from './pipeline/stages/limits.js';
import { resolveTarget } from './pipeline/stages/resolve-target.js';
import { taskStage } from './pipeline/stages/task-or-direct.js';
import { validateArgumentsStage } from './pipeline/stages/validate-arguments.js';
import type { RotatingRequestStateCodec } from './request-state.js';
import { createToolSearch, searchableView, toolSearchMode, withSearchOnly } from './tool-search.js';
import { applyView } from './view/apply-view.js';
import { ViewResolver } from './view/view-resolver.js';

/** Name this server reports in `serverInfo` (discover, initialize, result `_meta`). */
export const SERVER_NAME = 'unified-mcp-platform';

/** What the factory needs from the platform. */
export interface ServerFactoryDeps {
  readonly config: Pick<McpConfig, 'LIST_CACHE_TTL_MS'>;
  readonly audit: AuditLog;
  readonly logger: Logger;
  readonly deployment: DeploymentInfo;
  /** Publishes change events to the tenant's listeners on every replica, both protocol eras. */
  readonly notifierFor: (tenantId: string) => ServerNotifier;
  readonly requestState: RotatingRequestStateCodec;
  /** Federation (service/src/gateway): the tenant's upstream catalog next to the built-ins. */
  readonly federation?: Pick<Federation, 'attach' | 'resolveTool'>;
  /** Tasks (service/src/tasks): task-capable tools/call and the tasks/* methods of both generations. */
  readonly tasks?: Pick<TaskTier, 'attach' | 'policyLookup' | 'service'>;
  /** Object storage: tool results over the threshold go out as resource links, read back per tenant. */
  readonly largeResults?: LargeResultsDeps;
  /** Tenant-defined call limits (gateway/limits): the `limits` stage after authorize. */
  readonly limits?: Pick<LimitService, 'checkCall'>;
  /**
   * The worker's factory: its instances run tasks' calls, so no call becomes a task, and a built-in tool's
   * exception fails the call as a JSON-RPC error (the task fails) instead of an `isError` result.
   */
  readonly runsTasks?: boolean;
  /** Virtual servers and scopes (issue 20): what each caller sees; absent: every caller sees its whole tenant. */
  readonly views?: Pick<ViewResolver, 'viewOf'>;
}

/** The principal the endpoint put into the SDK `authInfo` (`extra.principal`), or undefined. */
export function principalOf(authInfo: AuthInfo | undefined): Principal | undefined {
  const principal = authInfo?.extra?.['principal'] as Principal | undefined;
  return principal && typeof principal.tenantId === 'string' ? principal : undefined;
}

/** The SDK `authInfo` carrying a principal (same shape the legacy leg builds). */
export function authInfoFor(principal: Principal, requestId?: string): AuthInfo {
  return { token: '', clientId: principal.subject, scopes: [...principal.scopes], extra: { principal, requestId } };
}

/** Per-instance facts: the request id stamped into audit entries, the 2025-era revision the session asked for. */
export interface ServerRequestFacts {
  readonly requestId?: string;
  readonly protocolVersion?: string;
}

/** Builds the server for one principal and one serving unit; `pipeline` is the process's tool-call pipeline. */
export interface TenantServerFactory {
  (principal: Principal, ctx: Pick<McpRequestContext, 'era'> & ServerRequestFacts): Promise<McpServer>;
  readonly pipeline: ToolCallPipeline;
}

function mergeCapabilities(list: readonly ServerCapabilities[]): ServerCapabilities {
  const merged: Record<string, unknown> = {};
  for (const caps of list) {
    for (const [key, value] of Object.entries(caps)) {
      merged[key] = { ...((merged[key] as object | undefined) ?? {}), ...(value as object) };
    }
  }
  return merged as ServerCapabilities;
}

/** The process's tool-call pipeline over the platform parts the factory was given. */
function toolCallPipeline(deps: ServerFactoryDeps): ToolCallPipeline {
  const stages: Stage[] = [authorizeStage, userCredentialsStage];
  if (deps.limits && !deps.runsTasks) stages.push(limitsStage(deps.limits));
  if (deps.tasks && !deps.runsTasks) stages.push(taskStage(deps.tasks.service));
  stages.push(validateArgumentsStage({ surfaceErrors: deps.runsTasks === true }), auditStage(deps.audit, deps.logger));
  if (deps.largeResults) stages.push(largeResultStage(deps.largeResults));
  const federation = deps.federation;
  return assemblePipeline(resolveTarget(federation && ((tenantId, name) => federation.resolveTool(tenantId, name))), stages);
}

/**
 * Creates the factory. Capabilities: `tools` (with listChanged, fed by the Redis bus) always, since
 * the gateway federates upstream tools onto every tenant; everything else only when an enabled
 * toolset needs it. Cache hints: list/read/discover results depend on the tenant, so they are
 * `private`, valid for LIST_CACHE_TTL_MS.
 */
export function createTenantServerFactory(deps: ServerFactoryDeps): TenantServerFactory {
  const ttlMs = deps.config.LIST_CACHE_TTL_MS;
  const hint = { ttlMs, cacheScope: 'private' as const };
  const cacheHints = {
    'tools/list': hint,
    'prompts/list': hint,
    'resources/list': hint,
    'resources/templates/list': hint,
    'resources/read': hint,
    'server/discover': hint,
  };
  const pipeline = toolCallPipeline(deps);

  const factory = async (principal: Principal, facts: Pick<McpRequestContext, 'era'> & ServerRequestFacts): Promise<McpServer> => {
    const { era } = facts;
    // A caller seeing less than its whole tenant (virtual server, scopes) gets a view; the worker runs
    // tasks' calls as they were authorized at creation. A whole-tenant caller gets no view wrappers.
    const views = deps.runsTasks || !ViewResolver.restricted(principal) ? undefined : deps.views;
    const served = views && (await views.viewOf(principal));
    const enabled = knownToolsets(principal.toolsets, (name) =>
      deps.logger.warn({ tenantId: principal.tenantId, toolset: name }, 'tenant names an unknown toolset; skipped'),
    );
    const toolsets = served?.server?.toolListing === 'search' ? withSearchOnly(enabled) : enabled;
    // Stored large results are resources the tenant reads back (resources/read of a `umcp-blob:` link), so a
    // deployment that stores them declares `resources` for every tenant.
    const stored: ServerCapabilities[] = deps.largeResults ? [{ resources: {} }] : [];
    const capabilities = mergeCapabilities([{ tools: { listChanged: true } }, ...stored, ...toolsets.map((t) => t.capabilities)]);
    // Capabilities are registered after recording starts: given to the constructor, McpServer would install
    // its list handlers before they could be recorded.
    const server = new McpServer(
      { name: SERVER_NAME, version: deps.deployment.version },
      {
        cacheHints,
        requestState: { verify: deps.requestState.check },
        instructions: `Unified MCP Platform gateway, tenant ${principal.tenantName}. Toolsets: ${toolsets.map((t) => t.name).join(', ') || 'none'}.`,
      },
    );
    const handlers = recordHandlers(server);
    server.server.registerCapabilities(capabilities);
    const surface = recordingSurface(server);
    // Tool search (toolsets `search`, `search-only`): served over this instance's own tools/list (./tool-search.ts).
    const searchMode = toolSearchMode(toolsets);
    const search =
      searchMode === 'off'
        ? undefined
        : createToolSearch({ principal, era, ...(facts.requestId && { requestId: facts.requestId }) }, { searchOnly: searchMode === 'only' });
    const ctx = toolsetContext(principal, deps, search?.port);
    for (const toolset of toolsets) toolset.register(surface, ctx);
    answerEmptyLists(handlers, capabilities);
    if (era === 'legacy' && capabilities.resources?.subscribe) acceptResourceSubscriptions(handlers);
    await deps.federation?.attach(server, handlers, principal, { era });
    if (deps.largeResults) serveStoredResults(handlers, principal, deps.largeResults);
    const offersTasks = !deps.runsTasks && deps.tasks !== undefined && tasksOffered(era, facts.protocolVersion);
    // With search on, the two search tools are in every view: they show and call only what the view shows.
    const viewOf =
      views &&
      (async () => {
        const view = await views.viewOf(principal);
        return view && search ? searchableView(view) : view;
      });
    const visibleTool = viewOf && (async (tool: string) => (await viewOf())?.toolVisible(tool) ?? true);
    if (offersTasks)
      deps.tasks!.attach(server, principal, {
        era,
        ...(facts.protocolVersion && { protocolVersion: facts.protocolVersion }),
        ...(visibleTool && { visibleTool }),
      });
    const builtins = builtinTools(surface, handlers, { surfaceErrors: deps.runsTasks === true });
    const scope: RequestScope = {
      builtins: search ? search.builtins(builtins) : builtins,
      ...(viewOf && { view: viewOf }),
      ...(offersTasks && { taskPolicy: deps.tasks!.policyLookup() }),
    };
    if (offersTasks && era === 'legacy') announceTaskSupport(handlers, principal, scope);
    handlers.set('tools/call', (request, c) =>
      pipeline.run(
        { principal, era, ...(facts.requestId && { requestId: facts.requestId }), params: request.params as unknown as ToolCallParams, ctx: c },
        scope,
      ),
    );
    // What the caller sees (virtual server, scopes): wraps the lists, reads and tools/call registered above.
    if (viewOf) applyView(handlers, viewOf);
    // After every tools/list and tools/call wrapper: search sees (and call_tool calls) exactly what the caller may.
    search?.install(handlers);
    // Questions of input_required handlers go out named on a 2025-era session, so a federating gateway can keep their keys.
    if (era === 'legacy') nameInputKeys(handlers);
    return server;
  };
  return Object.assign(factory, { pipeline });
}

/** What the toolsets of one instance may use. */
export function toolsetContext(
  principal: Principal,
  deps: Pick<ServerFactoryDeps, 'deployment' | 'notifierFor' | 'requestState'>,
  toolSearch?: ToolSearchPort,
): ToolsetContext {
  return {
    principal,
    ...(toolSearch && { toolSearch }),
    deployment: deps.deployment,
    notify: deps.notifierFor(principal.tenantId),
    requestState: {
      mint: (payload, c) => deps.requestState.mint(payload, c),
      read: async <T extends Record<string, unknown>>(c: ServerContext) => {
        const raw = c.mcpReq.requestState();
        return typeof raw === 'string' ? ((await deps.requestState.verify(raw, c)) as T) : undefined;
      },
    },
  };
}

/**
 * 2025-11-25 clients learn per tool whether `task` may (optional) or must (required) be sent: the listed
 * tools carry `execution.taskSupport`.
 */
function announceTaskSupport(handlers: ServerHandlers, principal: Principal, scope: RequestScope): void {
  handlers.wrap('tools/list', (list) => async (request, c) => {
    const result = (await list(request, c)) as { tools?: { name: string; execution?: unknown }[] };
    for (const tool of result.tools ?? []) {
      const policy = await scope.taskPolicy?.(principal, tool.name, scope.builtins.target(tool.name)?.kind === 'builtin');
      if (policy) tool.execution = { taskSupport: policy.taskSupport };
    }
    return result;
  });
}

/**
 * A declared family (tools, resources, prompts) whose toolsets registered nothing still answers its
 * methods, as `McpServer` does for capabilities given to its constructor: empty lists, not found.
 */
function answerEmptyLists(handlers: ServerHandlers, capabilities: ServerCapabilities): void {
  const empty = (method: string, key: string) => {
    if (!handlers.current(method)) handlers.set(method, async () => ({ [key]: [] }));
  };
  if (capabilities.tools) empty('tools/list', 'tools');
  if (capabilities.resources) {
    empty('resources/list', 'resources');
    empty('resources/templates/list', 'resourceTemplates');
    if (!handlers.current('resources/read'))
      handlers.set('resources/read', async (request) => {
        throw new ResourceNotFoundError(String(request.params?.['uri'] ?? ''));
      });
  }
  if (capabilities.prompts) {
    empty('prompts/list', 'prompts');
    if (!handlers.current('prompts/get'))
      handlers.set('prompts/get', async (request) => {
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Prompt ${String(request.params?.['name'])} not found`);
      });
  }
}

/**
 * 2025-era `resources/subscribe` / `resources/unsubscribe`: the instance acknowledges them and the
 * session layer (./legacy) persists the subscription once the answer succeeded.
 * The 2026-07-28 era has no such methods (subscriptions/listen replaces them).
 */
function acceptResourceSubscriptions(handlers: ServerHandlers): void {
  handlers.set('resources/subscribe', async () => ({}));
  handlers.set('resources/unsubscribe', async () => ({}));
}
