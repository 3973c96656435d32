/**
 * Tasks of upstream tools (SEP-2663 tasks extension; 2025-11-25 tasks utility).
 *
 * - A 2026-07-28 upstream that answers a caller's `tools/call` with a `CreateTaskResult` owns that task:
 *   the gateway hands the caller the task under a federated id (`up.<namespace>.<base64url(id)>`) and
 *   routes the caller's `tasks/get` / `tasks/update` / `tasks/cancel` to the upstream ({@link RemoteTasks}).
 *   Nothing about the task is stored on the gateway, so any replica serves any of those requests.
 * - A 2025-era upstream's task-capable tool (its `tools/list` marks `execution.taskSupport`):
 *   - for a 2026-07-28 caller, the router calls it task-augmented in the request (questions the upstream
 *     asks before creating its task are input_required rounds of the call) and hands the upstream's task,
 *     with the upstream session that created it, to the task layer: a gateway task whose worker follows
 *     it in that session ({@link RemoteTasks.followLegacy}; a 2025-era server binds a task to its session);
 *   - for a 2025-era caller it runs as a task on the gateway's worker tier, whose worker calls it
 *     task-augmented on the upstream ({@link callAsUpstreamTask}).
 *   Either way the follower waits in `tasks/result`, so the upstream's tool error completes the gateway's
 *   task and its protocol error fails it, and its elicitations reach the gateway task's `input_required`.
 *
 * The SDK client (2.4) decodes only `complete` / `input_required` results of `tools/call`: the pooled
 * clients (task-aware-client.ts) lift a task answer into a complete result carrying the task under
 * `UPSTREAM_TASK_META` before the SDK decodes it.
 */
import { ProtocolError, ProtocolErrorCode, type Client } from '@modelcontextprotocol/client';
import type { ServerContext } from '@modelcontextprotocol/server';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import type { Principal } from '../domain/principal.js';
import type { ClientPool } from './client-pool.js';
import { upstreamError } from './errors.js';
import { callContext } from './call-context.js';
import { asOwn, callerCapabilities } from './modern-call.js';
import type { ResolvedUpstream } from './upstream-config.js';
import type { UpstreamDirectory } from './upstream-directory.js';
import { CLIENT_CAPABILITIES_META, TASKS_EXTENSION } from '../protocol/meta-keys.js';
import { federatedTaskId, isFederatedTaskId, parseFederatedTaskId } from '../protocol/task-ids.js';
import { upstreamTaskOf, type LegacyTaskSpec } from '../protocol/upstream-task-meta.js';

/** The caller's view of an upstream's CreateTaskResult / DetailedTask: the id rewritten, protocol `_meta` dropped. */
export function asCallerTask(namespace: string, task: Record<string, unknown>): Record<string, unknown> {
  const { _meta: _dropped, resultType: _rt, ...rest } = task;
  return { ...rest, taskId: federatedTaskId(namespace, String(task['taskId'])) };
}

const Passthrough = z.looseObject({});

/** `tasks/get` / `tasks/update` / `tasks/cancel` of upstream-owned tasks (2026-07-28 callers and upstreams). */
export class RemoteTasks {
  constructor(
    private readonly directory: UpstreamDirectory,
    private readonly pool: ClientPool,
  ) {}

  /** Whether `taskId` names an upstream's task. */
  owns(taskId: string): boolean {
    return isFederatedTaskId(taskId);
  }

  /** The DetailedTask, as the upstream reports it (the id is the caller's). */
  async get(principal: Principal, taskId: string, ctx: ServerContext): Promise<Record<string, unknown>> {
    const { up, id } = await this.resolve(principal, taskId);
    return asCallerTask(up.namespace, await this.send(up, 'tasks/get', { taskId: id }, ctx));
  }

  /** Forwards the caller's answers; acknowledged with `{}`. */
  async update(principal: Principal, taskId: string, inputResponses: Record<string, unknown>, ctx: ServerContext): Promise<Record<string, unknown>> {
    const { up, id } = await this.resolve(principal, taskId);
    await this.send(up, 'tasks/update', { taskId: id, inputResponses }, ctx);
    return {};
  }

