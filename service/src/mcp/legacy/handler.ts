/**
 * The sessionful 2025-era leg of /mcp (protocol 2025-11-25, 2025-06-18, 2025-03-26), fully distributed:
 * sessions, SSE event logs, call leases and cross-replica routing live in the state Redis, so any number of
 * identical replicas serve any request of any session. The endpoint routes here every request the SDK's
 * `isLegacyRequest` classifies as legacy, after the HTTP layer checked Host/Origin and authenticated the
 * principal. Not here: the modern 2026-07-28 leg, auth, rate limits (HTTP layer), tools (the factory).
 * Design: docs/legacy-sessions.md.
 */
import type { JSONRPCNotification, McpServerFactory } from '@modelcontextprotocol/server';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';
import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Principal } from '../../domain/principal.js';
import { RedisEventLog, parseEventId } from '../../store/redis/event-store.js';
import { RedisSessionStore, type SessionRecord } from '../../store/redis/session-store.js';
import type { McpRequestInfo } from '../request-info.js';
import { ChannelHub } from './channel-hub.js';
import { legacySettings, type LegacyConfig } from './config.js';
import {
  appendStandalone,
  publishControl,
  startControlListener,
  startTenantListener,
  tenantChannel,
  type LegacyContext,
  type NotificationGateFactory,
} from './context.js';
import { InstancePool, type InstancePoolOptions } from './instance-pool.js';
import { legacyMetrics } from './metrics.js';
import { handlePost, type PrereadBody } from './post.js';
import { jsonRpcError, sessionNotFound, sessionRequired } from './responses.js';
import { ReplicaRouter } from './router.js';
import type { SseStream } from './sse.js';
import { openReader } from './stream-reader.js';

/** What the legacy leg needs. */
export interface LegacyHandlerDeps {
  /** Tenant-keyed server factory; the principal reaches it as `authInfo.extra.principal`. */
  factory: McpServerFactory;
  /** State Redis (owned by the caller); the handler duplicates it once for its pub/sub subscriber. */
  stateRedis: Redis;
  /** Prefix of every key and channel the handler uses. */
  keyPrefix: string;
  config: LegacyConfig;
  logger: Logger;
  /** Names this replica in leases and routed ids ([A-Za-z0-9_-]). @defaultValue a random UUID */
  replicaId?: string;
  /** Registry for the session/stream gauges. @defaultValue prom-client's default registry */
  registry?: Registry;
  /** Limits of the replica's pool of idle live instances (instance-pool.ts). @defaultValue InstancePool's */
  instancePool?: InstancePoolOptions;
  /** Which tenant-wide notifications a session's GET stream gets. @defaultValue all */
  notificationGate?: NotificationGateFactory;
}

/** The legacy leg as the endpoint uses it. */
export interface LegacyMcpHandler {
  /** Serves one legacy-classified HTTP request to /mcp (POST, GET, DELETE). */
  handle(request: Request, principal: Principal, info: McpRequestInfo, preread?: PrereadBody): Promise<Response>;
  /** Publishes a tenant-wide notification (list_changed, resources/updated) to every session's GET stream. */
  notifyTenant(tenantId: string, notification: Pick<JSONRPCNotification, 'method' | 'params'>): Promise<void>;
  /** Refuses new sessions (503) and ends this replica's SSE streams with a retry hint. */
  drain(): Promise<void>;
  /** drain(), then aborts calls still running here and releases Redis resources. */
  close(): Promise<void>;
}

const LEGACY_VERSIONS = SUPPORTED_PROTOCOL_VERSIONS.filter((v) => v < '2026');

