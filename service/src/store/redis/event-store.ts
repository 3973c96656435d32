/**
 * The SSE event log of 2025-era sessions in Redis Streams, behind the SDK's `EventStore` interface plus the
 * few verbs a multi-replica deployment needs on top (live tail, producer lease, completion).
 *
 * One Redis stream per SSE stream: `<prefix>legacy:ev:<sid>:<streamId>` (XADD MAXLEN ~ N, PEXPIRE on every
 * append). `streamId` is random per POST, `get` for the session's standalone GET stream. Event ids sent to
 * clients are `<streamId>.<redis entry id>`, so a `Last-Event-ID` names its stream and position and any
 * replica can resume it; the session comes from the Mcp-Session-Id header, so one session can never read
 * another's log. Each append is one Lua script that XADDs and PUBLISHes `<entryId> <final>` on
 * `<prefix>legacy:ch:<sid>:<streamId>`: a signal that wakes readers on any replica, which then read the log
 * with XRANGE from their own cursor, so they see every event exactly once, in order.
 *
 * A POST stream also has `…:meta` (hash: `requests` JSON array of its request ids, `r:<id>` per answered
 * request, `done`) and `…:lease` (the producing replica's id, PX lease, renewed while the call runs). When
 * the lease lapses before `done`, `failPending` appends one JSON-RPC error per unanswered request, once.
 */
import type { EventStore, JSONRPCMessage } from '@modelcontextprotocol/server';
import type { Redis } from 'ioredis';

/** One event read back from the log. */
export interface LoggedEvent {
  /** Client-facing event id `<streamId>.<entryId>`. */
  readonly eventId: string;
  readonly entryId: string;
  /** Undefined for a priming event (an id anchor with empty data) or an end marker (a cancelled last request). */
  readonly message: JSONRPCMessage | undefined;
  /** True on the event that completed the stream (its last response). */
  readonly final: boolean;
}

/** Options of RedisEventLog. */
export interface RedisEventLogOptions {
  keyPrefix: string;
  /** Approximate cap of events per stream (XADD MAXLEN ~). */
  maxEvents: number;
  /** TTL of a stream after its last append, in seconds. */
  ttlSeconds: number;
}

const STREAM_ID = /^(?:get|[A-Za-z0-9_-]{16,43})$/;
const EVENT_ID = /^([A-Za-z0-9_-]{3,43})\.(\d{1,20}-\d{1,20})$/;
/** Longest Last-Event-ID accepted (longer ones are refused with 400 before any lookup). */
export const MAX_EVENT_ID_LENGTH = 100;

const APPEND = `
if ARGV[7] == '1' and redis.call('HGET', KEYS[2], 'done') == '1' then return false end
local id
if ARGV[1] == '' and ARGV[5] == '1' then id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'p', '1', 'f', '1')
elseif ARGV[1] == '' then id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'p', '1')
elseif ARGV[5] == '1' then id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'm', ARGV[1], 'f', '1')
else id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'm', ARGV[1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if ARGV[6] ~= '' then redis.call('HSET', KEYS[2], ARGV[6], '1') end
if ARGV[5] == '1' then redis.call('HSET', KEYS[2], 'done', '1') end
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
redis.call('PUBLISH', ARGV[4], id .. ' ' .. ARGV[5])
return id
`;

const FAIL_PENDING = `
if redis.call('HGET', KEYS[2], 'done') == '1' then return 0 end
local pending = {}
for i = 4, #ARGV, 2 do
  if redis.call('HEXISTS', KEYS[2], ARGV[i]) == 0 then table.insert(pending, ARGV[i + 1]) end
end
for j, msg in ipairs(pending) do
  local id
  if j == #pending then id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'm', msg, 'f', '1')
  else id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'm', msg) end
  redis.call('PUBLISH', ARGV[3], id .. ' ' .. (j == #pending and '1' or '0'))
end
redis.call('HSET', KEYS[2], 'done', '1')
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return #pending
`;

/** Compares two Redis stream entry ids (`ms-seq`). */
export function compareEntryIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const d = BigInt(am) - BigInt(bm);
  if (d !== 0n) return d < 0n ? -1 : 1;
  const s = BigInt(as) - BigInt(bs);
  return s === 0n ? 0 : s < 0n ? -1 : 1;
}

