/**
 * What every part of the legacy leg shares within one handler (one replica): stores, the pub/sub hub, the
 * router, settings, the open SSE streams and running exchanges, the pool of idle live instances, and the
 * step that turns a stored session into a live server instance.
 */
import type { AuthInfo, JSONRPCMessage, McpServerFactory, MessageExtraInfo } from '@modelcontextprotocol/server';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Principal } from '../../domain/principal.js';
import type { RedisEventLog } from '../../store/redis/event-store.js';
import type { RedisSessionStore, SessionRecord } from '../../store/redis/session-store.js';
import type { ChannelHub } from './channel-hub.js';
import type { LegacySettings } from './config.js';
import type { NotificationGate } from '../view/list-change-gate.js';
import { principalFingerprint, type InstancePool, type LiveInstance } from './instance-pool.js';
import type { ReplicaRouter } from './router.js';
import { SessionTransport, type TransportSink } from './session-transport.js';
import type { SseRegistry, SseStream } from './sse.js';

/** A running exchange (POST with requests) that shutdown may have to abort. */
export interface RunningExchange {
  abort(reason: string): Promise<void>;
}

/** Control messages on `<prefix>legacy:ctl:<sid>`. */
export type SessionControl = { type: 'deleted' } | { type: 'get-open'; token: string };

/** A session stream's gate of tenant-wide notifications (issue 20: only what the caller's view admits). */
export type NotificationGateFactory = (principal: Principal) => NotificationGate;

/** Shared state of one legacy handler. */
export interface LegacyContext {
  /** @defaultValue every tenant-wide notification reaches every session */
  readonly notificationGate?: NotificationGateFactory;
  readonly redis: Redis;
  readonly hub: ChannelHub;
  readonly sessions: RedisSessionStore;
  readonly log: RedisEventLog;
  readonly router: ReplicaRouter;
  readonly settings: LegacySettings;
  readonly logger: Logger;
  readonly replicaId: string;
  readonly factory: McpServerFactory;
  readonly keyPrefix: string;
  readonly sse: SseRegistry & { readonly streams: ReadonlySet<SseStream> };
  readonly exchanges: Set<RunningExchange>;
  /** Live instances between exchanges, by session (this replica only). */
  readonly pool: InstancePool;
  /** Local listeners of session control messages, by session id (fed by one pattern subscription). */
  readonly watchers: Map<string, Set<(c: SessionControl) => void>>;
  draining: boolean;
}

/** Channel of a session's control messages. */
export function controlChannel(ctx: LegacyContext, sid: string): string {
  return `${ctx.keyPrefix}legacy:ctl:${sid}`;
}

/** Channel of tenant-wide notifications (list_changed, resources/updated). */
export function tenantChannel(ctx: LegacyContext, tenantId: string): string {
  return `${ctx.keyPrefix}legacy:tenant:${tenantId}`;
}

/** Listens to a session's control messages; returns the function that stops listening. */
export function watchSession(ctx: LegacyContext, sid: string, onControl: (c: SessionControl) => void): () => void {
  let set = ctx.watchers.get(sid);
  if (!set) ctx.watchers.set(sid, (set = new Set()));
  set.add(onControl);
  return () => {
    set.delete(onControl);
    if (set.size === 0 && ctx.watchers.get(sid) === set) ctx.watchers.delete(sid);
  };
}

/** Starts the one pattern subscription feeding every local session watcher. */
export async function startControlListener(ctx: LegacyContext): Promise<void> {
  const base = `${ctx.keyPrefix}legacy:ctl:`;
  await ctx.hub.psubscribe(`${base}*`, (channel, payload) => {
    const sid = channel.slice(base.length);
    const control = JSON.parse(payload) as SessionControl;
    if (control.type === 'deleted') ctx.pool.dropSession(sid);
    const listeners = ctx.watchers.get(sid);
    if (!listeners) return;
    for (const l of [...listeners]) l(control);
  });
}

/** Drops a tenant's pooled instances on every list change published for it (any replica's notifyTenant). */
export async function startTenantListener(ctx: LegacyContext): Promise<void> {
  const base = `${ctx.keyPrefix}legacy:tenant:`;
  await ctx.hub.psubscribe(`${base}*`, (channel, payload) => {
    const { method } = JSON.parse(payload) as { method?: string };
    if (method !== 'notifications/resources/updated') ctx.pool.dropTenant(channel.slice(base.length));
  });
}

