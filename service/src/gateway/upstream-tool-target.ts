/**
 * The federated tools of a tenant as targets of the tool-call pipeline: `resolveUpstreamTool` finds the
 * upstream serving a name and returns a target that calls it on the replica's pooled client, relaying
 * progress and cancellation, in the caller's terms:
 * - a 2026-07-28 caller gets an upstream's input requests as `input_required` rounds (modern-call.ts), and
 *   an upstream's task under a federated id (or, for the task layer, a 2025-era upstream's task to follow);
 * - a 2025-era caller (or a task's worker) gets them on its session; a 2026-07-28 upstream's task-only
 *   tool is followed to its end by the gateway for a caller that cannot hold a task.
 */
import type { Client } from '@modelcontextprotocol/client';
import type { ToolCall, ToolTarget } from '../domain/tool-call.js';
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
import { callContext } from './call-context.js';
import type { ClientPool } from './client-pool.js';
import { upstreamError } from './errors.js';
import { asCallerRound, asOwn, callForModernCaller, type RequestStateCodecPort } from './modern-call.js';
import { exchange } from './passthrough/upstream-exchange.js';
import type { PendingInputs } from './pending-inputs.js';
import { UPSTREAM_CLIENT_CAPABILITIES } from './connection/upstream-answers.js';
import { isPerCaller, NAMESPACE_SEPARATOR, toolAllowed, type ResolvedUpstream } from './upstream-config.js';
import type { UserCredentials } from './user-oauth/user-credentials.js';
import { relayOptions, routeName, type RoutingDeps } from './upstream-routing.js';
import { asCallerTask, askOnSession, callAsUpstreamTask, followUpstreamTask } from './upstream-tasks.js';
import { inUpstreamCallSpan } from './upstream-span.js';
import { withTraceMeta } from '../log/tracing.js';

/** What an upstream tool target needs. */
export interface UpstreamToolDeps extends RoutingDeps {
  readonly pool: ClientPool;
  /** The gateway's version, reported to upstreams as the client's. */
  readonly version: string;
  /** The deployment's request-state codec (2026-07-28 callers: upstream input_required passes through). */
  readonly requestState?: RequestStateCodecPort;
  /** Pending upstream calls waiting for a 2026-07-28 caller's answer (2025-era upstreams). */
  readonly pending?: PendingInputs;
  /** Per-caller credentials (`auth: per-user-oauth` / `token-exchange` upstreams). */
  readonly credentials?: UserCredentials;
}

/** The target serving the tenant's tool `name`, or undefined when no upstream serves it. */
export async function resolveUpstreamTool(deps: UpstreamToolDeps, tenantId: string, name: string): Promise<ToolTarget | undefined> {
  const route = await routeName(deps, tenantId, 'tools', name);
  if (!route) return undefined;
  const { up } = route;
  const target = (bound: ResolvedUpstream): ToolTarget => ({
    kind: 'upstream',
    upstream: up.namespace,
    authorize: () => authorize(up, route.name),
    invoke: (call) =>
      inUpstreamCallSpan(up, route.name, () =>
        call.era === 'modern' && deps.requestState
          ? callForModern(deps, deps.requestState, bound, route.name, call)
          : callOnSession(deps, bound, route.name, call),
      ),
  });
  if (!isPerCaller(up)) return target(up);
  // Each caller's own credentials: only a target bound to the caller (its own pooled connection) calls it.
  return {
    kind: 'upstream',
    upstream: up.namespace,
    authorize: () => authorize(up, route.name),
    invoke: () => Promise.reject(upstreamError(up.namespace, 'auth', 'a per-user upstream was called without binding the caller')),
    async bindCaller(call) {
      if (!deps.credentials) throw upstreamError(up.namespace, 'auth', 'per-caller credentials are not available on this gateway');
      const bound = await deps.credentials.bind(up, call);
      if ('result' in bound) return { result: bound.result };
      const inner = target(bound.up);
      return {
        target: {
          ...inner,
          async invoke(c) {
            try {
              return await inner.invoke(c);
            } catch (err) {
              const again = await bound.recover(err);
              if (again) return again;
              throw err;
            }
          },
        },
      };
    },
  };
}

function authorize(up: ResolvedUpstream, name: string): void {
  if (!toolAllowed(up.options, name)) throw upstreamError(up.namespace, 'denied', `tool "${name}" is not exposed (allow/deny list)`);
}

/**
 * The pass-through target of the tenant's tool `name`: a namespaced tool of a connected 2026-07-28 upstream
 * (Streamable HTTP, no OAuth), called for a 2026-07-28 caller's request as it came (gateway/passthrough);
 * undefined when the call must go through the pooled client.
 */
