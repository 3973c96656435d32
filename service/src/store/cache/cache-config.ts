/**
 * Environment keys of the cache layer (merged into the service config).
 */
import { z } from 'zod';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** Cache keys; parsed with the rest of the service config. */
export const CacheConfigSchema = z.object({
  CACHE_ENABLED: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true')
    .describe('Redis + in-process cache for API key lookup and tenant config, invalidated on every instance via pub/sub.'),
  CACHE_LRU_MAX: int(1, 10_000_000).default(10_000).describe("Entries in each process's in-process LRU."),
  CACHE_LRU_TTL_MS: int(0, 3_600_000).default(5_000).describe('Lifetime of an in-process entry (ms): bounds staleness if an invalidation broadcast is lost.'),
  CACHE_REDIS_TTL_MS: int(1_000, 86_400_000).default(60_000).describe('Lifetime of a Redis cache entry (ms).'),
  CACHE_NEGATIVE_TTL_MS: int(0, 3_600_000).default(5_000).describe('Lifetime of a cached "unknown API key" answer (ms).'),
});
/** Parsed cache keys. */
export type CacheConfig = z.output<typeof CacheConfigSchema>;
