/**
 * The tool-call pipeline: one `tools/call`, from the caller's tool name to the result it gets, as an
 * ordered list of named stages, assembled once per process (server-factory.ts) and run for every call of
 * both protocol eras:
 *
 *   resolve target → authorize → user credentials → limits → task or direct → validate arguments → audit → large-result offload → invoke
 *
 * `resolve` turns the call into a {@link TargetedCall} (a built-in tool or an upstream's, behind one
 * {@link ToolTarget} interface); each stage then gets the call and the rest of the pipeline (`next`), and
 * may answer itself (the task stage answers a task), pass the call on changed, or work on what comes back
 * (offload). The SDK delivers the result (JSON or SSE) as for any handler.
 *
 * Tracing (docs/tracing.md): with tracing on, every stage (resolve target and invoke included, and any stage
 * added later) runs in its own span named after the stage, a child of the request's span, so stages nest
 * as they call `next`; a failed call or a tool error is recorded on the request's span. Off, the plain chain
 * (no hooks at all) runs after one boolean check.
 */
import type { ToolCall, ToolTarget } from '../../domain/tool-call.js';
import type { View } from '../../domain/virtual-server.js';
import type { TaskPolicyLookup } from '../../tasks/mcp-tasks.js';
import type { BuiltinTools } from './builtin-tools.js';
import { ATTR, activeSpan, inSpan, recordError, tracingEnabled } from '../../log/tracing.js';

/** A tools/call result (complete, input_required, or a task). */
export type ToolResult = Record<string, unknown>;

/** What a stage may read of the server instance serving the call. */
export interface RequestScope {
  /** The built-in tools of the caller's toolsets on this instance. */
  readonly builtins: BuiltinTools;
  /** Whether a tool runs as a task; absent where tasks are not offered (the worker, 2025-era revisions before tasks). */
  readonly taskPolicy?: TaskPolicyLookup;
  /** What the caller sees (virtual server, scopes); absent for a caller seeing its whole tenant. */
  readonly view?: () => Promise<View | undefined>;
}

/** A call whose target is known. */
export interface TargetedCall extends ToolCall {
  readonly target: ToolTarget;
  readonly scope: RequestScope;
}

/** The rest of the pipeline after a stage. */
export type Next = (call: TargetedCall) => Promise<ToolResult>;

/** One named stage. */
export interface Stage {
  readonly name: string;
  run(call: TargetedCall, next: Next): Promise<ToolResult>;
}

/** Finds a call's target; throws the caller's error (-32602) when nothing serves the name. */
export type Resolver = (call: ToolCall, scope: RequestScope) => Promise<ToolTarget>;

/** The assembled pipeline. */
export interface ToolCallPipeline {
  /** Stage names in order, `resolve target` first and `invoke` last. */
  readonly stages: readonly string[];
  run(call: ToolCall, scope: RequestScope): Promise<ToolResult>;
  /** Runs a call whose target is known already (the pass-through path resolves its own). */
  runResolved(call: TargetedCall): Promise<ToolResult>;
}

/** Runs `fn` in a span named after the stage. */
function traced<T>(name: string, fn: () => Promise<T>): Promise<T> {
  return inSpan(name, { attributes: { [ATTR.PIPELINE_STAGE]: name } }, fn);
}

/** Runs the whole chain; its outcome (error, tool error) marks the request's span. */
async function observed(run: () => Promise<ToolResult>): Promise<ToolResult> {
  const request = activeSpan();
  if (!request) return run();
  try {
    const result = await run();
    if (result['isError'] === true) request.setAttribute(ATTR.ERROR_TYPE, 'tool_error');
    return result;
  } catch (err) {
    recordError(request, err);
    throw err;
  }
}

/**
 * Assembles the pipeline from its resolver and stages (in order); the target's `invoke` ends it. Two
 * chains over the same stages: the plain one, and one with a span per stage, taken when tracing is on.
 */
export function assemblePipeline(resolve: Resolver, stages: readonly Stage[]): ToolCallPipeline {
  const plain = stages.reduceRight<Next>(
    (next, stage) => (call) => stage.run(call, next),
    (call) => call.target.invoke(call),
  );
  const spanned = stages.reduceRight<Next>(
    (next, stage) => (call) => traced(stage.name, () => stage.run(call, next)),
    (call) => traced('invoke', () => call.target.invoke(call)),
  );
  return {
    stages: ['resolve target', ...stages.map((s) => s.name), 'invoke'],
    run: async (call, scope) =>
      tracingEnabled()
        ? observed(async () => spanned({ ...call, scope, target: await traced('resolve target', () => resolve(call, scope)) }))
        : plain({ ...call, scope, target: await resolve(call, scope) }),
    // async: a stage that throws synchronously still rejects (callers handle a rejected promise).
    runResolved: async (call) => (tracingEnabled() ? observed(() => spanned(call)) : plain(call)),
  };
}
