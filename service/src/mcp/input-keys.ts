/**
 * Names the questions a 2025-era session's legacy shim sends (the key format and the `_meta` key are the
 * wire vocabulary in service/src/protocol/input-keys.ts; this is the server side that stamps them).
 */
import { McpServer, type Server } from '@modelcontextprotocol/server';
import { withInputKeyHint } from '../protocol/input-keys.js';

type InputRequiredLike = { resultType?: unknown; inputRequests?: Record<string, unknown> };
type Fulfill = (
  method: string,
  handler: (request: unknown, ctx: unknown) => Promise<unknown>,
  request: unknown,
  ctx: unknown,
  first: unknown,
) => Promise<unknown>;

/** Stamps each embedded request of an `input_required` result with its key. */
function named(result: unknown): unknown {
  const r = result as InputRequiredLike | undefined;
  if (!r || r.resultType !== 'input_required' || !r.inputRequests) return result;
  const inputRequests: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(r.inputRequests)) {
    const e = entry as { method?: unknown; params?: Record<string, unknown> } | undefined;
    // roots/list carries no params of its own; its answer needs no name to be matched.
    inputRequests[key] = e && typeof e === 'object' && e.params && typeof e.params === 'object' ? { ...e, params: withInputKeyHint(e.params, key) } : entry;
  }
  return { ...r, inputRequests };
}

/**
 * Makes `server` (serving a 2025-era session) name the questions its legacy shim sends. Relies on the
 * SDK's `Server._legacyInputRequiredShim()` (SDK 2.x): without it, questions go out unnamed as before.
 */
export function nameInputKeys(server: McpServer | Server): void {
  const host = (server instanceof McpServer ? server.server : server) as unknown as { _legacyInputRequiredShim?: () => { fulfill: Fulfill } };
  const shim = host._legacyInputRequiredShim?.();
  if (!shim || typeof shim.fulfill !== 'function') return;
  const fulfill = shim.fulfill.bind(shim);
  shim.fulfill = (method, handler, request, ctx, first) => fulfill(method, async (req, c) => named(await handler(req, c)), request, ctx, named(first));
}
