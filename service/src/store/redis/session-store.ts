/**
 * 2025-era MCP session records in the state Redis. A session is created by `initialize` on any replica and
 * read back by every later request on any replica, so everything a fresh server instance needs to behave
 * like the original lives here: who owns it (tenant + subject), the initialize parameters the client sent
 * (protocol version, client info, capabilities), the log level and the resource subscriptions.
 *
 * Keys (all under `<prefix>legacy:`):
 *   s:<sid>          hash  `data` (JSON, immutable after creation), `logLevel`, `lastSeenAt`
 *   s:<sid>:subs     set   subscribed resource URIs
 *   s:<sid>:streams  set   SSE stream ids of the session (event log keys to drop on DELETE)
 *   active           zset  sid -> expiry (ms); ZCARD after trimming = active sessions gauge
 * Every key of a session slides together (`touch`); an idle session simply expires.
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';

/** Parameters of the client's `initialize` request, replayed into every fresh server instance. */
export const InitializeParamsSchema = z
  .object({
    protocolVersion: z.string().min(1).max(64),
    capabilities: z.record(z.string(), z.unknown()),
    clientInfo: z.object({ name: z.string(), version: z.string() }).passthrough(),
  })
  .passthrough();

const SessionDataSchema = z.object({
  tenantId: z.string().min(1),
  subject: z.string().min(1),
  /** The virtual server the session was created at (issue 20); it is usable there only. Absent: the whole tenant. */
  server: z.string().min(1).optional(),
  /** The protocol version the server answered `initialize` with. */
  protocolVersion: z.string().min(1),
  initializeParams: InitializeParamsSchema,
  createdAt: z.number().int(),
});

/** A stored session, as every replica sees it. */
export interface SessionRecord extends z.output<typeof SessionDataSchema> {
  readonly sessionId: string;
  readonly logLevel: string | undefined;
  readonly lastSeenAt: number;
}

/** What `create` needs. */
export type NewSession = Omit<z.input<typeof SessionDataSchema>, 'createdAt'>;

/** Slides every key of a live session in one step (a session expiring meanwhile is not resurrected). */
const TOUCH = `
if redis.call('PEXPIRE', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('PEXPIRE', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[1], 'lastSeenAt', ARGV[2])
redis.call('ZADD', KEYS[4], tonumber(ARGV[2]) + tonumber(ARGV[1]), ARGV[3])
return 1
`;

/**
 * Reads a session and, when it belongs to the given tenant and subject, slides it as TOUCH does: a request's
 * session check and TTL slide in one round trip. A session of another owner is returned untouched (the caller
 * answers 404), so a foreign request never keeps someone else's session alive.
 */
const LOAD = `
local raw = redis.call('HGETALL', KEYS[1])
local data
for i = 1, #raw, 2 do if raw[i] == 'data' then data = raw[i + 1] end end
if not data then return raw end
local ok, rec = pcall(cjson.decode, data)
if not ok or type(rec) ~= 'table' or rec.tenantId ~= ARGV[4] or rec.subject ~= ARGV[5] then return raw end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[1], 'lastSeenAt', ARGV[2])
redis.call('ZADD', KEYS[4], tonumber(ARGV[2]) + tonumber(ARGV[1]), ARGV[3])
return raw
`;

/** Session ids are 256-bit random hex; anything else is unknown without a Redis round trip. */
export const SESSION_ID_PATTERN = /^[0-9a-f]{64}$/;

/** Options of RedisSessionStore. */
export interface RedisSessionStoreOptions {
  /** Every key starts with it. */
  keyPrefix: string;
  /** Sliding idle TTL, in seconds. */
  ttlSeconds: number;
}

/** Redis adapter for 2025-era session records (the connection is the caller's state client). */
export class RedisSessionStore {
  private readonly ttlMs: number;
  private readonly base: string;

  constructor(
    private readonly redis: Redis,
    opts: RedisSessionStoreOptions,
  ) {
    this.ttlMs = opts.ttlSeconds * 1000;
    this.base = `${opts.keyPrefix}legacy:`;
  }

  private key(sid: string, part = ''): string {
    return `${this.base}s:${sid}${part}`;
  }

  /** Stores a new session with the full TTL. */
  async create(sessionId: string, input: NewSession): Promise<SessionRecord> {
    const data = SessionDataSchema.parse({ ...input, createdAt: Date.now() });
    const now = Date.now();
    await this.redis
      .multi()
      .hset(this.key(sessionId), { data: JSON.stringify(data), lastSeenAt: String(now) })
      .pexpire(this.key(sessionId), this.ttlMs)
      .zadd(`${this.base}active`, now + this.ttlMs, sessionId)
      .exec();
    return { ...data, sessionId, logLevel: undefined, lastSeenAt: now };
  }

