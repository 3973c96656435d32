/**
 * Stage 3, task or direct: whether this call becomes a gateway task (a record in PostgreSQL and a job on
 * the queue) or runs now. The rules per protocol era (tasks/mcp-tasks.ts has the tasks/* methods):
 *
 * - 2026-07-28, tasks extension (SEP-2663): the server decides. A task-capable tool called by a client
 *   that declared the extension answers a flat CreateTaskResult; without it, `optional` tools run now and
 *   `required` ones get -32021. A 2025-era upstream's own task tool is called task-augmented by the
 *   upstream target (its questions before the task come back as input_required rounds) and its task is
 *   mirrored in a gateway task whose worker follows it.
 * - 2025-11-25 tasks utility: a call carrying `task` creates one (`{task}`); a gather-first tool asks its
 *   questions on the call's stream first.
 *
 * Bad arguments of a built-in tool are the caller's error (-32602) when the call would create a task, not
 * a task that fails later; a call that runs now is left to the SDK, which answers a tool error the model
 * can correct (SEP-1303).
 */
import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import { tasksExtensionRequired } from '../../../protocol/errors.js';
import { withInputKeyHint } from '../../../protocol/input-keys.js';
import { IDEMPOTENCY_KEY_META, TASK_CREATE_META } from '../../../protocol/meta-keys.js';
import { wrapTaskAnswer } from '../../../protocol/task-answer.js';
import { legacyUpstreamTaskOf } from '../../../protocol/upstream-task-meta.js';
import { declaresExtension, guard, legacyTask, modernTask } from '../../../tasks/mcp-tasks.js';
import type { ToolPolicy } from '../../../tasks/policy.js';
import type { FollowSpec } from '../../../tasks/ports.js';
import type { TaskService } from '../../../tasks/task-service.js';
import type { Next, Stage, TargetedCall, ToolResult } from '../pipeline.js';

/** Tools that gather input synchronously (MRTR) before escalating to a task on the final round. */
const GATHER_FIRST = new Set(['test_tool_with_task']);

/** Most input rounds a gather-first tool may ask before its task is created (2025-era wire). */
const MAX_GATHER_ROUNDS = 8;

type TaskExtra = { prefilled?: unknown[]; ttlMs?: number; follow?: FollowSpec };

/** The task stage over the task service. */
export function taskStage(service: TaskService): Stage {
  return {
    name: 'task or direct',
    async run(call, next) {
      const lookup = call.scope.taskPolicy;
      const tool = call.params.name;
      const policy = lookup ? await lookup(call.principal, tool, call.target.kind === 'builtin') : undefined;
      if (!policy) return next(call);
      return call.era === 'modern' ? modernCall(service, policy, call, next) : legacyCall(service, policy, call, next);
    },
  };
}

/** What a task is created from: the call's arguments and idempotency key, never a caller's TASK_CREATE_META. */
function taskInputs(call: TargetedCall) {
  // Only this stage asks the upstream target for a task-augmented call; a caller cannot.
  const { [TASK_CREATE_META]: _ignored, ...meta } = call.params._meta ?? {};
  const idempotencyKey = typeof meta[IDEMPOTENCY_KEY_META] === 'string' ? (meta[IDEMPOTENCY_KEY_META] as string) : undefined;
  return { args: call.params.arguments ?? {}, meta, idempotencyKey };
}

/** Validates the arguments, then records and enqueues the task. */
async function createTask(service: TaskService, policy: ToolPolicy, call: TargetedCall, extra?: TaskExtra) {
  const { args, idempotencyKey } = taskInputs(call);
  if (call.target.kind === 'builtin') await call.scope.builtins.validate(call.params.name, args);
  return guard(() =>
    service.create(call.principal, { era: call.era, tool: call.params.name, arguments: args, policy, ...(idempotencyKey && { idempotencyKey }), ...extra }),
  );
}

