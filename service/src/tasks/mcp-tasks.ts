/**
 * MCP surface of tasks, installed on every per-request server (both protocol generations):
 *
 * - 2026-07-28, tasks extension `io.modelcontextprotocol/tasks` (SEP-2663): advertised under
 *   `capabilities.extensions`; the server decides: a `tools/call` of a task-capable tool from a client
 *   that declared the extension (session or per-request `_meta`) answers a flat CreateTaskResult; without
 *   it, `optional` tools run synchronously and `required` ones get -32021. `tasks/get` (DetailedTask with
 *   inlined result / error / inputRequests), `tasks/update` and `tasks/cancel` (empty acks); the removed
 *   `tasks/result` / `tasks/list` stay -32601 (the SDK's era registry).
 * - 2025-11-25 tasks utility: `capabilities.tasks`; a `tools/call` carrying `task` creates one
 *   (`{task}`); `tasks/get`, `tasks/result` (waits for the terminal state), `tasks/list`, `tasks/cancel`.
 *   A gather-first tool asks its questions on the `tools/call` stream before the task exists.
 * - Upstream tools: a 2026-07-28 upstream decides and owns its tasks (federated ids, forwarded); a
 *   2025-era upstream's task tool, for a 2026-07-28 caller, is called task-augmented in the request and
 *   its task mirrored in a gateway task whose worker follows it (in the upstream session that created
 *   it); for a 2025-era caller the worker runs the whole call, like the gateway's own task tools.
 *
 * State lives in the task store, so any replica answers any request about any task.
 */
import { ProtocolError, ProtocolErrorCode, RELATED_TASK_META_KEY, type McpServer, type ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Principal } from '../domain/principal.js';
import { tasksExtensionRequired } from '../protocol/errors.js';
import { withInputKeyHint } from '../protocol/input-keys.js';
import { CLIENT_CAPABILITIES_META, IDEMPOTENCY_KEY_META, TASK_CREATE_META, TASKS_EXTENSION } from '../protocol/meta-keys.js';
import { legacyUpstreamTaskOf } from '../protocol/upstream-task-meta.js';
import type { ToolPolicy } from './policy.js';
import type { FollowSpec, RemoteTaskPort } from './ports.js';
import type { TaskService } from './task-service.js';
import { TERMINAL, TaskNotFoundError, TaskStateError, type TaskRecord } from './types.js';

/** Tools that gather input synchronously (MRTR) before escalating to a task on the final round. */
const GATHER_FIRST = new Set(['test_tool_with_task']);

/**
 * Resolves whether a tool runs as a gateway task: `builtin` tools by the built-in table; upstream tools
 * by their registration's `longRunning` or a 2025-era upstream's declared task support.
 */
export type TaskPolicyLookup = (principal: Principal, tool: string, builtin: boolean) => Promise<ToolPolicy | undefined>;

export type { RemoteTaskPort } from './ports.js';

type Handler = (request: { params?: Record<string, unknown> }, ctx: unknown) => Promise<unknown>;
/** The SDK lifts `inputResponses` out of params into `ctx.mcpReq.inputResponses` (accepted entries only). */
type Ctx = {
  mcpReq?: {
    envelope?: Record<string, unknown>;
    signal?: AbortSignal;
    inputResponses?: Record<string, unknown>;
    notify?: (n: { method: string; params: Record<string, unknown> }) => Promise<void>;
    elicitInput?: (params: Record<string, unknown>) => Promise<Record<string, unknown>>;
  };
};

const TaskIdParams = z.object({ taskId: z.string().min(1).max(200) }).passthrough();
const UpdateParams = TaskIdParams.extend({ inputResponses: z.record(z.string(), z.unknown()).default({}) });

/** 2026-07-28 DetailedTask. */
export function modernTask(t: TaskRecord, detailed: boolean): Record<string, unknown> {
  return {
    taskId: t.id,
    status: t.status,
    ...(t.statusMessage && { statusMessage: t.statusMessage }),
    createdAt: t.createdAt,
    lastUpdatedAt: t.updatedAt,
    ttlMs: t.ttlMs,
    pollIntervalMs: t.pollIntervalMs,
    ...(detailed && t.status === 'completed' && t.result && { result: t.result }),
    ...(detailed && t.status === 'failed' && t.error && { error: t.error }),
    ...(detailed && t.status === 'input_required' && { inputRequests: t.inputRequests }),
  };
}

/** 2025-11-25 Task. */
export function legacyTask(t: TaskRecord): Record<string, unknown> {
  return {
    taskId: t.id,
    status: t.status,
    ...(t.statusMessage && { statusMessage: t.statusMessage }),
    createdAt: t.createdAt,
    lastUpdatedAt: t.updatedAt,
    ttl: t.ttlMs,
    pollInterval: t.pollIntervalMs,
  };
}

