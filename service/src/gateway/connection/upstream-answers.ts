/**
 * What the gateway's pooled clients offer upstreams, and how they read upstream answers. The SDK client
 * (2.4) decodes only `complete` / `input_required` results of `tools/call`: {@link liftUpstreamAnswer} turns
 * a task answer (an upstream chose to run the call as a task) into a complete result carrying the task under
 * {@link UPSTREAM_TASK_META} before the SDK decodes it; upstream-tasks.ts takes it from there. It runs on
 * every inbound response, in the transport (rewriting-transport.ts).
 */
import { UPSTREAM_NAMESPACE_META, UPSTREAM_SESSION_META, UPSTREAM_TASK_META } from '../../protocol/meta-keys.js';

/** What the gateway's pooled clients offer upstreams: every question kind, relayed to the caller. */
export const UPSTREAM_CLIENT_CAPABILITIES = { elicitation: { form: {} }, sampling: {}, roots: {} };

/** `_meta` keys only the gateway itself may put on an upstream's result. */
const INTERNAL_META = [UPSTREAM_TASK_META, UPSTREAM_NAMESPACE_META, UPSTREAM_SESSION_META];

/**
 * An upstream's result as the pooled client should decode it: a task answer lifted into a complete result,
 * and the gateway's own `_meta` keys removed (an upstream that sends them, forging a task, namespace or
 * session, has them dropped). Anything else is returned as it is.
 */
export function liftUpstreamAnswer(result: Record<string, unknown>): Record<string, unknown> {
  // 2026-07-28 CreateTaskResult (flat task fields) / 2025-11-25 CreateTaskResult ({task}).
  const task = result['resultType'] === 'task' ? stripResultType(result) : isLegacyTaskAnswer(result) ? (result['task'] as Record<string, unknown>) : undefined;
  if (task) {
    const complete = { content: [], _meta: { [UPSTREAM_TASK_META]: task } };
    return result['resultType'] === 'task' ? { resultType: 'complete', ...complete } : complete;
  }
  const meta = result['_meta'] as Record<string, unknown> | undefined;
  if (meta && typeof meta === 'object' && INTERNAL_META.some((k) => k in meta)) {
    return { ...result, _meta: Object.fromEntries(Object.entries(meta).filter(([k]) => !INTERNAL_META.includes(k))) };
  }
  return result;
}

function stripResultType(r: Record<string, unknown>): Record<string, unknown> {
  const { resultType: _rt, ...rest } = r;
  return rest;
}

function isLegacyTaskAnswer(r: Record<string, unknown>): boolean {
  const task = r['task'];
  return r['content'] === undefined && typeof task === 'object' && task !== null && typeof (task as { taskId?: unknown }).taskId === 'string';
}
