/**
 * Stage 3, limits: the tenant's call limits (per tool, key, user, virtual server; rates and daily quotas)
 * are counted right after authorize, so a call refused there consumes nothing, and before a task is
 * created or anything is recorded. One Redis script per call checks every matching limit and consumes
 * them all or none (gateway/limits). Past a limit the call fails with JSON-RPC -32029 naming the limit,
 * its window and the seconds to wait (`data.retryAfterSeconds`). A `call_tool` call is counted once, as
 * the tool it names.
 */
import type { LimitService } from '../../../gateway/limits/limit-service.js';
import { CALL_TOOL } from '../../../tools/index.js';
import type { Stage } from '../pipeline.js';

/** The limits stage over the platform's limit service. */
export function limitsStage(limits: Pick<LimitService, 'checkCall'>): Stage {
  return {
    name: 'limits',
    async run(call, next) {
      // `call_tool` runs the pipeline again for the tool it names: that inner call is the one counted.
      if (call.params.name !== CALL_TOOL) await limits.checkCall(call.principal, call.params.name);
      return next(call);
    },
  };
}
