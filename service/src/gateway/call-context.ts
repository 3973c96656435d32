/**
 * The client request an upstream call is made for, carried across the pooled client's async work with
 * AsyncLocalStorage: when the upstream asks for input while serving that call (elicitation, sampling,
 * roots), the pooled client's handlers find the caller's context here and ask the caller.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ServerContext } from '@modelcontextprotocol/server';

/** Context of the gateway request on whose behalf the current upstream call runs. */
export const callContext = new AsyncLocalStorage<ServerContext>();