export async function resolvePassThroughTool(deps: UpstreamToolDeps, tenantId: string, name: string): Promise<ToolTarget | undefined> {
  const codec = deps.requestState;
  const route = codec && name.includes(NAMESPACE_SEPARATOR) ? await routeName(deps, tenantId, 'tools', name) : undefined;
  // Per-caller upstreams go through the caller's own pooled connection (never this shared HTTP face).
  if (!codec || !route || route.up.root || isPerCaller(route.up)) return undefined;
  const { up } = route;
  const link = deps.pool.get(up).passThrough();
  if (!link) return undefined;
  const upstreamName = route.name;
  const invoke = async ({ params, ctx }: ToolCall): Promise<Record<string, unknown>> => {
    const forwarded = {
      id: ctx.mcpReq.id,
      params: { ...params, name: upstreamName },
      signal: ctx.mcpReq.signal,
      onNotification: (n: { method: string; params?: Record<string, unknown> }) => void ctx.mcpReq.notify(n as never).catch(() => undefined),
    };
    const result = await exchange(link, up, forwarded, deps.version);
    const task = upstreamTaskOf(result);
    if (task) return { resultType: 'task', ...asCallerTask(up.namespace, task) };
    return asCallerRound({ up, target: `tools/call:${upstreamName}`, ctx, codec }, result);
  };
  return {
    kind: 'upstream',
    upstream: up.namespace,
    authorize: () => authorize(up, upstreamName),
    invoke: (call) => inUpstreamCallSpan(up, upstreamName, () => invoke(call)),
  };
}

/** A 2026-07-28 caller: upstream input requests come back as input_required rounds (modern-call.ts). */
async function callForModern(deps: UpstreamToolDeps, codec: RequestStateCodecPort, up: ResolvedUpstream, name: string, call: ToolCall) {
  const { params, ctx } = call;
  // The task layer's call of a 2025-era upstream's task tool (TASK_CREATE_META): task-augmented upstream;
  // questions it asks before creating the task come back as input_required rounds.
  const createTask = params._meta?.[TASK_CREATE_META] !== undefined;
  const result = await callForModernCaller({
    up,
    ctx,
    pool: deps.pool,
    codec,
    pending: deps.pending,
    requestOptions: relayOptions(ctx, up.options.timeouts.callMs),
    target: `tools/call:${name}`,
    params: { name, ...(params.arguments && { arguments: params.arguments }) },
    send: async (c, p, o) => {
      const legacyTask = createTask && c.getProtocolEra() === 'legacy';
      const r = (await c.callTool((legacyTask ? { ...p, task: {} } : p) as { name: string }, o)) as Record<string, unknown>;
      if (!legacyTask || !upstreamTaskOf(r)) return r;
      // A 2025-era upstream's task is bound to the upstream session that created it: this client's, on
      // this replica (the caller's answer to an earlier round may have landed on another one). The task
      // layer mirrors it in a gateway task whose worker follows it in that session.
      const session = deps.pool.get(up).sessionOf(c);
      return { ...r, _meta: { ...(r['_meta'] as object), [UPSTREAM_NAMESPACE_META]: up.namespace, ...(session && { [UPSTREAM_SESSION_META]: session }) } };
    },
  });
  const task = upstreamTaskOf(result);
  // A 2025-era upstream's task goes to the task layer as it is (RemoteTasks.followLegacy); a 2026-07-28
  // upstream made the call a task (the caller declared the tasks extension): it stays the upstream's,
  // under a federated id the caller's tasks/* requests are routed by.
  if (task && !legacyUpstreamTaskOf(result)) return { resultType: 'task', ...asCallerTask(up.namespace, task) };
  return result;
}

/** A 2025-era caller or a task's worker: the upstream's questions go to the caller's session. */
async function callOnSession(deps: UpstreamToolDeps, up: ResolvedUpstream, name: string, call: ToolCall) {
  const { params, ctx, principal } = call;
  const upstreamParams = {
    name,
    // 2026-07-28 upstreams log per request at the level the request names; the caller's level filters later.
    _meta: withTraceMeta({
      [LOG_LEVEL_META]: 'debug',
      // A task's worker passes the task id, so a retried run can be recognised by the upstream.
      ...(typeof params._meta?.[IDEMPOTENCY_KEY_META] === 'string' && { [IDEMPOTENCY_KEY_META]: params._meta[IDEMPOTENCY_KEY_META] }),
    }),
    ...(params.arguments && { arguments: params.arguments }),
  };
  // The worker running a gateway task of a 2025-era upstream's task-capable tool: the call is made a task
  // on the upstream too, so its outcome (tool error vs protocol error) and questions carry over.
  const asTask = params._meta?.[TASK_RUN_META] !== undefined && (await deps.catalog.legacyTaskSupport(principal.tenantId, params.name)) !== undefined;
  const options = relayOptions(ctx, up.options.timeouts.callMs);
  const result = (await callContext.run({ ctx }, () =>
    deps.pool.get(up).run(async (c) => {
      if (asTask && c.getProtocolEra() === 'legacy') return callAsUpstreamTask(c, upstreamParams, options);
      try {
        return await c.callTool(upstreamParams, options);
      } catch (err) {
        // A 2026-07-28 upstream's task-only tool, for a caller that cannot hold a task: the gateway takes
        // the task and follows it to its end as this call.
        if (c.getProtocolEra() !== 'modern' || !needsTasksExtension(err)) throw err;
        return followUpstreamTask(c, upstreamParams, options, UPSTREAM_CLIENT_CAPABILITIES, askOnSession(ctx));
      }
    }, false),
  )) as Awaited<ReturnType<Client['callTool']>>;
  return asOwn(result) as Record<string, unknown>;
}
