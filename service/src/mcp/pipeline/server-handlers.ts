/**
 * The one adapter between the tool-call pipeline and the SDK's `McpServer` (see docs/decisions.md, "The
 * tool-call pipeline"): `McpServer` installs its tools, resources, prompts and completion handlers through
 * its `Server`'s public `setRequestHandler`, and the SDK offers no way to read a handler back or to compose
 * around one. The gateway must (federated lists merge the built-in list with the upstream catalog; the
 * built-in `tools/call` is one target of the pipeline), so this module observes registrations: before
 * anything registers on a new instance, `setRequestHandler` of that instance is wrapped to record each
 * handler as given, then forwards it unchanged. Nothing else of the SDK is touched.
 *
 * Recorded handlers are the callers' own functions (before the SDK's dispatch wrapping: request
 * validation, input_required and cache hints), so a composed handler set last is wrapped by the SDK once.
 */
import type { McpServer, ServerContext } from '@modelcontextprotocol/server';

/** A request handler as given to `setRequestHandler` (the request already validated by the SDK). */
export type RequestHandler = (request: { method: string; params?: Record<string, unknown> }, ctx: ServerContext) => Promise<Record<string, unknown>>;

/** The handlers registered on one server instance, and a way to compose new ones over them. */
export interface ServerHandlers {
  /** The first handler registered for `method` (the SDK's own, for the methods `McpServer` serves). */
  original(method: string): RequestHandler | undefined;
  /** The handler currently registered for `method`. */
  current(method: string): RequestHandler | undefined;
  /** Registers `handler` for `method` through the server's public `setRequestHandler`. */
  set(method: string, handler: RequestHandler): void;
  /** Replaces the current handler of `method` by `wrap(current)` (a method without a handler is left alone). */
  wrap(method: string, wrap: (inner: RequestHandler) => RequestHandler): void;
}

/** Starts recording the handlers of `server`; call before anything registers on it. */
export function recordHandlers(server: McpServer): ServerHandlers {
  const low = server.server;
  const forward = low.setRequestHandler.bind(low) as (method: string, ...rest: unknown[]) => void;
  const first = new Map<string, RequestHandler>();
  const latest = new Map<string, RequestHandler>();
  const record = (method: string, handler: unknown) => {
    if (typeof handler !== 'function') return;
    if (!first.has(method)) first.set(method, handler as RequestHandler);
    latest.set(method, handler as RequestHandler);
  };
  low.setRequestHandler = ((method: string, ...rest: unknown[]) => {
    // Two forms: (method, handler) and (method, schemas, handler); the schema form is not recorded
    // (its handler takes the parsed params, not the request).
    if (rest.length === 1) record(method, rest[0]);
    forward(method, ...rest);
  }) as typeof low.setRequestHandler;
  return {
    original: (method) => first.get(method),
    current: (method) => latest.get(method),
    set: (method, handler) => {
      record(method, handler);
      forward(method, handler);
    },
    wrap(method, wrapper) {
      const inner = latest.get(method);
      if (!inner) return;
      this.set(method, wrapper(inner));
    },
  };
}
