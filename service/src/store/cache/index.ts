/** Cache-aside layer: tiered cache (LRU + Redis), invalidation bus, cached stores, config, composition. */
export { CacheConfigSchema, type CacheConfig } from './cache-config.js';
export { CACHE_METRICS, cacheCounters } from './cache-metrics.js';
export { CachedVirtualServerStore, VIRTUAL_SERVERS_NS } from './cached-virtual-servers.js';
export { CACHE_NS, CachedApiKeyStore, CachedTenantStore, type CachedStoreOptions } from './cached-stores.js';
export { createCacheLayer, type CacheLayer, type CacheLayerOptions } from './create-cache.js';
export { InvalidationBus, type InvalidationListener, type InvalidationMessage } from './invalidation-bus.js';
export { Lru } from './lru.js';
export { TieredCache, type GetOptions, type TieredCacheOptions } from './tiered-cache.js';