function declaresExtension(ctx: Ctx): boolean {
  const env = ctx.mcpReq?.envelope ?? {};
  const caps = (env[CLIENT_CAPABILITIES_META] ?? env['clientCapabilities']) as { extensions?: Record<string, unknown> } | undefined;
  return !!caps?.extensions?.[TASKS_EXTENSION];
}

/** Maps task errors to protocol errors (unknown id and another tenant's id are both -32602). */
async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof TaskNotFoundError) throw new ProtocolError(ProtocolErrorCode.InvalidParams, err.message);
    if (err instanceof TaskStateError) throw new ProtocolError(ProtocolErrorCode.InvalidParams, err.message);
    if (err instanceof ProtocolError) throw err;
    // Store/queue failures: no internals on the wire (the SDK would send err.message).
    throw new ProtocolError(ProtocolErrorCode.InternalError, 'Internal error while handling the task request', { cause: 'task store or queue unavailable' });
  }
}

/** Most input rounds a gather-first tool may ask before its task is created (2025-era wire). */
const MAX_GATHER_ROUNDS = 8;

/**
 * Runs a gather-first built-in tool's input phase on a 2025-era request: the tool's `input_required`
 * rounds are asked as `elicitation/create` requests on the request's stream (named with their keys)
 * until the tool needs nothing more; resolves with the answers, in the order the task will be asked.
 */
async function gatherFirst(server: McpServer, registration: unknown, tool: string, args: Record<string, unknown>, ctx: Ctx): Promise<unknown[]> {
  const internals = server as unknown as {
    validateToolInput(t: unknown, a: unknown, name: string): Promise<unknown>;
    executeToolHandler(
      t: unknown,
      a: unknown,
      c: unknown,
    ): Promise<{ resultType?: string; inputRequests?: Record<string, { method: string; params?: Record<string, unknown> }> }>;
  };
  const parsed = await internals.validateToolInput(registration, args, tool);
  const responses: Record<string, unknown> = {};
  for (let round = 0; round < MAX_GATHER_ROUNDS; round++) {
    const r = await internals.executeToolHandler(registration, parsed, { ...ctx, mcpReq: { ...ctx.mcpReq, inputResponses: { ...responses } } });
    if (r.resultType !== 'input_required') return Object.values(responses);
    for (const [key, entry] of Object.entries(r.inputRequests ?? {})) {
      if (entry.method !== 'elicitation/create' || !ctx.mcpReq?.elicitInput)
        throw new ProtocolError(ProtocolErrorCode.InternalError, `${tool} asked with ${entry.method} before its task, which this session cannot answer`);
      responses[key] = await ctx.mcpReq.elicitInput(withInputKeyHint(entry.params, key));
    }
  }
  throw new ProtocolError(ProtocolErrorCode.InternalError, `${tool} asked more than ${MAX_GATHER_ROUNDS} rounds of questions before its task`);
}

