/**
 * Names the questions a 2025-era session is asked (the key format and the `_meta` key are the wire
 * vocabulary in service/src/protocol/input-keys.ts; this is the server side that stamps them). On a
 * 2025-era session the SDK's legacy shim sends each embedded request of an `input_required` result as a
 * server-to-client request, params as given: the server factory wraps the three methods that may answer
 * `input_required` so their results carry the key in each request's params before the shim sees them.
 */
import { withInputKeyHint } from '../protocol/input-keys.js';
import type { ServerHandlers } from './pipeline/server-handlers.js';

type InputRequiredLike = { resultType?: unknown; inputRequests?: Record<string, unknown> };

/** Stamps each embedded request of an `input_required` result with its key; other results are returned as they are. */
export function nameInputRequests<T>(result: T): T {
  const r = result as InputRequiredLike | undefined;
  if (!r || r.resultType !== 'input_required' || !r.inputRequests) return result;
  const inputRequests: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(r.inputRequests)) {
    const e = entry as { method?: unknown; params?: Record<string, unknown> } | undefined;
    // roots/list carries no params of its own; its answer needs no name to be matched.
    inputRequests[key] = e && typeof e === 'object' && e.params && typeof e.params === 'object' ? { ...e, params: withInputKeyHint(e.params, key) } : entry;
  }
  return { ...r, inputRequests } as T;
}

/** The methods that may answer `input_required` (2026-07-28 multi round-trip; the legacy shim fulfils them on 2025-era sessions). */
const INPUT_REQUIRED_METHODS = ['tools/call', 'prompts/get', 'resources/read'];

/** Makes a 2025-era session's instance name the questions it asks (call after every handler is registered). */
export function nameInputKeys(handlers: ServerHandlers): void {
  for (const method of INPUT_REQUIRED_METHODS) handlers.wrap(method, (inner) => async (request, ctx) => nameInputRequests(await inner(request, ctx)));
}