  /** Forwards the cancellation; acknowledged with `{}`. */
  async cancel(principal: Principal, taskId: string, ctx: ServerContext): Promise<Record<string, unknown>> {
    const { up, id } = await this.resolve(principal, taskId);
    await this.send(up, 'tasks/cancel', { taskId: id }, ctx);
    return {};
  }

  /**
   * Follows a 2025-era upstream's task to its end: `tasks/result` in the upstream session that created
   * it (`spec.session`, joined by a client of this process; without one, on the pooled client), its
   * questions to `hooks.ask`. Resolves with the task's result (as the gateway's own); the task's failure
   * rejects with the upstream's error. Aborting `hooks.signal` cancels the upstream task, except with the
   * reason `shutdown` (the gateway task goes back to the queue and another worker follows on).
   */
  async followLegacy(principal: Principal, spec: LegacyTaskSpec, hooks: LegacyTaskHooks): Promise<Record<string, unknown>> {
    const up = (await this.directory.list(principal.tenantId)).find((u) => u.namespace === spec.namespace);
    if (!up) throw upstreamError(spec.namespace, 'not-found', `is no longer registered; its task ${spec.taskId} cannot be followed`);
    const conn = this.pool.get(up);
    const ask = (request: { method: string; params: Record<string, unknown> }) => hooks.ask(request);
    const options = { signal: hooks.signal, keepOn: 'shutdown', ...(hooks.onprogress && { onprogress: hooks.onprogress }) };
    const follow = (c: Client) => awaitLegacyTask(c, spec.taskId, options);
    const result = await callContext.run({ ask }, () => (spec.session ? conn.inSession(spec.session, follow) : conn.run(follow, false)));
    // The result as the gateway's own: the upstream's protocol `_meta` (its related-task key) is dropped.
    return asOwn(result);
  }

