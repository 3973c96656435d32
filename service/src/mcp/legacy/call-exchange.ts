/**
 * One POST carrying JSON-RPC requests: a live server instance of the session (pooled on this replica, or
 * freshly restored) answers them on an SSE stream whose
 * every event is first appended to the Redis event log (so any replica can replay and live-tail it) and then
 * written to the client while it is still connected. This replica holds a renewed producer lease on the
 * stream until the last response is logged; if it dies, resuming readers fail the stream's pending requests.
 */
import type { JSONRPCMessage, JSONRPCRequest, RequestId } from '@modelcontextprotocol/server';
import { isJSONRPCErrorResponse, isJSONRPCResultResponse } from '@modelcontextprotocol/server';
import { randomBytes } from 'node:crypto';
import type { Principal } from '../../domain/principal.js';
import type { SessionRecord } from '../../store/redis/session-store.js';
import { acquireInstance, appendStandalone, messageExtra, releaseInstance, watchSession, type LegacyContext, type RunningExchange } from './context.js';
import type { LiveInstance } from './instance-pool.js';
import { SseStream } from './sse.js';

/** Protocol versions whose clients understand an empty-data priming event (resumable before any message). */
function supportsPriming(version: string): boolean {
  return version >= '2025-11-25';
}

/** Starts serving `requests` of `session`; returns the SSE response at once, the work continues behind it. */
export async function startCall(
  ctx: LegacyContext,
  session: SessionRecord,
  principal: Principal,
  request: Request,
  requests: readonly JSONRPCRequest[],
): Promise<Response> {
  const streamId = randomBytes(16).toString('base64url');
  const sid = session.sessionId;
  const sse = new SseStream(ctx.sse, { headers: { 'mcp-session-id': sid }, keepAliveMs: ctx.settings.keepAliveMs });
  const exchange = new CallExchange(ctx, session, principal, streamId, sse, requests);
  // The instance first (no Redis), so its call records are written with the stream's setup.
  const instance = await exchange.open(request);
  // Issued together: one connection runs them in order (meta + lease before the priming append), so this
  // costs one round trip before the response starts.
  const [, , primingId] = await Promise.all([
    ctx.log.openCallStream(
      sid,
      streamId,
      requests.map((r) => r.id),
      ctx.replicaId,
      ctx.settings.leaseMs,
    ),
    ctx.sessions.addStream(sid, ctx.log.keysOf(sid, streamId)),
    supportsPriming(session.protocolVersion) ? ctx.log.append(sid, streamId, undefined, { callStream: true }) : undefined,
    instance
      ? ctx.router.register(
          sid,
          instance.transport,
          requests.map((r) => r.id),
          ctx.settings.leaseMs,
        )
      : undefined,
  ]);
  if (primingId !== undefined) sse.event(primingId, undefined, ctx.settings.retryMs);
  exchange.run(request).catch((err: Error) => ctx.logger.error({ err, sessionId: sid }, 'legacy: call exchange failed'));
  return sse.response;
}

class CallExchange implements RunningExchange {
  private readonly pending = new Map<string, JSONRPCRequest>();
  private readonly ids: RequestId[];
  private chain: Promise<void> = Promise.resolve();
  private instance: LiveInstance | undefined;
  private startError: Error | undefined;
  /** The lease release and call records removal, issued right behind the final append. */
  private releasing: Promise<unknown> | undefined;
  private leaseTimer: NodeJS.Timeout | undefined;
  private unwatch: (() => void) | undefined;
  private finished = false;

  constructor(
    private readonly ctx: LegacyContext,
    private readonly session: SessionRecord,
    private readonly principal: Principal,
    private readonly streamId: string,
    private readonly sse: SseStream,
    requests: readonly JSONRPCRequest[],
  ) {
    for (const r of requests) this.pending.set(JSON.stringify(r.id), r);
    this.ids = requests.map((r) => r.id);
  }

  private get sid(): string {
    return this.session.sessionId;
  }

  /**
   * Takes a live instance of the session for this exchange (pooled, or built and restored) and starts watching
   * the session; undefined when no instance could be started (`run` then fails the requests in the log).
   */
  async open(request: Request): Promise<LiveInstance | undefined> {
    const { ctx } = this;
    ctx.exchanges.add(this);
    this.unwatch = watchSession(ctx, this.sid, (c) => {
      if (c.type === 'deleted') void this.abort('session deleted');
    });
    try {
      this.instance = await acquireInstance(ctx, this.session, this.principal, request, {
        related: (message, requestId) => this.enqueue(() => this.related(message, requestId)),
        standalone: (message) => appendStandalone(ctx, this.sid, message),
        unrelatedRequest: (message) =>
          this.enqueue(async () => {
            const first = this.pending.values().next().value;
            if (first) await this.related(message, first.id);
          }),
        cancelled: (requestId) => void this.enqueue(() => this.cancelled(requestId)),
      });
      if (this.finished) {
        // Aborted (shutdown, session deleted) while the instance was being built: nothing was delivered to it.
        releaseInstance(ctx, this.sid, this.principal, this.instance);
        this.instance = undefined;
      }
      return this.instance;
    } catch (err) {
      this.startError = err as Error;
      return undefined;
    }
  }

