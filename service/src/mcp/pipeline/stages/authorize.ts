/**
 * Stage 2, authorize: the target refuses a call it does not take from this caller (an upstream's
 * allow/deny list) before anything is recorded or started.
 */
import type { Stage } from '../pipeline.js';

/** The authorize stage. */
export const authorizeStage: Stage = {
  name: 'authorize',
  run(call, next) {
    call.target.authorize(call);
    return next(call);
  },
};