/** Publishes a control message to every replica. */
export async function publishControl(ctx: LegacyContext, sid: string, c: SessionControl): Promise<void> {
  await ctx.redis.publish(controlChannel(ctx, sid), JSON.stringify(c));
}

/** The SDK AuthInfo handed to the factory and handlers; the principal rides in `extra.principal`. */
export function authInfoOf(principal: Principal): AuthInfo {
  return { token: '', clientId: principal.subject, scopes: [...principal.scopes], extra: { principal } };
}

/** The extra info each inbound message is delivered with. */
export function messageExtra(principal: Principal, request: Request): MessageExtraInfo {
  return { authInfo: authInfoOf(principal), request };
}

/**
 * A live instance of `session` for one exchange, sending to `sink`: an idle one from the replica's pool when
 * it was built for the same principal (no restore; the stored log level re-applied if another replica changed
 * it), otherwise a fresh, restored one (`openInstance`). Give it back with `releaseInstance`.
 */
export async function acquireInstance(
  ctx: LegacyContext,
  session: SessionRecord,
  principal: Principal,
  request: Request,
  sink: TransportSink,
): Promise<LiveInstance> {
  const since = ctx.pool.changeCount(principal.tenantId);
  const pooled = ctx.pool.take(session.sessionId, principalFingerprint(principal));
  if (pooled) {
    pooled.transport.bind(sink);
    if (pooled.logLevel === session.logLevel) return pooled;
    if (session.logLevel !== undefined) {
      const set = await pooled.transport.internalRequest('logging/setLevel', { level: session.logLevel }).catch(() => undefined);
      if (set && !('error' in set)) {
        pooled.logLevel = session.logLevel;
        return pooled;
      }
    }
    await pooled.close();
  }
  const opened = await openInstance(ctx, session, principal, request, sink);
  ctx.pool.lease(opened, since);
  return opened;
}

/** Gives an instance back after its exchange: pooled when it ended cleanly, otherwise closed. */
export function releaseInstance(ctx: LegacyContext, sid: string, principal: Principal, instance: LiveInstance): void {
  ctx.pool.give(sid, principal, instance);
}

/**
 * A new server instance from the tenant factory, before it is connected (initialize, or a restore).
 * `protocolVersion`, the revision the client asked for in `initialize`, decides what the instance offers
 * (a session at 2025-06-18 gets no tasks capability).
 */
export async function buildServer(
  ctx: LegacyContext,
  principal: Principal,
  request: Request,
  protocolVersion: string | undefined,
): Promise<Awaited<ReturnType<McpServerFactory>>> {
  const base = authInfoOf(principal);
  const authInfo = { ...base, extra: { ...base.extra, ...(protocolVersion && { protocolVersion }) } };
  return ctx.factory({ era: 'legacy', authInfo, requestInfo: request });
}

/**
 * Builds a fresh server instance for `session` from the tenant factory and restores it (once per session and
 * replica while the instance is pooled, see instance-pool.ts): the stored
 * `initialize` parameters (and log level) are replayed through the SDK's own handlers, so the negotiated
 * version and client capabilities gate sampling/elicitation exactly as on the replica that initialized it.
 */
export async function openInstance(
  ctx: LegacyContext,
  session: SessionRecord,
  principal: Principal,
  request: Request,
  sink: TransportSink,
): Promise<LiveInstance> {
  const product = await buildServer(ctx, principal, request, session.initializeParams.protocolVersion);
  const transport = new SessionTransport(session.sessionId, ctx.replicaId, sink);
  await product.connect(transport);
  const close = async () => {
    await transport.close().catch(() => {});
    await product.close().catch(() => {});
  };
  try {
    const init = await transport.internalRequest('initialize', session.initializeParams);
    if ('error' in init) throw new Error(`restoring session failed: initialize answered ${JSON.stringify(init.error)}`);
    if (session.logLevel !== undefined) await transport.internalRequest('logging/setLevel', { level: session.logLevel });
  } catch (err) {
    await close();
    throw err;
  }
  return { transport, close, logLevel: session.logLevel };
}

/** Appends a message to the session's standalone (GET) stream log; the GET holder, wherever it is, sends it. */
export async function appendStandalone(ctx: LegacyContext, sid: string, message: JSONRPCMessage): Promise<void> {
  await ctx.log.append(sid, 'get', message);
}
