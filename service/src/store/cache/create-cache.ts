/**
 * Composition of the cache layer for one process: the TieredCache on the cache-role Redis, with its
 * invalidation bus on the state-role Redis (pub/sub must reach every instance; a cache replica may be
 * read-only). The subscriber is a dedicated duplicate connection, closed by close().
 */
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { CacheConfig } from './cache-config.js';
import { InvalidationBus } from './invalidation-bus.js';
import { TieredCache } from './tiered-cache.js';

/** Options of createCacheLayer. */
export interface CacheLayerOptions {
  readonly config: CacheConfig;
  /** Cache-role connection (entries, versions). */
  readonly cacheRedis: Redis;
  /** State-role connection (publishing); a duplicate of it subscribes. */
  readonly stateRedis: Redis;
  readonly keyPrefix: string;
  readonly registry?: Registry;
  readonly onError?: (err: unknown, where: string) => void;
}

/** The cache of one process. */
export interface CacheLayer {
  readonly cache: TieredCache;
  readonly bus: InvalidationBus;
  close(): Promise<void>;
}

/** Builds and starts (subscribes) the cache layer. */
export async function createCacheLayer(opts: CacheLayerOptions): Promise<CacheLayer> {
  const subscriber = opts.stateRedis.duplicate({ connectionName: 'umcp-cache-invalidation' });
  subscriber.on('error', (err: Error) => opts.onError?.(err, 'cache invalidation subscriber'));
  const bus = new InvalidationBus(opts.stateRedis, subscriber, opts.keyPrefix, (err) => opts.onError?.(err, 'cache invalidation message'));
  const c = opts.config;
  const cache = new TieredCache({
    redis: opts.cacheRedis,
    bus,
    prefix: opts.keyPrefix,
    lruMaxEntries: c.CACHE_LRU_MAX,
    lruTtlMs: c.CACHE_LRU_TTL_MS,
    redisTtlMs: c.CACHE_REDIS_TTL_MS,
    registry: opts.registry,
    onError: opts.onError,
  });
  try {
    await cache.start();
  } catch (err) {
    await bus.close();
    throw err;
  }
  return {
    cache,
    bus,
    close: async () => {
      cache.close();
      await bus.close();
    },
  };
}