/** Creates the legacy leg of one replica. */
export function createLegacyHandler(deps: LegacyHandlerDeps): LegacyMcpHandler {
  const replicaId = deps.replicaId ?? randomUUID();
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(replicaId)) throw new Error(`replicaId must match [A-Za-z0-9_-]{1,64}, got "${replicaId}"`);
  const settings = legacySettings(deps.config);
  const logger = deps.logger.child({ component: 'mcp-legacy', replicaId });
  const sessions = new RedisSessionStore(deps.stateRedis, { keyPrefix: deps.keyPrefix, ttlSeconds: settings.sessionTtlSeconds });
  const log = new RedisEventLog(deps.stateRedis, { keyPrefix: deps.keyPrefix, maxEvents: settings.eventLogMaxEvents, ttlSeconds: settings.eventLogTtlSeconds });
  const sub = deps.stateRedis.duplicate({ connectionName: `umcp-legacy-sub-${replicaId}` });
  const hub = new ChannelHub(sub, (err) => logger.warn({ err }, 'legacy: pub/sub listener failed'));
  const router = new ReplicaRouter(deps.stateRedis, hub, deps.keyPrefix, replicaId, logger);
  const metrics = legacyMetrics(() => sessions.countActive(), deps.registry);
  const streams = new Set<SseStream>();
  const ctx: LegacyContext = {
    redis: deps.stateRedis,
    hub,
    sessions,
    log,
    router,
    settings,
    logger,
    replicaId,
    factory: deps.factory,
    ...(deps.notificationGate && { notificationGate: deps.notificationGate }),
    keyPrefix: deps.keyPrefix,
    sse: {
      streams,
      opened: (s) => {
        streams.add(s);
        metrics.openStreams.inc();
      },
      closed: (s) => {
        if (streams.delete(s)) metrics.openStreams.dec();
      },
    },
    exchanges: new Set(),
    pool: new InstancePool((sid) => ({ related: async () => {}, standalone: (message) => appendStandalone(ctx, sid, message) }), deps.instancePool),
    watchers: new Map(),
    draining: false,
  };
  // Subscribing to this replica's routing channel; retried on the next request when Redis was unreachable.
  let started: Promise<void> | undefined;
  const ensureStarted = (): Promise<void> =>
    (started ??= Promise.all([router.start(), startControlListener(ctx), startTenantListener(ctx)]).then(
      () => undefined,
      (err: Error) => {
        started = undefined;
        logger.error({ err }, 'legacy: could not subscribe to the replica channel');
        throw err;
      },
    ));
  void ensureStarted().catch(() => {});

  /** Session named by the request, bound to the principal; otherwise the 400/404 to answer. */
  async function loadSession(request: Request, principal: Principal): Promise<SessionRecord | Response> {
    const sid = request.headers.get('mcp-session-id');
    if (!sid) return sessionRequired();
    const version = request.headers.get('mcp-protocol-version');
    if (version !== null && !LEGACY_VERSIONS.includes(version)) {
      return jsonRpcError(400, -32000, `Bad Request: Unsupported protocol version: ${version} (supported versions: ${LEGACY_VERSIONS.join(', ')})`);
    }
    // One round trip: the record, and its TTL slid when this principal owns it (the store checks the owner).
    const session = await sessions.load(sid, principal);
    if (!session) return sessionNotFound();
    if (session.tenantId !== principal.tenantId || session.subject !== principal.subject) {
      logger.warn({ sessionId: sid, tenantId: principal.tenantId, subject: principal.subject }, 'legacy: session used by a principal that does not own it');
      return sessionNotFound();
    }
    // A session belongs to the virtual server it was created at (/mcp/a's session is unknown at /mcp/b).
    if (session.server !== principal.server) {
      logger.warn({ sessionId: sid, server: principal.server ?? null }, 'legacy: session used through another virtual server');
      return sessionNotFound();
    }
    return session;
  }

  async function handleGet(request: Request, principal: Principal): Promise<Response> {
    if (!request.headers.get('accept')?.includes('text/event-stream')) {
      return jsonRpcError(406, -32000, 'Not Acceptable: Client must accept text/event-stream');
    }
    const lastEventId = request.headers.get('last-event-id');
    const position = lastEventId === null ? undefined : parseEventId(lastEventId);
    if (lastEventId !== null && position === undefined) return jsonRpcError(400, -32000, 'Bad Request: malformed Last-Event-ID');
    const session = await loadSession(request, principal);
    if (session instanceof Response) return session;
    if (ctx.draining)
      return jsonRpcError(503, -32000, 'Server is shutting down; retry on another replica', { 'Retry-After': String(Math.ceil(settings.retryMs / 1000)) });
    return openReader(ctx, session, position?.streamId ?? 'get', position?.entryId, principal);
  }

  async function handleDelete(request: Request, principal: Principal): Promise<Response> {
    const session = await loadSession(request, principal);
    if (session instanceof Response) return session;
    await sessions.delete(session.sessionId);
    await publishControl(ctx, session.sessionId, { type: 'deleted' });
    logger.info({ sessionId: session.sessionId }, 'legacy: session deleted');
    return new Response(null, { status: 200 });
  }

  async function drain(): Promise<void> {
    ctx.draining = true;
    for (const s of [...streams]) s.close(settings.retryMs);
  }

  return {
    async handle(request, principal, info, preread) {
      try {
        await ensureStarted();
        switch (request.method.toUpperCase()) {
          case 'POST':
            return await handlePost(ctx, request, principal, loadSession, preread);
          case 'GET':
            return await handleGet(request, principal);
          case 'DELETE':
            return await handleDelete(request, principal);
          default:
            return jsonRpcError(405, -32000, 'Method not allowed.', { Allow: 'GET, POST, DELETE' });
        }
      } catch (err) {
        logger.error({ err, requestId: info.requestId }, 'legacy: request failed');
        return jsonRpcError(500, -32603, 'Internal error');
      }
    },
    async notifyTenant(tenantId, notification) {
      await deps.stateRedis.publish(tenantChannel(ctx, tenantId), JSON.stringify(notification));
    },
    drain,
    async close() {
      await drain();
      await Promise.all([...ctx.exchanges].map((e) => e.abort('replica shutting down')));
      router.close();
      ctx.pool.close();
      await hub.close();
    },
  };
}
