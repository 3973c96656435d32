/**
 * The SDK client the gateway pools for upstreams. The SDK client (2.4) decodes only `complete` /
 * `input_required` results of `tools/call`: {@link TaskAwareClient} lifts a task answer (an upstream
 * chose to run the call as a task) into a complete result carrying the task under
 * {@link UPSTREAM_TASK_META} before the SDK decodes it; upstream-tasks.ts takes it from there.
 */
import { Client, type JSONRPCErrorResponse, type JSONRPCResponse } from '@modelcontextprotocol/client';
import { UPSTREAM_NAMESPACE_META, UPSTREAM_SESSION_META, UPSTREAM_TASK_META } from '../protocol/meta-keys.js';

/** What the gateway's pooled clients offer upstreams: every question kind, relayed to the caller. */
export const UPSTREAM_CLIENT_CAPABILITIES = { elicitation: { form: {} }, sampling: {}, roots: {} };

/** A pooled client that understands task answers to `tools/call` (see the module comment). */
export class TaskAwareClient extends Client {
  protected override _onresponse(response: JSONRPCResponse | JSONRPCErrorResponse): void {
    const result = (response as { result?: Record<string, unknown> }).result;
    if (result && typeof result === 'object') {
      // 2026-07-28 CreateTaskResult (flat task fields) / 2025-11-25 CreateTaskResult ({task}).
      const task =
        result['resultType'] === 'task' ? stripResultType(result) : isLegacyTaskAnswer(result) ? (result['task'] as Record<string, unknown>) : undefined;
      if (task) {
        const complete = { content: [], _meta: { [UPSTREAM_TASK_META]: task } };
        super._onresponse({ ...response, result: result['resultType'] === 'task' ? { resultType: 'complete', ...complete } : complete } as JSONRPCResponse);
        return;
      }
      // The gateway's own `_meta` keys are set here and by the router only: an upstream that sends them
      // (a forged task, namespace or session) has them removed.
      const meta = result['_meta'] as Record<string, unknown> | undefined;
      if (meta && typeof meta === 'object' && INTERNAL_META.some((k) => k in meta)) {
        const kept = Object.fromEntries(Object.entries(meta).filter(([k]) => !INTERNAL_META.includes(k)));
        super._onresponse({ ...response, result: { ...result, _meta: kept } } as JSONRPCResponse);
        return;
      }
    }
    super._onresponse(response);
  }
}

/** `_meta` keys only the gateway itself may put on an upstream's result. */
const INTERNAL_META = [UPSTREAM_TASK_META, UPSTREAM_NAMESPACE_META, UPSTREAM_SESSION_META];

function stripResultType(r: Record<string, unknown>): Record<string, unknown> {
  const { resultType: _rt, ...rest } = r;
  return rest;
}

function isLegacyTaskAnswer(r: Record<string, unknown>): boolean {
  const task = r['task'];
  return r['content'] === undefined && typeof task === 'object' && task !== null && typeof (task as { taskId?: unknown }).taskId === 'string';
}
