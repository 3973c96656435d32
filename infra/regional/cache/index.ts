export { Cache, checkCacheArgs, type CacheArgs, type CacheRole, type RedisEndpoint } from './cache.js';
