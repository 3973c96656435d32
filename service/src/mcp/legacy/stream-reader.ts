/**
 * GET on a session: the standalone notification stream, or (with Last-Event-ID) the resumption of any SSE
 * stream of the session on whichever replica the client reached. A reader subscribes to the stream's
 * channel first, then replays the log after the given position, then drains what the channel delivered
 * meanwhile, skipping ids it already sent: every later event exactly once, in order, including events the
 * replica running the call is still producing (live tail). While a call stream is unfinished, the reader
 * watches the producer's lease; when it lapses, the pending requests are failed in the log (once, whichever
 * reader gets there first) and the reader delivers that error and ends.
 */
import { randomBytes } from 'node:crypto';
import type { Principal } from '../../domain/principal.js';
import { compareEntryIds, parsePublished, type LoggedEvent } from '../../store/redis/event-store.js';
import type { SessionRecord } from '../../store/redis/session-store.js';
import { appendStandalone, tenantChannel, watchSession, type LegacyContext } from './context.js';
import { SseStream } from './sse.js';

/** Code and message of the error a request gets when the replica running it died. */
export const LOST_CALL_ERROR = {
  code: -32603,
  message: 'Request lost: the server replica running it stopped before answering (lease expired); retry the request',
} as const;

/** Tenant-wide notification published by `notifyTenant`. */
interface TenantNotification {
  method: string;
  params?: Record<string, unknown>;
}

/**
 * Serves a GET: `streamId` + `afterEntryId` when resuming (Last-Event-ID), neither for a fresh standalone
 * stream. The standalone stream (`get`) is held by one connection per session: opening one tells any other
 * (on any replica) to close.
 */
export async function openReader(
  ctx: LegacyContext,
  session: SessionRecord,
  _principal: Principal,
  streamId: string,
  afterEntryId: string | undefined,
): Promise<Response> {
  const sid = session.sessionId;
  const standalone = streamId === 'get';
  const sse = new SseStream(ctx.sse, { headers: { 'mcp-session-id': sid }, keepAliveMs: ctx.settings.keepAliveMs });
  const cleanups: (() => void)[] = [];
  sse.onClose(() => cleanups.splice(0).forEach((fn) => fn()));

  let last = afterEntryId ?? '0-0';
  let replaying = true;
  let done = false;
  const queued: LoggedEvent[] = [];
  const emit = (e: LoggedEvent) => {
    if (done || compareEntryIds(e.entryId, last) <= 0) return;
    last = e.entryId;
    if (e.message !== undefined) sse.event(e.eventId, e.message);
    if (e.final) {
      done = true;
      sse.close();
    }
  };

  const token = randomBytes(12).toString('base64url');
  cleanups.push(
    await watchSession(ctx, sid, (c) => {
      if (c.type === 'deleted') sse.close();
      else if (c.type === 'get-open' && standalone && c.token !== token) sse.close();
    }),
  );
  cleanups.push(
    await ctx.hub.subscribe(ctx.log.channel(sid, streamId), (payload) => {
      const e = parsePublished(streamId, payload);
      if (!e) return;
      if (replaying) queued.push(e);
      else emit(e);
    }),
  );

  let forwarding: Promise<void> = Promise.resolve();
  if (standalone) {
    await ctx.redis.publish(`${ctx.keyPrefix}legacy:ctl:${sid}`, JSON.stringify({ type: 'get-open', token }));
    cleanups.push(
      await ctx.hub.subscribe(tenantChannel(ctx, session.tenantId), (payload) => {
        // One at a time, so notifications reach the log in the order they were published.
        forwarding = forwarding
          .then(() => forwardTenantNotification(ctx, sid, JSON.parse(payload) as TenantNotification))
          .catch((err: Error) => ctx.logger.warn({ err, sessionId: sid }, 'legacy: tenant notification not delivered'));
      }),
    );
  }

  if (afterEntryId !== undefined) {
    await ctx.log.readAfter(sid, streamId, afterEntryId, (e) => {
      emit(e);
      return !done;
    });
  }
  replaying = false;
  for (const e of queued.splice(0)) emit(e);

  if (!standalone && !done && sse.open) {
    const check = async () => {
      if (done || !sse.open) return;
      if (await ctx.log.leaseHeld(sid, streamId)) return;
      const failed = await ctx.log.failPending(sid, streamId, LOST_CALL_ERROR.code, LOST_CALL_ERROR.message);
      if (failed > 0) ctx.logger.warn({ sessionId: sid, failed }, 'legacy: call lost with its replica; failed its pending requests');
      // Done without a final event we could see (already failed, or the log expired): nothing more will come.
      else if (await ctx.log.isDone(sid, streamId)) {
        await ctx.log.readAfter(sid, streamId, last, (e) => (emit(e), !done));
        if (!done) sse.close();
      }
    };
    const timer = setInterval(() => void check().catch(() => {}), Math.max(100, Math.min(1000, Math.floor(ctx.settings.leaseMs / 2))));
    cleanups.push(() => clearInterval(timer));
    void check().catch(() => {});
  }
  return sse.response;
}

/** Appends a tenant-wide notification to the session's standalone stream when the session wants it. */
async function forwardTenantNotification(ctx: LegacyContext, sid: string, n: TenantNotification): Promise<void> {
  if (n.method === 'notifications/resources/updated') {
    const uri = n.params?.uri;
    if (typeof uri !== 'string' || !(await ctx.sessions.isSubscribed(sid, uri))) return;
  }
  await appendStandalone(ctx, sid, { jsonrpc: '2.0', method: n.method, ...(n.params ? { params: n.params } : {}) });
}