/** Splits a client-facing event id; undefined when malformed or oversized. */
export function parseEventId(eventId: string): { streamId: string; entryId: string } | undefined {
  if (eventId.length > MAX_EVENT_ID_LENGTH) return undefined;
  const m = EVENT_ID.exec(eventId);
  if (!m || !STREAM_ID.test(m[1]!)) return undefined;
  return { streamId: m[1]!, entryId: m[2]! };
}

/** Redis Streams adapter of the session event log (the connection is the caller's state client). */
export class RedisEventLog {
  private readonly base: string;
  private readonly ttlMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly opts: RedisEventLogOptions,
  ) {
    this.base = `${opts.keyPrefix}legacy:`;
    this.ttlMs = opts.ttlSeconds * 1000;
  }

  /** Key of a stream's log (its meta and lease keys append `:meta` / `:lease`). */
  streamKey(sid: string, streamId: string): string {
    return `${this.base}ev:${sid}:${streamId}`;
  }

  /** Pub/sub channel carrying a stream's appends. */
  channel(sid: string, streamId: string): string {
    return `${this.base}ch:${sid}:${streamId}`;
  }

  /** Every key a stream uses (for cleanup). */
  keysOf(sid: string, streamId: string): string[] {
    const k = this.streamKey(sid, streamId);
    return [k, `${k}:meta`, `${k}:lease`];
  }

  /** Opens a POST stream: records its request ids and takes the producer lease for `replicaId`. */
  async openCallStream(sid: string, streamId: string, requestIds: readonly unknown[], replicaId: string, leaseMs: number): Promise<void> {
    const k = this.streamKey(sid, streamId);
    await this.redis
      .multi()
      .hset(`${k}:meta`, { requests: JSON.stringify(requestIds), done: '0' })
      .pexpire(`${k}:meta`, this.ttlMs)
      .set(`${k}:lease`, replicaId, 'PX', leaseMs)
      .exec();
  }

  /** Renews the producer lease; false when it was lost (expired or taken over). */
  async renewLease(sid: string, streamId: string, replicaId: string, leaseMs: number): Promise<boolean> {
    const k = `${this.streamKey(sid, streamId)}:lease`;
    const res = await this.redis.set(k, replicaId, 'PX', leaseMs, 'XX', 'GET');
    return res === replicaId;
  }

  /** Ends the producer lease (after the stream completed). */
  async releaseLease(sid: string, streamId: string): Promise<void> {
    await this.redis.del(`${this.streamKey(sid, streamId)}:lease`);
  }

  /** Whether a producer still holds the stream's lease. */
  async leaseHeld(sid: string, streamId: string): Promise<boolean> {
    return (await this.redis.exists(`${this.streamKey(sid, streamId)}:lease`)) === 1;
  }

  /** Whether the stream completed (every request answered, or failed). Missing meta counts as done. */
  async isDone(sid: string, streamId: string): Promise<boolean> {
    const done = await this.redis.hget(`${this.streamKey(sid, streamId)}:meta`, 'done');
    return done !== '0';
  }

  /**
   * Appends one event (a priming event when `message` is undefined; an end marker when it is undefined and
   * `final`, used when the last request was cancelled and so gets no response) and publishes it. On a call stream
   * (`answers` given, or `callStream`), nothing is appended once the stream is done; returns the event id
   * or undefined when refused.
   */
  async append(
    sid: string,
    streamId: string,
    message: JSONRPCMessage | undefined,
    opts: { final?: boolean; answers?: unknown; callStream?: boolean } = {},
  ): Promise<string | undefined> {
    const k = this.streamKey(sid, streamId);
    const id = (await this.redis.eval(
      APPEND,
      2,
      k,
      `${k}:meta`,
      message === undefined ? '' : JSON.stringify(message),
      String(this.opts.maxEvents),
      String(this.ttlMs),
      this.channel(sid, streamId),
      opts.final ? '1' : '0',
      opts.answers === undefined ? '' : `r:${JSON.stringify(opts.answers)}`,
      opts.callStream || opts.answers !== undefined ? '1' : '0',
    )) as string | null;
    return id === null ? undefined : `${streamId}.${id}`;
  }

  /**
   * Completes a call stream whose producer is gone: one JSON-RPC error per unanswered request, appended and
   * published once (a concurrent or repeated call appends nothing). Returns how many errors were appended.
   */
  async failPending(sid: string, streamId: string, code: number, message: string): Promise<number> {
    const k = this.streamKey(sid, streamId);
    const raw = await this.redis.hget(`${k}:meta`, 'requests');
    if (raw === null) return 0;
    const ids = JSON.parse(raw) as unknown[];
    const args: string[] = [];
    for (const id of ids) args.push(`r:${JSON.stringify(id)}`, JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } }));
    const n = await this.redis.eval(FAIL_PENDING, 2, k, `${k}:meta`, String(this.opts.maxEvents), String(this.ttlMs), this.channel(sid, streamId), ...args);
    return Number(n);
  }

  /** Whether the stream's log exists (not expired, not deleted). */
  async exists(sid: string, streamId: string): Promise<boolean> {
    return (await this.redis.exists(this.streamKey(sid, streamId))) === 1;
  }

  /** Reads the events after `afterEntryId` in order, in pages; stops early when `onEvent` returns false. */
  async readAfter(sid: string, streamId: string, afterEntryId: string, onEvent: (e: LoggedEvent) => Promise<boolean> | boolean): Promise<string> {
    let cursor = afterEntryId;
    for (;;) {
      const page = await this.redis.xrange(this.streamKey(sid, streamId), `(${cursor}`, '+', 'COUNT', 256);
      for (const [entryId, fields] of page) {
        cursor = entryId;
        const f: Record<string, string> = {};
        for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
        const event: LoggedEvent = {
          eventId: `${streamId}.${entryId}`,
          entryId,
          final: f.f === '1',
          message: f.m === undefined ? undefined : (JSON.parse(f.m) as JSONRPCMessage),
        };
        if ((await onEvent(event)) === false) return cursor;
      }
      if (page.length < 256) return cursor;
    }
  }

  /**
   * Whether a resume from `entryId` may have a gap: that event itself was already trimmed by the length
   * bound (MAXLEN trims from the head, so anything between it and the oldest retained event is gone too).
   */
  async trimmedAfter(sid: string, streamId: string, entryId: string): Promise<boolean> {
    const [oldest] = await this.redis.xrange(this.streamKey(sid, streamId), '-', '+', 'COUNT', 1);
    return oldest !== undefined && compareEntryIds(oldest[0], entryId) > 0;
  }

  /**
   * The checks before resuming a stream after `entryId`, in one round trip: whether its log exists (skipped,
   * reported true, unless `mustExist`) and whether the resume may have a gap (`trimmedAfter`).
   */
  async resumeCheck(sid: string, streamId: string, entryId: string, opts: { mustExist: boolean }): Promise<[exists: boolean, trimmed: boolean]> {
    const key = this.streamKey(sid, streamId);
    const [exists, oldest] = await Promise.all([opts.mustExist ? this.redis.exists(key) : 1, this.redis.xrange(key, '-', '+', 'COUNT', 1)]);
    return [exists === 1, oldest[0] !== undefined && compareEntryIds(oldest[0][0], entryId) > 0];
  }

  /** Entry id of the newest event of a stream, or undefined when the log is empty or gone. */
  async lastEntryId(sid: string, streamId: string): Promise<string | undefined> {
    const [newest] = await this.redis.xrevrange(this.streamKey(sid, streamId), '+', '-', 'COUNT', 1);
    return newest?.[0];
  }

  /** Number of entries in a stream's log. */
  async length(sid: string, streamId: string): Promise<number> {
    return this.redis.xlen(this.streamKey(sid, streamId));
  }

  /** The SDK's `EventStore` view of one session's log (plain appends, replay without live tail). */
  forSession(sid: string): EventStore {
    return {
      storeEvent: async (streamId, message) => {
        const id = await this.append(sid, streamId, message);
        if (id === undefined) throw new Error(`event log stream ${streamId} is closed`);
        return id;
      },
      getStreamIdForEventId: async (eventId) => parseEventId(eventId)?.streamId,
      replayEventsAfter: async (lastEventId, { send }) => {
        const parsed = parseEventId(lastEventId);
        if (!parsed) throw new Error('Invalid event ID format');
        await this.readAfter(sid, parsed.streamId, parsed.entryId, async (e) => {
          if (e.message !== undefined) await send(e.eventId, e.message);
          return true;
        });
        return parsed.streamId;
      },
    };
  }
}
