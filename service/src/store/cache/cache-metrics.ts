/**
 * Cache counters: lookups by tier and result, and invalidations. Registered once per prom-client Registry.
 */
import { Counter, type Registry } from 'prom-client';

/** Metric names of the cache (dashboards read them). */
export const CACHE_METRICS = {
  /** labels: cache (namespace), result = lru_hit | redis_hit | miss | error */
  requests: 'umcp_cache_requests_total',
  /** labels: cache (namespace), scope = key | namespace | reset */
  invalidations: 'umcp_cache_invalidations_total',
} as const;

/** The counters of one registry. */
export interface CacheCounters {
  readonly requests: Counter<'cache' | 'result'>;
  readonly invalidations: Counter<'cache' | 'scope'>;
}

const byRegistry = new WeakMap<Registry, CacheCounters>();

/** The cache counters registered in `registry` (created on first use). */
export function cacheCounters(registry: Registry): CacheCounters {
  let c = byRegistry.get(registry);
  if (!c) {
    c = {
      requests: new Counter({
        name: CACHE_METRICS.requests,
        help: 'Cache lookups by namespace and result',
        labelNames: ['cache', 'result'],
        registers: [registry],
      }),
      invalidations: new Counter({
        name: CACHE_METRICS.invalidations,
        help: 'Cache invalidations received',
        labelNames: ['cache', 'scope'],
        registers: [registry],
      }),
    };
    byRegistry.set(registry, c);
  }
  return c;
}
