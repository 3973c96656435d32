/**
 * The client request an upstream call is made for, carried across the pooled client's async work with
 * AsyncLocalStorage: when the upstream asks for input while serving that call (elicitation, sampling,
 * roots), the pooled client's handlers find the caller here and ask it: through `ask` when the caller
 * speaks 2026-07-28 (the question becomes an `input_required` round, see pending-inputs.ts), else as a
 * server-to-client request on the caller's 2025-era session.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ServerContext } from '@modelcontextprotocol/server';

/** An upstream's input request, in JSON-RPC terms. */
export interface InputAsk {
  readonly method: string;
  readonly params: Record<string, unknown>;
}

/** Whom an upstream call is running for. */
export type CallScope =
  | {
      readonly ctx: ServerContext;
      /**
       * Set for 2026-07-28 callers: resolves with the caller's answer, possibly from another replica.
       * `related`: the upstream sent the request on this call's own response stream (not merely while it ran).
       */
      readonly ask?: (request: InputAsk, related: boolean) => Promise<unknown>;
    }
  | {
      /** No client request: a task the gateway follows on its own (its questions go to the task). */
      readonly ctx?: undefined;
      readonly ask: (request: InputAsk, related: boolean) => Promise<unknown>;
    };

/** Scope of the gateway request on whose behalf the current upstream call runs. */
export const callContext = new AsyncLocalStorage<CallScope>();