async function modernCall(service: TaskService, policy: ToolPolicy, call: TargetedCall, next: Next): Promise<ToolResult> {
  if (!declaresExtension(call.ctx)) {
    if (policy.taskSupport === 'required') throw tasksExtensionRequired();
    return next(call);
  }
  if (policy.upstreamOwned) return upstreamOwnedTask(service, policy, call, next);
  const responses = call.ctx.mcpReq.inputResponses ?? (call.params['inputResponses'] as Record<string, unknown> | undefined);
  if (GATHER_FIRST.has(call.params.name) && call.target.kind === 'builtin' && !responses) return next(call);
  const task = await createTask(service, policy, call, responses && { prefilled: Object.values(responses) });
  return { resultType: 'task', ...modernTask(task, false) };
}

/**
 * A 2025-era upstream's own task tool for a 2026-07-28 caller: called task-augmented; the questions it asks
 * before creating its task are input_required rounds of this call (the MRTR phase, SEP-2663 composition).
 * A repeated idempotency key gets the first task, and the upstream is not asked again.
 */
async function upstreamOwnedTask(service: TaskService, policy: ToolPolicy, call: TargetedCall, next: Next): Promise<ToolResult> {
  const { meta, idempotencyKey } = taskInputs(call);
  const repeated = idempotencyKey ? await guard(() => service.byIdempotencyKey(call.principal, idempotencyKey)) : null;
  if (repeated) return { resultType: 'task', ...modernTask(repeated, false) };
  const result = await next({ ...call, params: { ...call.params, _meta: { ...meta, [TASK_CREATE_META]: true } } });
  const follow = legacyUpstreamTaskOf(result);
  if (!follow) return result; // an input_required round, or the upstream answered at once
  return { resultType: 'task', ...modernTask(await createTask(service, policy, call, { follow }), false) };
}

async function legacyCall(service: TaskService, policy: ToolPolicy, call: TargetedCall, next: Next): Promise<ToolResult> {
  const hint = call.params['task'] as { ttl?: unknown } | undefined;
  if (!hint) {
    if (policy.taskSupport === 'required')
      throw new ProtocolError(ProtocolErrorCode.MethodNotFound, `Tool ${call.params.name} must be called as a task (send params.task)`);
    return next(call);
  }
  const ttl = typeof hint.ttl === 'number' ? { ttlMs: hint.ttl } : undefined;
  // Input before the task (SEP-2663 composition) on the 2025-era wire: the questions go out on this
  // request's stream, named (input-keys.ts), before the CreateTaskResult; the task starts with the answers.
  const prefilled = GATHER_FIRST.has(call.params.name) && call.target.kind === 'builtin' ? { prefilled: await gatherFirst(call) } : {};
  return wrapTaskAnswer({ task: legacyTask(await createTask(service, policy, call, { ...ttl, ...prefilled })) });
}

/**
 * Runs a gather-first built-in tool's input phase on a 2025-era request: the tool's `input_required`
 * rounds are asked as `elicitation/create` requests on the request's stream (named with their keys) until
 * the tool needs nothing more; resolves with the answers, in the order the task will be asked.
 */
async function gatherFirst(call: TargetedCall): Promise<unknown[]> {
  const responses: Record<string, unknown> = {};
  const mcpReq = call.ctx.mcpReq;
  for (let round = 0; round < MAX_GATHER_ROUNDS; round++) {
    const ctx = { ...call.ctx, mcpReq: { ...mcpReq, inputResponses: { ...responses } } };
    const r = (await call.target.invoke({ ...call, ctx: ctx as typeof call.ctx })) as {
      resultType?: string;
      inputRequests?: Record<string, { method: string; params?: Record<string, unknown> }>;
    };
    if (r.resultType !== 'input_required') return Object.values(responses);
    for (const [key, entry] of Object.entries(r.inputRequests ?? {})) {
      if (entry.method !== 'elicitation/create')
        throw new ProtocolError(
          ProtocolErrorCode.InternalError,
          `${call.params.name} asked with ${entry.method} before its task, which this session cannot answer`,
        );
      responses[key] = await mcpReq.elicitInput(withInputKeyHint(entry.params, key) as never);
    }
  }
  throw new ProtocolError(ProtocolErrorCode.InternalError, `${call.params.name} asked more than ${MAX_GATHER_ROUNDS} rounds of questions before its task`);
}
