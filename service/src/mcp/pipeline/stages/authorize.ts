/**
 * Stage 2, authorize: a tool outside the caller's view (virtual server selection and `server:`/`tool:`
 * scopes, issue 20) is refused as if it did not exist; then the target refuses a call it does not take
 * from this caller (an upstream's allow/deny list), before anything is recorded or started.
 */
import type { Principal } from '../../../domain/principal.js';
import type { View } from '../../../domain/virtual-server.js';
import { toolNotFound } from '../../view/apply-view.js';
import type { Stage } from '../pipeline.js';

/** The authorize stage; `viewOf` gives a caller's view (undefined: the whole tenant). */
export function authorizeStage(viewOf?: (principal: Principal) => Promise<View | undefined>): Stage {
  return {
    name: 'authorize',
    async run(call, next) {
      // First: a hidden tool's own refusal (e.g. an upstream's deny list) would tell that it exists.
      const view = await viewOf?.(call.principal);
      if (view && !view.toolVisible(call.params.name)) throw toolNotFound(call.params.name);
      call.target.authorize(call);
      return next(call);
    },
  };
}
