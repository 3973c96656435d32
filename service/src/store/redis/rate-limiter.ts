/**
 * Per-key (per-tenant) request limit kept in the state Redis, so every replica shares it. Fixed window
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

type RedisWithLimiter = Redis & { umcpRateLimit(key: string, windowMs: number): Promise<[number, number]> };

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
