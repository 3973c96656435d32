/**
 * MCP surface of tasks, installed on every per-request server (both protocol generations). Whether a
 * `tools/call` becomes a task is the tool-call pipeline's task stage (service/src/mcp/pipeline); here are
 * the capability and the tasks/* methods:
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
import { CLIENT_CAPABILITIES_META, TASKS_EXTENSION } from '../protocol/meta-keys.js';
import type { ToolPolicy } from './policy.js';
import type { RemoteTaskPort } from './ports.js';
import type { TaskService } from './task-service.js';
import { InvalidTaskCursorError, TERMINAL, TaskNotFoundError, TaskStateError, type TaskRecord } from './types.js';

/**
 * Resolves whether a tool runs as a gateway task: `builtin` tools by the built-in table; upstream tools
 * by their registration's `longRunning` or a 2025-era upstream's declared task support.
 */
export type TaskPolicyLookup = (principal: Principal, tool: string, builtin: boolean) => Promise<ToolPolicy | undefined>;

export type { RemoteTaskPort } from './ports.js';

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
const ListParams = z.object({ cursor: z.string().optional() }).passthrough();
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

/** Whether the request's envelope declares the tasks extension (2026-07-28). */
export function declaresExtension(ctx: { mcpReq?: { envelope?: Record<string, unknown> } }): boolean {
  const env = ctx.mcpReq?.envelope ?? {};
  const caps = (env[CLIENT_CAPABILITIES_META] ?? env['clientCapabilities']) as { extensions?: Record<string, unknown> } | undefined;
  return !!caps?.extensions?.[TASKS_EXTENSION];
}

/**
 * Maps task errors to protocol errors (unknown id and another tenant's id are both -32602). Other failures
 * keep their internals off the wire but say what kind they were: a store or queue that could not be
 * reached (a connection-level error code), or an unexpected error in the gateway (its class name).
 */
export async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof TaskNotFoundError) throw new ProtocolError(ProtocolErrorCode.InvalidParams, err.message);
    if (err instanceof TaskStateError) throw new ProtocolError(ProtocolErrorCode.InvalidParams, err.message);
    if (err instanceof InvalidTaskCursorError) throw new ProtocolError(ProtocolErrorCode.InvalidParams, err.message);
    if (err instanceof ProtocolError) throw err;
    throw new ProtocolError(ProtocolErrorCode.InternalError, 'Internal error while handling the task request', { cause: failureKind(err) });
  }
}

/** Connection-level error codes of Node sockets, pg and ioredis: the store or queue could not be reached. */
const UNREACHABLE = /^(E(CONN(REFUSED|RESET|ABORTED)|PIPE|TIMEDOUT|HOSTUNREACH|NETUNREACH|AI_AGAIN|NOTFOUND)|57P0[1-3]|08\d{3}|53300)$/;

function failureKind(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown } | undefined;
  if (typeof e?.code === 'string' && UNREACHABLE.test(e.code)) return 'task store or queue unavailable';
  if (
    e?.name === 'MaxRetriesPerRequestError' ||
    e?.name === 'QueueUnavailableError' ||
    (err instanceof Error && /Connection is closed|Stream isn't writeable/.test(err.message))
  )
    return 'task store or queue unavailable';
  return `unexpected ${typeof e?.name === 'string' ? e.name : 'error'} in the gateway`;
}

/** 2025-era revisions without the tasks utility (it arrived in 2025-11-25). */
const PRE_TASKS_REVISIONS = new Set(['2024-11-05', '2025-03-26', '2025-06-18']);

/**
 * Whether a server of `era` serving `protocolVersion` (2025-era: the revision the client asked for in
 * `initialize`; undefined when not known) offers tasks.
 */
export function offersTasks(era: 'modern' | 'legacy', protocolVersion?: string): boolean {
  return era === 'modern' || protocolVersion === undefined || !PRE_TASKS_REVISIONS.has(protocolVersion);
}

/** What the tasks/* methods of one server instance are attached with. */
export interface TaskAttachFacts {
  readonly era: 'modern' | 'legacy';
  /** The 2025-era revision the session asked for. */
  readonly protocolVersion?: string;
  /**
   * Whether the caller may call the tool (the tenant's name) a task was created for; absent: every tool.
   * A task of a tool the caller cannot call is unknown to it (tasks/get, result, list, cancel, update).
   */
  readonly visibleTool?: (tool: string) => Promise<boolean>;
}

