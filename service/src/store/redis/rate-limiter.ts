/**
 * Request and call limits kept in the state Redis, so every replica shares them.
 *
 * RedisRateLimiter: the per-tenant request limit (RATE_LIMIT_PER_MINUTE). Fixed window
 * that starts at a key's first request: one Lua script increments the counter and sets its expiry
 * atomically, so there is no race between replicas and no reliance on their clocks. A burst of up to
 * twice the limit is possible across a window boundary; that is the accepted trade for one round trip.
 */
import type { Redis } from 'ioredis';
import type { RateLimiter } from '../ports.js';
import { redisKey } from './connection.js';

const SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
`;

/** Options for RedisRateLimiter. */
export interface RedisRateLimiterOptions {
  /** Units allowed per window. */
  limit: number;
  /** Window length, ms. @defaultValue 60000 */
  windowMs?: number;
  /** Key prefix (the process-wide REDIS_KEY_PREFIX). */
  keyPrefix: string;
}

type RedisWithLimiter = Redis & {
  umcpRateLimit(key: string, windowMs: number): Promise<[number, number]>;
  umcpConsumeLimits(...args: (string | number)[]): Promise<[number, number[], number[]]>;
};

/** RateLimiter on the state Redis. */
export class RedisRateLimiter implements RateLimiter {
  private readonly windowMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly opts: RedisRateLimiterOptions,
  ) {
    if (!Number.isInteger(opts.limit) || opts.limit < 1) throw new Error(`RedisRateLimiter: limit must be a positive integer (got ${opts.limit})`);
    this.windowMs = opts.windowMs ?? 60_000;
    // defineCommand uses EVALSHA with an automatic EVAL fallback after a SCRIPT FLUSH or failover.
    if (!('umcpRateLimit' in redis)) redis.defineCommand('umcpRateLimit', { numberOfKeys: 1, lua: SCRIPT });
  }

  async consume(key: string): Promise<{ allowed: boolean; remaining: number; retryAfterMs: number }> {
    const [count, ttl] = await (this.redis as RedisWithLimiter).umcpRateLimit(redisKey(this.opts.keyPrefix, 'rl', key), this.windowMs);
    const allowed = count <= this.opts.limit;
    return { allowed, remaining: Math.max(0, this.opts.limit - count), retryAfterMs: allowed ? 0 : Math.max(1, ttl) };
  }
}

/*
 * RedisLimitCounters: every counter a call is subject to (per-tool, per-key, per-user, quotas...) in ONE
 * script: check all, then consume all only if none refuses, so a refused call consumes nothing. Same
 * fixed-window scheme as above (a window starts at its counter's first unit; a quota's counter is named by
 * its UTC day and expires after it). KEYS: the counters. ARGV: per key, (max, expiry ms, enforce 1|0).
 * Returns {allowed 1|0, counts, refused} where counts are the values after the call (before it when
 * refused) and refused lists (index, ms to the window's end) of each enforced counter that is full.
 */
const CONSUME_ALL = `
local counts = {}
local refused = {}
for i = 1, #KEYS do
  local max = tonumber(ARGV[i * 3 - 2])
  local c = tonumber(redis.call('GET', KEYS[i]) or '0')
  counts[i] = c
  if ARGV[i * 3] == '1' and c + 1 > max then
    local ttl = redis.call('PTTL', KEYS[i])
    if ttl < 0 then ttl = tonumber(ARGV[i * 3 - 1]) end
    refused[#refused + 1] = i - 1
    refused[#refused + 1] = ttl
  end
end
if #refused > 0 then return {0, counts, refused} end
for i = 1, #KEYS do
  local c = redis.call('INCR', KEYS[i])
  counts[i] = c
  if c == 1 or redis.call('PTTL', KEYS[i]) < 0 then redis.call('PEXPIRE', KEYS[i], ARGV[i * 3 - 1]) end
end
return {1, counts, refused}
`;

/** One counter a call is subject to. */
export interface LimitCheck {
  /** Counter name under the key prefix (the caller builds it; the window or day is part of it). */
  readonly counter: string;
  /** Units allowed in the counter's window. */
  readonly max: number;
  /** Lifetime of a new counter, ms (the window, or until after the quota's day). */
  readonly expiryMs: number;
  /** False: counted, never refused (a `log` limit). */
  readonly enforce: boolean;
}

/** What one consume of several counters answered. */
export interface LimitConsumeResult {
  readonly allowed: boolean;
  /** Per check, in order: the count after this call (when refused: the count, unchanged). */
  readonly counts: readonly number[];
  /** The full enforced counters (index into the checks, ms until their window ends). */
  readonly refused: readonly { readonly index: number; readonly retryAfterMs: number }[];
}

/** A counter read back for reporting (`limits usage`). */
export interface LimitCounterValue {
  /** Counter name under the key prefix. */
  readonly counter: string;
  readonly count: number;
  /** ms until it expires (-1: no expiry). */
  readonly ttlMs: number;
}

/** Check-then-consume of many counters in one round trip, on the state Redis. */
export class RedisLimitCounters {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {
    if (!('umcpConsumeLimits' in redis)) redis.defineCommand('umcpConsumeLimits', { lua: CONSUME_ALL });
  }

  /** Consumes one unit of every check, or none when an enforced one is full. One script, one round trip. */
  async consume(checks: readonly LimitCheck[]): Promise<LimitConsumeResult> {
    if (checks.length === 0) return { allowed: true, counts: [], refused: [] };
    const keys = checks.map((c) => redisKey(this.keyPrefix, 'lim', c.counter));
    const argv = checks.flatMap((c) => [c.max, Math.max(1, Math.ceil(c.expiryMs)), c.enforce ? 1 : 0]);
    // A script defined without numberOfKeys takes the key count as its first argument.
    const [allowed, counts, refused] = await (this.redis as RedisWithLimiter).umcpConsumeLimits(keys.length, ...keys, ...argv);
    const pairs: { index: number; retryAfterMs: number }[] = [];
    for (let i = 0; i + 1 < refused.length; i += 2) pairs.push({ index: refused[i]!, retryAfterMs: Math.max(1, refused[i + 1]!) });
    return { allowed: allowed === 1, counts, refused: pairs };
  }

  /** Every live counter whose name starts with `counterPrefix` (SCAN: for admin reports, not the request path). */
  async read(counterPrefix: string, limit = 1000): Promise<LimitCounterValue[]> {
    const base = redisKey(this.keyPrefix, 'lim', '');
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${base}${counterPrefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 500);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0' && found.length < limit);
    const keys = found.slice(0, limit);
    if (keys.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const k of keys) pipeline.get(k).pttl(k);
    const res = (await pipeline.exec()) ?? [];
    const values: LimitCounterValue[] = [];
    keys.forEach((k, i) => {
      const count = Number(res[i * 2]?.[1] ?? NaN);
      if (Number.isFinite(count)) values.push({ counter: k.slice(base.length), count, ttlMs: Number(res[i * 2 + 1]?.[1] ?? -1) });
    });
    return values.sort((a, b) => (a.counter < b.counter ? -1 : a.counter > b.counter ? 1 : 0));
  }
}
