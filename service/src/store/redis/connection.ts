/**
 * Redis connections for the two roles (ARCHITECTURE.md): **state** (sessions, event log, pub/sub, rate
 * limits, queue; `noeviction`) and **cache** (LRU, may be a read replica). Clients connect lazily, retry
 * with capped backoff forever (a Redis restart must not kill the process) but fail single commands after a
 * few retries so a request never hangs on a dead Redis.
 *
 * Key prefixes are explicit, not ioredis `keyPrefix`: pub/sub channels and Lua scripts would not get the
 * option's prefix consistently, so every component builds its keys with `redisKey(prefix, ...)`.
 */
import { Redis, type RedisOptions } from 'ioredis';

/** Options for createRedisClient. */
export interface RedisClientOptions {
  url: string;
  /** Shown in CLIENT LIST. */
  connectionName: string;
  /** Per-command retries while disconnected before the command fails. @defaultValue 2 */
  maxRetriesPerRequest?: number;
  /** Receives connection errors (otherwise ioredis would print them unhandled). */
  onError?: (err: Error) => void;
}

/** Builds one lazily connecting ioredis client. */
export function createRedisClient(opts: RedisClientOptions): Redis {
  const options: RedisOptions = {
    lazyConnect: true,
    connectionName: opts.connectionName,
    maxRetriesPerRequest: opts.maxRetriesPerRequest ?? 2,
    connectTimeout: 5_000,
    // 50 ms, 100 ms, ... capped at 2 s: quick recovery after a failover, no hot loop while Redis is down.
    retryStrategy: (times) => Math.min(times * 50, 2_000),
    enableAutoPipelining: false,
  };
  const client = new Redis(opts.url, options);
  client.on('error', (err: Error) => opts.onError?.(err));
  return client;
}

/** The two Redis roles of one process. */
export interface RedisClients {
  /** State role: owned here, shared by the MCP layer and the rate limiter. */
  readonly state: Redis;
  /** Cache role (the same server as state unless REDIS_CACHE_URL is set; always its own connection). */
  readonly cache: Redis;
  /** Every key written by this process starts with it. */
  readonly keyPrefix: string;
  /** Connects both (idempotent) and fails if either cannot be reached. */
  connect(): Promise<void>;
  /** Readiness probe: PING on both roles. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** Options for createRedisClients. */
export interface RedisClientsOptions {
  stateUrl: string;
  /** @defaultValue stateUrl */
  cacheUrl?: string;
  keyPrefix: string;
  /** Prefix of the connection names. @defaultValue 'umcp' */
  name?: string;
  onError?: (err: Error, role: 'state' | 'cache') => void;
}

/** Builds the state and cache clients. */
export function createRedisClients(opts: RedisClientsOptions): RedisClients {
  const name = opts.name ?? 'umcp';
  const state = createRedisClient({ url: opts.stateUrl, connectionName: `${name}-state`, onError: (e) => opts.onError?.(e, 'state') });
  const cache = createRedisClient({ url: opts.cacheUrl ?? opts.stateUrl, connectionName: `${name}-cache`, onError: (e) => opts.onError?.(e, 'cache') });
  const connectOne = async (c: Redis) => {
    if (c.status === 'wait') await c.connect();
    else if (c.status !== 'ready') await c.ping();
  };
  return {
    state,
    cache,
    keyPrefix: opts.keyPrefix,
    async connect() {
      await Promise.all([connectOne(state), connectOne(cache)]);
    },
    async ping() {
      try {
        const [a, b] = await Promise.all([state.ping(), cache.ping()]);
        return a === 'PONG' && b === 'PONG';
      } catch {
        return false;
      }
    },
    async close() {
      await Promise.all([state, cache].map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}

/** Joins a key under a prefix: `redisKey('umcp:', 'rl', tenantId)` -> `umcp:rl:<tenantId>`. */
export function redisKey(prefix: string, ...parts: string[]): string {
  return prefix + parts.join(':');
}