/** The task methods one caller uses, limited to tasks of tools it may call (hidden ones answer as unknown ids). */
function visibleTasks(service: TaskService, visible: (tool: string) => Promise<boolean>): Pick<TaskService, 'get' | 'cancel' | 'update' | 'list'> {
  const get = async (principal: Principal, taskId: string) => {
    const task = await service.get(principal, taskId);
    if (!(await visible(task.tool))) throw new TaskNotFoundError(taskId);
    return task;
  };
  return {
    get,
    cancel: async (principal, taskId) => (await get(principal, taskId), service.cancel(principal, taskId)),
    update: async (principal, taskId, responses) => (await get(principal, taskId), service.update(principal, taskId, responses)),
    list: async (principal, cursor, limit) => {
      const page = await service.list(principal, cursor, limit);
      const shown = await Promise.all(page.tasks.map((t) => visible(t.tool)));
      return { ...page, tasks: page.tasks.filter((_, i) => shown[i]) };
    },
  };
}

/**
 * Installs the tasks capability and the tasks/* methods on `server`; a 2025-era session at a revision
 * without the tasks utility gets neither (see {@link offersTasks}).
 */
export function attachTasks(server: McpServer, principal: Principal, facts: TaskAttachFacts, allTasks: TaskService, remote?: RemoteTaskPort): void {
  const era = facts.era;
  if (!offersTasks(era, facts.protocolVersion)) return;
  const service = facts.visibleTool ? visibleTasks(allTasks, facts.visibleTool) : allTasks;
  if (era === 'modern') {
    server.server.registerCapabilities({ extensions: { [TASKS_EXTENSION]: {} } } as never);
  } else {
    server.server.registerCapabilities({ tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } });
  }

  if (era === 'modern') {
    const gated =
      <P>(_schema: z.ZodType<P>, fn: (p: P, ctx: Ctx) => Promise<Record<string, unknown>>) =>
      async (p: P, rawCtx: unknown) => {
        if (!declaresExtension(rawCtx as Ctx)) throw tasksExtensionRequired();
        return guard(() => fn(p, rawCtx as Ctx));
      };
    // An upstream's task (federated id) is asked of that upstream; the gateway's own are in the store.
    // A restricted view cannot tell which tool an upstream's task belongs to: such ids are unknown to it.
    const upstreamOwned = (id: string) => {
      const owned = remote?.owns(id) === true;
      if (owned && facts.visibleTool) throw new TaskNotFoundError(id);
      return owned;
    };
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

  // The 2025-era spec methods (typed out of the SDK's v2 surface, still in its 2025 wire registry), each
  // with its own params schema: a malformed request is -32602 naming what is wrong (the SDK's own check of
  // a spec method throws a plain Error, which goes out as -32603). `params` may be absent: the v1 SDK's
  // listTasks() sends tasks/list without it.
  const setLegacy = server.server.setRequestHandler.bind(server.server) as unknown as <P>(
    method: string,
    schemas: { params: z.ZodType<P> },
    h: (params: P, ctx: unknown) => Promise<unknown>,
  ) => void;
  setLegacy('tasks/get', { params: TaskIdParams }, async (p) => guard(async () => legacyTask(await service.get(principal, p.taskId))) as never);
  setLegacy('tasks/cancel', { params: TaskIdParams }, async (p) => guard(async () => legacyTask(await service.cancel(principal, p.taskId))) as never);
  setLegacy(
    'tasks/list',
    { params: ListParams },
    async (p) =>
      guard(async () => {
        const page = await service.list(principal, p.cursor);
        return { tasks: page.tasks.map(legacyTask), ...(page.nextCursor && { nextCursor: page.nextCursor }) };
      }) as never,
  );
  setLegacy(
    'tasks/result',
    { params: TaskIdParams },
    async (p, ctx) =>
      guard(async () => {
        const mcpReq = (ctx as Ctx).mcpReq;
        let task = await service.get(principal, p.taskId);
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