  private async resolve(principal: Principal, taskId: string): Promise<{ up: ResolvedUpstream; id: string }> {
    const parsed = parseFederatedTaskId(taskId);
    const up = parsed && (await this.directory.list(principal.tenantId)).find((u) => u.namespace === parsed.namespace);
    // Same answer as for an unknown id of the gateway's own: nothing tells a caller which upstreams exist.
    if (!parsed || !up) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Task ${taskId} not found`);
    return { up, id: parsed.taskId };
  }

  private async send(up: ResolvedUpstream, method: string, params: Record<string, unknown>, ctx: ServerContext): Promise<Record<string, unknown>> {
    const caps = callerCapabilities(ctx);
    const conn = this.pool.get(up);
    return conn.run(async (c) => {
      if (c.getProtocolEra() !== 'modern')
        throw upstreamError(up.namespace, 'not-found', `no longer speaks 2026-07-28; its task ${String(params['taskId'])} cannot be reached`);
      const request = { method, params: { ...params, _meta: { ...(caps && { [CLIENT_CAPABILITIES_META]: caps }) } } };
      return (await c.request(request as never, Passthrough, { timeout: up.options.timeouts.callMs, signal: ctx.mcpReq.signal })) as Record<string, unknown>;
    }, method === 'tasks/get');
  }
}

/** Upper bound of one `tasks/result` wait; the worker's job timeout normally ends it first. */
const TASK_WAIT_MS = 24 * 3_600_000;

const LegacyTask = z.looseObject({ taskId: z.string(), status: z.string(), pollInterval: z.number().optional() });

/**
 * A 2025-era upstream's task-capable tool, called for a gateway task: `tools/call` with `task`, then
 * `tasks/result` (which the upstream answers once the task is terminal, sending its elicitations on that
 * request's stream meanwhile). Resolves with the tool's result; an upstream protocol error (failed task)
 * rejects with it. Aborting `signal` cancels the upstream task.
 */
export async function callAsUpstreamTask(
  client: Client,
  params: Record<string, unknown>,
  options: { timeout: number; signal: AbortSignal; onprogress?: (p: { progress: number; total?: number; message?: string }) => void },
): Promise<Record<string, unknown>> {
  const created = (await client.callTool({ ...params, task: {} } as never, { timeout: options.timeout, signal: options.signal })) as Record<string, unknown>;
  const lifted = upstreamTaskOf(created);
  // The upstream chose to answer at once (or ignored the hint): that is the result.
  if (!lifted) return created;
  return awaitLegacyTask(client, LegacyTask.parse(lifted).taskId, options);
}

/**
 * How a followed 2025-era upstream task reports to the gateway task that mirrors it (the task layer's
 * `FollowHooks`, tasks/ports.ts, is this shape: the platform core hands {@link RemoteTasks.followLegacy}
 * to the worker as its `UpstreamTaskFollower`).
 */
export interface LegacyTaskHooks {
  readonly signal: AbortSignal;
  /** A question of the upstream task; resolves with the answer. */
  ask(request: { method: string; params: Record<string, unknown> }): Promise<unknown>;
  onprogress?(p: { progress: number; total?: number; message?: string }): void;
}

/** Waits in `tasks/result` for a 2025-era upstream task created on `client`'s session. */
async function awaitLegacyTask(
  client: Client,
  taskId: string,
  options: { signal: AbortSignal; keepOn?: string; onprogress?: (p: { progress: number; total?: number; message?: string }) => void },
): Promise<Record<string, unknown>> {
  const cancel = () => {
    // Aborted for `keepOn` (a worker shutting down): the task lives on and another follower takes it.
    if (options.keepOn !== undefined && options.signal.aborted && options.signal.reason === options.keepOn) return undefined;
    return client.request({ method: 'tasks/cancel', params: { taskId } } as never, Passthrough, { timeout: 10_000 });
  };
  return tendUpstreamTask(
    options.signal,
    cancel,
    async (verdict) =>
      (await client
        .request({ method: 'tasks/result', params: { taskId } } as never, Passthrough, {
          signal: options.signal,
          // The wait is bounded by the gateway task's own job timeout (its abort signal), not the call timeout.
          timeout: TASK_WAIT_MS,
          resetTimeoutOnProgress: true,
          ...(options.onprogress && { onprogress: options.onprogress }),
        })
        // A JSON-RPC error of tasks/result is the task's own failure; anything else leaves it running.
        .catch((err: unknown) => Promise.reject(err instanceof ProtocolError ? verdict(err) : err))) as Record<string, unknown>,
  );
}

/**
 * Runs `body` while an upstream task is live: the caller going away (`signal`), or a failure on the
 * gateway's side (timeout, lost connection, a question the caller could not answer), cancels the
 * upstream task; an error `body` marks as the task's own `verdict` (it ended failed) does not.
 */
async function tendUpstreamTask<T>(
  signal: AbortSignal,
  cancel: () => Promise<unknown> | undefined,
  body: (verdict: (err: Error) => Error) => Promise<T>,
): Promise<T> {
  // The cancellation is awaited before this returns, so the client it goes out on is not closed under it.
  let cancelling: Promise<unknown> | undefined;
  const cancelOnce = () => void (cancelling ??= Promise.resolve(cancel()).catch(() => undefined));
  if (signal.aborted) {
    cancelOnce();
    await cancelling;
    throw signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason ?? 'aborted'));
  }
  const verdicts = new WeakSet<Error>();
  signal.addEventListener('abort', cancelOnce, { once: true });
  try {
    return await body((err) => {
      verdicts.add(err);
      return err;
    });
  } catch (err) {
    if (!signal.aborted && !(err instanceof Error && verdicts.has(err))) cancelOnce();
    throw err;
  } finally {
    signal.removeEventListener('abort', cancelOnce);
    await cancelling;
  }
}

/** An upstream's question (a task's `inputRequests` entry), asked of the gateway's caller. */
export type AskCaller = (request: { method: string; params?: Record<string, unknown> }) => Promise<unknown>;

/** Asks a 2025-era caller (or the worker's in-memory session) on its own session. */
export function askOnSession(ctx: ServerContext): AskCaller {
  return async (request) => {
    const params = (request.params ?? {}) as never;
    if (request.method === 'elicitation/create') return ctx.mcpReq.elicitInput(params);
    if (request.method === 'sampling/createMessage') return ctx.mcpReq.requestSampling(params);
    if (request.method === 'roots/list') return ctx.mcpReq.send({ method: 'roots/list' } as never);
    throw new ProtocolError(ProtocolErrorCode.InternalError, `the upstream asked with an unknown method ${request.method}`);
  };
}

const DetailedTask = z.looseObject({
  taskId: z.string(),
  status: z.string(),
  statusMessage: z.string().optional(),
  pollIntervalMs: z.number().optional(),
  result: z.record(z.string(), z.unknown()).optional(),
  error: z.looseObject({ code: z.number().optional(), message: z.string().optional(), data: z.unknown().optional() }).optional(),
  inputRequests: z.record(z.string(), z.looseObject({ method: z.string(), params: z.record(z.string(), z.unknown()).optional() })).optional(),
});

/**
 * A 2026-07-28 upstream's task-only tool for a caller that cannot hold a task (a 2025-era session, or
 * the gateway's worker): the gateway declares the tasks extension for this one call (`capabilities`
 * plus the extension, in the request `_meta`), then follows the task to its end as the caller's
 * synchronous call: it polls `tasks/get`, asks the task's questions through `ask` and answers them with
 * `tasks/update`, reports status messages as progress, and returns the task's result (a failed task
 * throws its error). Aborting `signal` cancels the upstream task.
 */
export async function followUpstreamTask(
  client: Client,
  params: Record<string, unknown>,
  options: { timeout: number; signal: AbortSignal; onprogress?: (p: { progress: number; message?: string }) => void },
  capabilities: Record<string, unknown>,
  ask: AskCaller,
): Promise<Record<string, unknown>> {
  const caps = { ...capabilities, extensions: { ...((capabilities['extensions'] as object | undefined) ?? {}), [TASKS_EXTENSION]: {} } };
  const withCaps = (p: Record<string, unknown>) => ({ ...p, _meta: { ...((p['_meta'] as object | undefined) ?? {}), [CLIENT_CAPABILITIES_META]: caps } });
  const created = (await client.callTool(withCaps(params) as never, { timeout: options.timeout, signal: options.signal })) as Record<string, unknown>;
  const lifted = upstreamTaskOf(created);
  if (!lifted) return created;
  let task = DetailedTask.parse(lifted);
  const taskId = task.taskId;
  const send = async (method: string, p: Record<string, unknown>, signal?: AbortSignal) =>
    (await client.request({ method, params: withCaps(p) } as never, Passthrough, { timeout: options.timeout, ...(signal && { signal }) })) as Record<
      string,
      unknown
    >;
  const cancel = () => send('tasks/cancel', { taskId });
  return tendUpstreamTask(options.signal, cancel, async (verdict) => {
    const asked = new Set<string>();
    let progress = 0;
    let lastMessage: string | undefined;
    for (;;) {
      if (task.status === 'completed') return task.result ?? { content: [] };
      if (task.status === 'failed')
        throw verdict(
          new ProtocolError(task.error?.code ?? ProtocolErrorCode.InternalError, task.error?.message ?? `upstream task ${taskId} failed`, task.error?.data),
        );
      if (task.status === 'cancelled') throw verdict(new ProtocolError(ProtocolErrorCode.InternalError, `upstream task ${taskId} was cancelled`));
      if (task.statusMessage && task.statusMessage !== lastMessage) options.onprogress?.({ progress: ++progress, message: (lastMessage = task.statusMessage) });
      // Each question once (the same key may come back with a new question in a later round).
      const open = Object.entries(task.inputRequests ?? {}).filter(([key, request]) => !asked.has(`${key}\u0000${JSON.stringify(request)}`));
      if (task.status === 'input_required' && open.length > 0) {
        for (const [key, request] of open) asked.add(`${key}\u0000${JSON.stringify(request)}`);
        const answers = await Promise.all(open.map(async ([key, request]) => [key, await ask(request)] as const));
        await send('tasks/update', { taskId, inputResponses: Object.fromEntries(answers) }, options.signal);
      } else {
        await delay(Math.min(2_000, Math.max(100, task.pollIntervalMs ?? 500)), undefined, { signal: options.signal });
      }
      task = DetailedTask.parse(await send('tasks/get', { taskId }, options.signal));
    }
  });
}