  /** Reads a session; null when unknown, expired or malformed. */
  async get(sessionId: string): Promise<SessionRecord | null> {
    if (!SESSION_ID_PATTERN.test(sessionId)) return null;
    return this.parse(sessionId, await this.redis.hgetall(this.key(sessionId)));
  }

  /**
   * Reads a session and slides its TTL (as `touch`) when `owner` owns it, in one round trip; null when unknown,
   * expired or malformed. A session of another owner is returned, not slid: the caller refuses the request.
   */
  async load(sessionId: string, owner: { tenantId: string; subject: string }): Promise<SessionRecord | null> {
    if (!SESSION_ID_PATTERN.test(sessionId)) return null;
    const flat = (await this.redis.eval(
      LOAD,
      4,
      this.key(sessionId),
      this.key(sessionId, ':subs'),
      this.key(sessionId, ':streams'),
      `${this.base}active`,
      String(this.ttlMs),
      String(Date.now()),
      sessionId,
      owner.tenantId,
      owner.subject,
    )) as string[];
    const raw: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) raw[flat[i]!] = flat[i + 1]!;
    return this.parse(sessionId, raw);
  }

  private parse(sessionId: string, raw: Record<string, string>): SessionRecord | null {
    if (raw.data === undefined) return null;
    const parsed = SessionDataSchema.safeParse(JSON.parse(raw.data));
    if (!parsed.success) return null;
    return {
      ...parsed.data,
      sessionId,
      logLevel: raw.logLevel || undefined,
      lastSeenAt: Number(raw.lastSeenAt ?? parsed.data.createdAt),
    };
  }

  /** Slides the TTL of every key of the session; false when the session is gone. */
  async touch(sessionId: string): Promise<boolean> {
    const now = Date.now();
    const res = await this.redis.eval(
      TOUCH,
      4,
      this.key(sessionId),
      this.key(sessionId, ':subs'),
      this.key(sessionId, ':streams'),
      `${this.base}active`,
      String(this.ttlMs),
      String(now),
      sessionId,
    );
    return res === 1;
  }

  /** Number of subscribed URIs. */
  async subscriptionCount(sessionId: string): Promise<number> {
    return this.redis.scard(this.key(sessionId, ':subs'));
  }

  /** Persists the level set with `logging/setLevel`. */
  async setLogLevel(sessionId: string, level: string): Promise<void> {
    await this.redis.hset(this.key(sessionId), 'logLevel', level);
  }

  /** Adds (`resources/subscribe`) or removes (`resources/unsubscribe`) a subscribed URI. */
  async setSubscribed(sessionId: string, uri: string, subscribed: boolean): Promise<void> {
    const key = this.key(sessionId, ':subs');
    if (subscribed) await this.redis.multi().sadd(key, uri).pexpire(key, this.ttlMs).exec();
    else await this.redis.srem(key, uri);
  }

  /** Whether the session subscribed to `uri`. */
  async isSubscribed(sessionId: string, uri: string): Promise<boolean> {
    return (await this.redis.sismember(this.key(sessionId, ':subs'), uri)) === 1;
  }

  /** The subscribed URIs. */
  async subscriptions(sessionId: string): Promise<string[]> {
    return this.redis.smembers(this.key(sessionId, ':subs'));
  }

  /** Records an SSE stream (event log) of the session so DELETE can drop it. */
  async addStream(sessionId: string, streamKeys: readonly string[]): Promise<void> {
    const key = this.key(sessionId, ':streams');
    await this.redis
      .multi()
      .sadd(key, ...streamKeys)
      .pexpire(key, this.ttlMs)
      .exec();
  }

  /** Deletes the session and every event log it recorded; false when it did not exist. */
  async delete(sessionId: string): Promise<boolean> {
    const streams = await this.redis.smembers(this.key(sessionId, ':streams'));
    const res = await this.redis
      .multi()
      .del(this.key(sessionId), this.key(sessionId, ':subs'), this.key(sessionId, ':streams'), ...streams)
      .zrem(`${this.base}active`, sessionId)
      .exec();
    return Number(res?.[0]?.[1] ?? 0) > 0;
  }

  /** Sessions not yet expired (trims the index of expired ones first). */
  async countActive(): Promise<number> {
    const res = await this.redis.multi().zremrangebyscore(`${this.base}active`, '-inf', Date.now()).zcard(`${this.base}active`).exec();
    return Number(res?.[1]?.[1] ?? 0);
  }
}
