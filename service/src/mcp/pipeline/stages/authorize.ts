/**
 * Stage 2, authorize: a tool outside the caller's view (virtual server selection and `server:`/`tool:`
 * scopes, issue 20; the instance's `scope.view`) is refused as if it did not exist; then the target
 * refuses a call it does not take from this caller (an upstream's allow/deny list), before anything is
 * recorded or started.
 */
import { toolNotFound } from '../../view/apply-view.js';
import type { Stage } from '../pipeline.js';

/** The authorize stage. */
export const authorizeStage: Stage = {
  name: 'authorize',
  async run(call, next) {
    // First: a hidden tool's own refusal (e.g. an upstream's deny list) would tell that it exists.
    const view = await call.scope.view?.();
    if (view && !view.toolVisible(call.params.name)) throw toolNotFound(call.params.name);
    call.target.authorize(call);
    return next(call);
  },
};
