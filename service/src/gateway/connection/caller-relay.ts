/**
 * Routes what an upstream sends while serving a call to that call's caller: its input requests
 * (elicitation, sampling, roots) and its log messages.
 */
import { ProtocolError, type Client } from '@modelcontextprotocol/client';
import { ProtocolErrorCode, type ServerContext } from '@modelcontextprotocol/server';
import { callContext, type CallScope } from '../call-context.js';

/** The callers of one upstream connection and the client handlers that relay to them. */
export class CallerRelay {
  /** Contexts of the client requests currently calling this upstream (input requests go to them). */
  private readonly callers = new Set<CallScope>();

  /** Runs `fn` with the current call's scope registered as a caller of this upstream. */
  async during<T>(fn: () => Promise<T>): Promise<T> {
    const caller = callContext.getStore();
    if (caller) this.callers.add(caller);
    try {
      return await fn();
    } finally {
      if (caller) this.callers.delete(caller);
    }
  }

  /** Installs the relaying request and log handlers on a client of upstream `namespace`. */
  install(client: Client, namespace: string): void {
    const relay = <T>(what: string, method: string, params: unknown, ask: (ctx: ServerContext) => Promise<T>): Promise<T> => {
      // Requests on the call's own response stream carry its scope; a 2025-era upstream may send them on
      // its standalone stream instead, which is attributable only while exactly one call is in flight.
      const own = callContext.getStore();
      const scope = own ?? (this.callers.size === 1 ? [...this.callers][0] : undefined);
      if (!scope) {
        const why = this.callers.size > 1 ? `while ${this.callers.size} calls were in flight (ambiguous)` : 'outside of a client request';
        throw new ProtocolError(ProtocolErrorCode.InternalError, `upstream "${namespace}" asked for ${what} ${why}`);
      }
      // 2026-07-28 caller: the question becomes an input_required round; else a request on its session.
      if (scope.ask) return scope.ask({ method, params: (params ?? {}) as Record<string, unknown> }, own !== undefined) as Promise<T>;
      return scope.ctx
        ? ask(scope.ctx)
        : Promise.reject(new ProtocolError(ProtocolErrorCode.InternalError, `upstream "${namespace}" asked for ${what} with nobody to ask`));
    };
    client.setRequestHandler('elicitation/create', (req) => relay('elicitation', req.method, req.params, (ctx) => ctx.mcpReq.elicitInput(req.params)) as never);
    client.setRequestHandler(
      'sampling/createMessage',
      (req) => relay('sampling', req.method, req.params, (ctx) => ctx.mcpReq.requestSampling(req.params)) as never,
    );
    client.setRequestHandler('roots/list', (req) => relay('roots', req.method, req.params, (ctx) => ctx.mcpReq.send({ method: 'roots/list' })) as never);
    // Log messages the upstream emits while serving a call go to that call's caller (its own log level applies).
    client.setNotificationHandler('notifications/message', async (n) => {
      const ctx = callContext.getStore()?.ctx;
      if (ctx) await ctx.mcpReq.log(n.params.level, n.params.data, n.params.logger ?? namespace).catch(() => undefined);
    });
  }
}
