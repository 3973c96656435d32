/**
 * Stage 4, validate arguments: a built-in tool's arguments are checked against its input schema before
 * anything runs or is recorded. Refused arguments are the model's to correct (SEP-1303): the caller gets
 * the tool error the SDK would answer, and nothing is written (no audit entry for a call that never ran).
 * The worker's pipeline refuses them as a JSON-RPC error instead (the task fails). A call that would
 * become a task was validated by the task stage already (-32602); upstream tools are validated upstream.
 */
import { ProtocolError } from '@modelcontextprotocol/server';
import type { Stage } from '../pipeline.js';

/** The validate-arguments stage; `surfaceErrors` on the worker. */
export function validateArgumentsStage(opts: { surfaceErrors: boolean }): Stage {
  return {
    name: 'validate arguments',
    async run(call, next) {
      if (call.target.kind !== 'builtin') return next(call);
      try {
        await call.scope.builtins.validate(call.params.name, call.params.arguments);
      } catch (err) {
        if (opts.surfaceErrors || !(err instanceof ProtocolError)) throw err;
        return { content: [{ type: 'text', text: err.message }], isError: true };
      }
      return next(call);
    },
  };
}