  /** Delivers the requests to the instance (registered with the stream's setup), or fails them. */
  async run(request: Request): Promise<void> {
    const { ctx } = this;
    if (this.finished) {
      // Aborted before the stream existed: its setup was written after the abort's failPending, so fail it now.
      await ctx.log.failPending(this.sid, this.streamId, -32603, 'Request aborted before it started').catch(() => 0);
      await ctx.log.releaseLease(this.sid, this.streamId).catch(() => {});
      return;
    }
    // Renewed from here on: the lease was taken with the stream's setup, after `open`.
    this.leaseTimer = setInterval(() => void this.renew(), Math.max(100, Math.floor(ctx.settings.leaseMs / 3)));
    if (!this.instance) {
      ctx.logger.error({ err: this.startError, sessionId: this.sid }, 'legacy: could not start a server instance for the session');
      await this.enqueue(() => this.failAll(-32603, 'Internal error'));
      return;
    }
    if (this.finished) return;
    const extra = messageExtra(this.principal, request);
    for (const r of this.pending.values()) this.instance.transport.deliver(r, extra);
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(step).catch((err: Error) => this.ctx.logger.error({ err, sessionId: this.sid }, 'legacy: event append failed'));
    return this.chain;
  }

  private async related(message: JSONRPCMessage, requestId: RequestId): Promise<void> {
    if (this.finished) return;
    const isResponse = isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message);
    const key = JSON.stringify(requestId);
    const req = this.pending.get(key);
    if (!req) return; // a message related to an already-answered request: nowhere to send it
    if (!isResponse) {
      const id = await this.ctx.log.append(this.sid, this.streamId, message, { callStream: true });
      if (id !== undefined) this.sse.event(id, message);
      return;
    }
    if (isJSONRPCResultResponse(message)) {
      const refusal = await this.persistSideEffects(req);
      if (refusal) message = { jsonrpc: '2.0', id: requestId, error: refusal };
    }
    this.pending.delete(key);
    const final = this.pending.size === 0;
    const appended = this.ctx.log.append(this.sid, this.streamId, message, { answers: requestId, final });
    // Issued in the same tick, so it travels in the append's round trip and runs after it (one connection,
    // in order): the lease ends only once the final event is logged.
    if (final) this.releasing = this.release();
    const id = await appended;
    if (id !== undefined) this.sse.event(id, message);
    if (final || id === undefined) await this.finish();
  }

  /** A cancelled request gets no response (spec); when it was the last one, the stream ends with a marker. */
  private async cancelled(requestId: RequestId): Promise<void> {
    const key = JSON.stringify(requestId);
    if (this.finished || !this.pending.delete(key)) return;
    if (this.pending.size > 0) return;
    await this.ctx.log.append(this.sid, this.streamId, undefined, { answers: requestId, final: true });
    await this.finish();
  }

  /**
   * Session state some successful requests change, persisted before the client sees the answer. Returns the
   * error to answer instead when the change is refused (subscription limit).
   */
  private async persistSideEffects(req: JSONRPCRequest): Promise<{ code: number; message: string } | undefined> {
    const { sessions, settings } = this.ctx;
    const params = (req.params ?? {}) as Record<string, unknown>;
    if (req.method === 'logging/setLevel' && typeof params.level === 'string') {
      await sessions.setLogLevel(this.sid, params.level);
      if (this.instance) this.instance.logLevel = params.level;
    }
    if (req.method === 'resources/subscribe' && typeof params.uri === 'string') {
      if (!(await sessions.isSubscribed(this.sid, params.uri)) && (await sessions.subscriptionCount(this.sid)) >= settings.maxSubscriptions) {
        return { code: -32603, message: `Subscription limit reached (${settings.maxSubscriptions} per session)` };
      }
      await sessions.setSubscribed(this.sid, params.uri, true);
    }
    if (req.method === 'resources/unsubscribe' && typeof params.uri === 'string') await sessions.setSubscribed(this.sid, params.uri, false);
    return undefined;
  }

  private async failAll(code: number, message: string): Promise<void> {
    await this.ctx.log.failPending(this.sid, this.streamId, code, message);
    await this.ctx.log.readAfter(this.sid, this.streamId, '0-0', (e) => {
      if (e.message && (isJSONRPCErrorResponse(e.message) || isJSONRPCResultResponse(e.message))) this.sse.event(e.eventId, e.message);
      return true;
    });
    await this.finish();
  }

  private async renew(): Promise<void> {
    if (this.finished) return;
    try {
      const held = await this.ctx.log.renewLease(this.sid, this.streamId, this.ctx.replicaId, this.ctx.settings.leaseMs);
      await this.ctx.router.renew(this.sid, this.ids, this.ctx.settings.leaseMs);
      if (!held) {
        this.ctx.logger.warn({ sessionId: this.sid }, 'legacy: lost the lease of a running call; abandoning it');
        await this.abort('lease lost', false);
      }
    } catch (err) {
      this.ctx.logger.warn({ err, sessionId: this.sid }, 'legacy: lease renewal failed');
    }
  }

  /** Stops the call: pending requests get a JSON-RPC error in the log (when `fail`), the stream closes. */
  async abort(reason: string, fail = true): Promise<void> {
    if (this.finished) return;
    if (fail) await this.ctx.log.failPending(this.sid, this.streamId, -32603, `Request aborted: ${reason}`).catch(() => 0);
    await this.finish();
  }

  /** Ends the producer lease and the call records (the instance stops receiving routed messages). */
  private release(): Promise<unknown> {
    const inst = this.instance;
    return Promise.all([
      this.ctx.log.releaseLease(this.sid, this.streamId).catch(() => {}),
      inst ? this.ctx.router.unregister(this.sid, inst.transport, this.ids).catch(() => {}) : undefined,
    ]);
  }

  private async finish(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    clearInterval(this.leaseTimer);
    this.unwatch?.();
    this.ctx.exchanges.delete(this);
    this.sse.close();
    await (this.releasing ?? this.release());
    // Back to the pool when the exchange ended cleanly (every request answered), closed otherwise.
    if (this.instance) releaseInstance(this.ctx, this.sid, this.principal, this.instance);
  }
}
