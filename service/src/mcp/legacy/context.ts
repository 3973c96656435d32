/**
 * What every part of the legacy leg shares within one handler (one replica): stores, the pub/sub hub, the
 * router, settings, the open SSE streams and running exchanges, and the step that turns a stored session
 * into a live server instance.
 */
import type { AuthInfo, JSONRPCMessage, McpServerFactory, MessageExtraInfo } from '@modelcontextprotocol/server';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Principal } from '../../domain/principal.js';
import type { RedisEventLog } from '../../store/redis/event-store.js';
import type { RedisSessionStore, SessionRecord } from '../../store/redis/session-store.js';
import { nameInputKeys } from '../input-keys.js';
import type { ChannelHub } from './channel-hub.js';
import type { LegacySettings } from './config.js';
import type { ReplicaRouter } from './router.js';
import { SessionTransport, type TransportSink } from './session-transport.js';
import type { SseRegistry, SseStream } from './sse.js';

/** A running exchange (POST with requests) that shutdown may have to abort. */
export interface RunningExchange {
  abort(reason: string): Promise<void>;
}

/** Control messages on `<prefix>legacy:ctl:<sid>`. */
export type SessionControl = { type: 'deleted' } | { type: 'get-open'; token: string };

/** Shared state of one legacy handler. */
export interface LegacyContext {
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
    const listeners = ctx.watchers.get(channel.slice(base.length));
    if (!listeners) return;
    const control = JSON.parse(payload) as SessionControl;
    for (const l of [...listeners]) l(control);
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

/** A live server instance bound to one exchange of a session. */
export interface LiveInstance {
  readonly transport: SessionTransport;
  close(): Promise<void>;
}

/**
 * Builds a fresh server instance for `session` from the tenant factory and restores it: the stored
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
  const product = await ctx.factory({ era: 'legacy', authInfo: authInfoOf(principal), requestInfo: request });
  // Questions of input_required handlers go out named, so a federating gateway can keep their keys.
  nameInputKeys(product);
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
  return { transport, close };
}

/** Appends a message to the session's standalone (GET) stream log; the GET holder, wherever it is, sends it. */
export async function appendStandalone(ctx: LegacyContext, sid: string, message: JSONRPCMessage): Promise<void> {
  await ctx.log.append(sid, 'get', message);
}
