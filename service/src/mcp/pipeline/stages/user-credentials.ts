/**
 * Stage, user credentials (after authorize): a target whose upstream takes each caller's own credentials
 * (`auth: per-user-oauth` or `token-exchange`) is bound to the caller, so the rest of the pipeline (a task
 * included) runs against the caller's own upstream connection; a caller who has not connected yet gets
 * the target's answer asking for it (URL-mode elicitation) before anything is recorded or started.
 */
import type { Stage } from '../pipeline.js';

/** The user-credentials stage. */
export const userCredentialsStage: Stage = {
  name: 'user credentials',
  async run(call, next) {
    if (!call.target.bindCaller) return next(call);
    const bound = await call.target.bindCaller(call);
    if ('result' in bound) return bound.result;
    return next({ ...call, target: bound.target });
  },
};
