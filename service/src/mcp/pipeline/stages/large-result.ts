/**
 * Stage 6, large-result offload: a complete result over LARGE_RESULT_BYTES goes to object storage and the
 * caller gets a summary and a `resource_link` (../../large-results.ts). Task answers never reach it (the
 * task stage answers them before), so a task's stored result is offloaded on the worker, where its run
 * passes here.
 */
import { offloadToolResult, type LargeResultsDeps } from '../../large-results.js';
import type { Stage } from '../pipeline.js';

/** The offload stage over the deployment's blob store. */
export function largeResultStage(deps: LargeResultsDeps): Stage {
  return {
    name: 'large-result offload',
    async run(call, next) {
      const result = await next(call);
      return (await offloadToolResult(result, call.principal.tenantId, deps, call.params.name)) as Record<string, unknown>;
    },
  };
}