/** Installs the task surface on `server` (after the toolsets and federation registered their tools). */
export function attachTasks(
  server: McpServer,
  principal: Principal,
  era: 'modern' | 'legacy',
  service: TaskService,
  lookup: TaskPolicyLookup,
  remote?: RemoteTaskPort,
): void {
  const handlers = (server.server as unknown as { _requestHandlers: Map<string, Handler> })._requestHandlers;
  const registered = (server as unknown as { _registeredTools?: Record<string, unknown> })._registeredTools ?? {};
  const isBuiltin = (tool: string) => Object.hasOwn(registered, tool);
  const inner = handlers.get('tools/call');
  if (!inner) return;
  if (era === 'modern') {
    server.server.registerCapabilities({ extensions: { [TASKS_EXTENSION]: {} } } as never);
  } else {
    server.server.registerCapabilities({ tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } });
  }

  // Replaces the SDK's tools/call entry (not re-wrapped: its result validation knows no CreateTaskResult).
  handlers.set('tools/call', async (request, rawCtx) => {
    const ctx = rawCtx as Ctx;
    const params = request.params ?? {};
    const tool = typeof params['name'] === 'string' ? params['name'] : '';
    const policy = tool ? await lookup(principal, tool, isBuiltin(tool)) : undefined;
    if (!policy) return inner(request, rawCtx);
    const args = (params['arguments'] ?? {}) as Record<string, unknown>;
    // Bad arguments of a built-in tool become the caller's error (-32602) when the call would create a
    // task, not a task that fails later (the tool's own schema via McpServer's validation step; upstream
    // tools are validated by the upstream). A call that runs synchronously is left to the SDK, which
    // answers a tool error the model can correct (SEP-1303), as for every other tool.
    const validateForTask = async () => {
      const internals = server as unknown as { validateToolInput?: (tool: unknown, a: unknown, name: string) => Promise<unknown> };
      if (isBuiltin(tool) && internals.validateToolInput) await internals.validateToolInput.call(server, registered[tool], args, tool);
    };
    // Only this layer asks the router for a task-augmented upstream call; a caller cannot.
    const { [TASK_CREATE_META]: _ignored, ...meta } = (params['_meta'] ?? {}) as Record<string, unknown>;
    const idempotencyKey = typeof meta[IDEMPOTENCY_KEY_META] === 'string' ? (meta[IDEMPOTENCY_KEY_META] as string) : undefined;
    /** Validates the arguments, then records and enqueues the task (era-specific fields in `extra`). */
    const createTask = async (extra?: { prefilled?: unknown[]; ttlMs?: number; follow?: FollowSpec }) => {
      await validateForTask();
      return guard(() => service.create(principal, { era, tool, arguments: args, policy, ...(idempotencyKey && { idempotencyKey }), ...extra }));
    };
    if (era === 'modern') {
      if (!declaresExtension(ctx)) {
        if (policy.taskSupport === 'required') throw tasksExtensionRequired();
        return inner(request, rawCtx);
      }
      if (policy.upstreamOwned) {
        // A 2025-era upstream's own task tool: the router calls it task-augmented; questions it asks
        // before creating its task are input_required rounds of this call (the MRTR phase, SEP-2663
        // composition). The task it creates is mirrored in a gateway task whose worker follows it in the
        // upstream session that created it. A repeated idempotency key gets the first task, and the
        // upstream is not asked again.
        const repeated = idempotencyKey ? await guard(() => service.byIdempotencyKey(principal, idempotencyKey)) : null;
        if (repeated) return { resultType: 'task', ...modernTask(repeated, false) };
        const result = (await inner({ ...request, params: { ...params, _meta: { ...meta, [TASK_CREATE_META]: true } } }, rawCtx)) as Record<string, unknown>;
        const follow = legacyUpstreamTaskOf(result);
        if (!follow) return result; // an input_required round, or the upstream answered at once
        return { resultType: 'task', ...modernTask(await createTask({ follow }), false) };
      }
      const responses = ctx.mcpReq?.inputResponses ?? (params['inputResponses'] as Record<string, unknown> | undefined);
      if (GATHER_FIRST.has(tool) && isBuiltin(tool) && !responses) return inner(request, rawCtx);
      const task = await createTask(responses && { prefilled: Object.values(responses) });
      return { resultType: 'task', ...modernTask(task, false) };
    }
    const hint = params['task'] as { ttl?: unknown } | undefined;
    if (!hint) {
      if (policy.taskSupport === 'required')
        throw new ProtocolError(ProtocolErrorCode.MethodNotFound, `Tool ${tool} must be called as a task (send params.task)`);
      return inner(request, rawCtx);
    }
    const ttl = typeof hint.ttl === 'number' ? { ttlMs: hint.ttl } : undefined;
    // Input before the task (SEP-2663 composition) on the 2025-era wire: the questions go out on this
    // request's stream, named (input-keys.ts), before the CreateTaskResult; the task starts with the answers.
    if (GATHER_FIRST.has(tool) && isBuiltin(tool))
      return { task: legacyTask(await createTask({ ...ttl, prefilled: await gatherFirst(server, registered[tool], tool, args, ctx) })) };
    return { task: legacyTask(await createTask(ttl)) };
  });

  if (era === 'legacy') {
    // 2025-11-25 clients learn per tool whether `task` may (optional) or must (required) be sent.
    const list = handlers.get('tools/list');
    if (list) {
      handlers.set('tools/list', async (request, ctx) => {
        const result = (await list(request, ctx)) as { tools?: { name: string; execution?: unknown }[] };
        for (const tool of result.tools ?? []) {
          const policy = await lookup(principal, tool.name, isBuiltin(tool.name));
          if (policy) tool.execution = { taskSupport: policy.taskSupport };
        }
        return result;
      });
    }
  }

  if (era === 'modern') {
    const gated =
      <P>(_schema: z.ZodType<P>, fn: (p: P, ctx: Ctx) => Promise<Record<string, unknown>>) =>
      async (p: P, rawCtx: unknown) => {
        if (!declaresExtension(rawCtx as Ctx)) throw tasksExtensionRequired();
        return guard(() => fn(p, rawCtx as Ctx));
      };
    // An upstream's task (federated id) is asked of that upstream; the gateway's own are in the store.
    const upstreamOwned = (id: string) => remote?.owns(id) === true;
    server.server.setRequestHandler(
      'tasks/get',
      { params: TaskIdParams },
      gated(TaskIdParams, async (p, ctx) =>
        upstreamOwned(p.taskId) ? remote!.get(principal, p.taskId, ctx as unknown as ServerContext) : modernTask(await service.get(principal, p.taskId), true),
      ) as never,
    );
    server.server.setRequestHandler(
      'tasks/update',
      { params: UpdateParams },
      gated(UpdateParams, async (p, ctx) => {
        const answers = ctx.mcpReq?.inputResponses ?? p.inputResponses;
        if (upstreamOwned(p.taskId)) return remote!.update(principal, p.taskId, answers, ctx as unknown as ServerContext);
        await service.update(principal, p.taskId, answers);
        return {};
      }) as never,
    );
    server.server.setRequestHandler(
      'tasks/cancel',
      { params: TaskIdParams },
      gated(TaskIdParams, async (p, ctx) => {
        if (upstreamOwned(p.taskId)) return remote!.cancel(principal, p.taskId, ctx as unknown as ServerContext);
        // Idempotent: cancelling a finished task acknowledges too; unknown ids still get -32602.
        await service.cancel(principal, p.taskId).catch((err: unknown) => {
          if (!(err instanceof TaskStateError)) throw err;
        });
        return {};
      }) as never,
    );
    return;
  }

  // The 2025-era spec methods (typed out of the SDK's v2 surface, still in its 2025 wire registry).
  type LegacyReq = { params: { taskId: string; cursor?: string } };
  const setLegacy = server.server.setRequestHandler.bind(server.server) as unknown as (
    method: string,
    h: (req: LegacyReq, ctx: unknown) => Promise<unknown>,
  ) => void;
  setLegacy('tasks/get', async (req) => guard(async () => legacyTask(await service.get(principal, req.params.taskId))) as never);
  setLegacy('tasks/cancel', async (req) => guard(async () => legacyTask(await service.cancel(principal, req.params.taskId))) as never);
  setLegacy(
    'tasks/list',
    async (req) =>
      guard(async () => {
        const page = await service.list(principal, req.params.cursor);
        return { tasks: page.tasks.map(legacyTask), ...(page.nextCursor && { nextCursor: page.nextCursor }) };
      }) as never,
  );
  setLegacy(
    'tasks/result',
    async (req, ctx) =>
      guard(async () => {
        const mcpReq = (ctx as Ctx).mcpReq;
        let task = await service.get(principal, req.params.taskId);
        // tasks/result blocks until the task is terminal (2025-11-25); polling the shared store keeps it
        // replica-agnostic. Every status change meanwhile reaches the client as notifications/tasks/status
        // on this request's stream (the worker may be anywhere; the store is the common ground).
        let seen = '';
        const report = async () => {
          const now = `${task.status}|${task.statusMessage ?? ''}`;
          if (now === seen) return;
          seen = now;
          await mcpReq?.notify?.({ method: 'notifications/tasks/status', params: legacyTask(task) }).catch(() => undefined);
        };
        // input_required (2025-11-25): the pending requests go to the client on this stream; answers land
        // in the store like tasks/update's, and the worker (wherever it runs) resumes.
        const asked = new Set<string>();
        const ask = (key: string, request: { method: string; params: Record<string, unknown> }) => {
          asked.add(key);
          if (request.method !== 'elicitation/create' || !mcpReq?.elicitInput) return;
          mcpReq
            .elicitInput(withInputKeyHint(request.params, key))
            .then((answer) => service.update(principal, task.id, { [key]: answer }))
            .catch(() => undefined); // e.g. the client has no elicitation capability: tasks/get still shows the request
        };
        while (!TERMINAL.has(task.status)) {
          await report();
          if (task.status === 'input_required') for (const [key, request] of Object.entries(task.inputRequests)) if (!asked.has(key)) ask(key, request);
          mcpReq?.signal?.throwIfAborted();
          await new Promise((r) => setTimeout(r, Math.min(task.pollIntervalMs, 500)));
          task = await service.get(principal, task.id);
        }
        await report();
        if (task.status === 'failed' && task.error) throw new ProtocolError(task.error.code, task.error.message, task.error.data);
        if (task.status === 'cancelled') throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Task ${task.id} was cancelled`);
        const result = task.result ?? { content: [] };
        return { ...result, _meta: { ...((result['_meta'] as object | undefined) ?? {}), [RELATED_TASK_META_KEY]: { taskId: task.id } } };
      }) as never,
  );
}
