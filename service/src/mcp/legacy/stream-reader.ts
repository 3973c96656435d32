/**
 * GET on a session: the standalone notification stream, or (with Last-Event-ID) the resumption of any SSE
 * stream of the session on whichever replica the client reached. A reader subscribes to the stream's
 * channel, then reads the log after its position with XRANGE whenever the channel signals an append (and
 * on a timer): every later event exactly once, in order, including events the replica running the call is
 * still producing (live tail). While a call stream is unfinished, the reader
 * watches the producer's lease; when it lapses, the pending requests are failed in the log (once, whichever
 * reader gets there first) and the reader delivers that error and ends.
 */
import { randomBytes } from 'node:crypto';
import { compareEntryIds, type LoggedEvent } from '../../store/redis/event-store.js';
import type { SessionRecord } from '../../store/redis/session-store.js';
import { appendStandalone, publishControl, tenantChannel, watchSession, type LegacyContext } from './context.js';
import { jsonRpcError } from './responses.js';
import { SseStream } from './sse.js';
import type { Principal } from '../../domain/principal.js';
import { familyOf, unmark, type NotificationGate } from '../view/list-change-gate.js';

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
  streamId: string,
  afterEntryId: string | undefined,
  principal?: Principal,
): Promise<Response> {
  const sid = session.sessionId;
  const standalone = streamId === 'get';
  // The channel subscription (subscriber connection) and the log checks (state connection) go out together;
  // the log is read only once the subscription is confirmed, so no append between the two is missed.
  let wake = () => {};
  const subscribed = ctx.hub.subscribe(ctx.log.channel(sid, streamId), () => wake());
  subscribed.catch(() => {});
  const [exists, trimmed] = afterEntryId === undefined ? [true, false] : await ctx.log.resumeCheck(sid, streamId, afterEntryId, { mustExist: !standalone });
  if (!exists) {
    void subscribed.then(
      (unsubscribe) => unsubscribe(),
      () => {},
    );
    return jsonRpcError(400, -32000, 'Bad Request: Last-Event-ID names no stream of this session');
  }
  const sse = new SseStream(ctx.sse, { headers: { 'mcp-session-id': sid }, keepAliveMs: ctx.settings.keepAliveMs });
  const cleanups: (() => void)[] = [];
  sse.onClose(() => cleanups.splice(0).forEach((fn) => fn()));
  // Registered before the first await that may fail, so a closed stream always releases the channel.
  cleanups.push(
    () =>
      void subscribed.then(
        (unsubscribe) => unsubscribe(),
        () => {},
      ),
  );

  if (trimmed) {
    ctx.logger.warn({ sessionId: sid, streamId }, 'legacy: resume from an event the log no longer keeps (EVENT_LOG_MAX_EVENTS); events may be lost');
  }
  // A fresh standalone stream starts after the newest logged event; a resume after the client's id.
  let last = afterEntryId ?? (await ctx.log.lastEntryId(sid, streamId)) ?? '0-0';
  let done = false;
  const emit = (e: LoggedEvent) => {
    if (done || compareEntryIds(e.entryId, last) <= 0) return;
    last = e.entryId;
    if (e.message !== undefined) sse.event(e.eventId, e.message);
    if (e.final) {
      done = true;
      sse.close();
    }
  };
  // Reads always go through the log from `last` (the channel only wakes the reader), so a lost or
  // reordered pub/sub message can delay an event but never skip or repeat one.
  let pumping: Promise<void> | undefined;
  let again = false;
  const pump = (): Promise<void> => {
    if (pumping) {
      again = true;
      return pumping;
    }
    pumping = (async () => {
      do {
        again = false;
        if (done || !sse.open) return;
        await ctx.log.readAfter(sid, streamId, last, (e) => (emit(e), !done));
      } while (again);
    })()
      .catch((err: Error) => ctx.logger.warn({ err, sessionId: sid }, 'legacy: reading the event log failed'))
      .finally(() => (pumping = undefined));
    return pumping;
  };

  const token = randomBytes(12).toString('base64url');
  cleanups.push(
    watchSession(ctx, sid, (c) => {
      if (c.type === 'deleted') sse.close();
      else if (c.type === 'get-open' && standalone && c.token !== token) sse.close();
    }),
  );
  wake = () => void pump();
  try {
    await subscribed;
  } catch (err) {
    sse.close();
    throw err;
  }

  let forwarding: Promise<void> = Promise.resolve();
  if (standalone) {
    // What the caller sees now, before the first notification can arrive (its gate compares against it).
    const gate = principal && ctx.notificationGate?.(principal);
    if (gate) forwarding = gate.prime().catch(() => undefined);
    await publishControl(ctx, sid, { type: 'get-open', token });
    cleanups.push(
      await ctx.hub.subscribe(tenantChannel(ctx, session.tenantId), (payload) => {
        // One at a time, so notifications reach the log in the order they were published.
        forwarding = forwarding
          .then(() => forwardTenantNotification(ctx, sid, JSON.parse(payload) as TenantNotification, gate))
          .catch((err: Error) => ctx.logger.warn({ err, sessionId: sid }, 'legacy: tenant notification not delivered'));
      }),
    );
  }
  await pump();

  const check = async () => {
    await pump();
    if (standalone || done || !sse.open) return;
    if (await ctx.log.leaseHeld(sid, streamId)) return;
    const failed = await ctx.log.failPending(sid, streamId, LOST_CALL_ERROR.code, LOST_CALL_ERROR.message);
    if (failed > 0) ctx.logger.warn({ sessionId: sid, failed }, 'legacy: call lost with its replica; failed its pending requests');
    await pump();
    // Done without a final event we could read (the log expired or was trimmed): nothing more will come.
    if (!done && (await ctx.log.isDone(sid, streamId))) sse.close();
  };
  const every = standalone ? 5000 : Math.max(100, Math.min(1000, Math.floor(ctx.settings.leaseMs / 2)));
  const timer = setInterval(() => void check().catch(() => {}), every);
  cleanups.push(() => clearInterval(timer));
  if (!standalone) void check().catch(() => {});
  return sse.response;
}

/** Appends a tenant-wide notification to the session's standalone stream when the session wants it. */
async function forwardTenantNotification(ctx: LegacyContext, sid: string, n: TenantNotification, gate?: NotificationGate): Promise<void> {
  const updated = n.method === 'notifications/resources/updated';
  if (updated) {
    const uri = n.params?.uri;
    if (typeof uri !== 'string' || !(await ctx.sessions.isSubscribed(sid, uri))) return;
  }
  const { marked, params } = unmark(n.params);
  if (gate) {
    const family = updated ? undefined : familyOf(n.method);
    const uri = updated ? (n.params?.uri as string) : undefined;
    if (!(await gate.admit({ marked, ...(family && { family }), ...(uri !== undefined && { uri }) }))) return;
  } else if (marked) return;
  await appendStandalone(ctx, sid, { jsonrpc: '2.0', method: n.method, ...(params ? { params } : {}) });
}
