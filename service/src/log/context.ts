/**
 * Per-request log context (request id, tenant), carried through async calls with AsyncLocalStorage so
 * every log line written while serving a request names it without passing a logger around.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** Fields merged into every log line written inside `runWithLogContext`. */
export interface LogContext {
  requestId?: string;
  tenantId?: string;
}

const storage = new AsyncLocalStorage<LogContext>();

/** Runs `fn` with `ctx` as the log context; nested calls see a copy they may extend. */
export function runWithLogContext<T>(ctx: LogContext, fn: () => T): T {
  return storage.run({ ...storage.getStore(), ...ctx }, fn);
}

/** The current context (mutable: the auth step adds tenantId once the caller is known). */
export function currentLogContext(): LogContext | undefined {
  return storage.getStore();
}
