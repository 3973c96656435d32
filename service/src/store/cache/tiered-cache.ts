/**
 * Cache-aside in two tiers: an in-process LRU in front of Redis, in front of the loader (the database).
 *
 * Versioned keys make invalidation race-free: every entry is stored with the namespace version and its
 * key version it was loaded under, and is written back only if both are unchanged (a Lua compare-and-set).
 * An invalidation bumps a version (and deletes the entry), so a slow loader that read the old row can
 * never put it back. Every invalidation is broadcast over pub/sub so other instances drop their LRU copy;
 * the LRU's short TTL bounds staleness if a broadcast is ever lost. Concurrent misses of one key in a
 * process share one load (single-flight). If Redis fails, reads fall through to the loader.
 */
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import { cacheCounters, type CacheCounters } from './cache-metrics.js';
import type { InvalidationBus, InvalidationMessage } from './invalidation-bus.js';
import { Lru } from './lru.js';

/** Options of TieredCache; units in the names. */
export interface TieredCacheOptions {
  /** The cache-role Redis. */
  readonly redis: Redis;
  readonly bus: InvalidationBus;
  /** @defaultValue 'umcp:' */
  readonly prefix?: string;
  /** Entries in the in-process LRU. @defaultValue 10000 */
  readonly lruMaxEntries?: number;
  /** Lifetime of an LRU entry, ms (upper bound of staleness if a broadcast is lost). @defaultValue 5000 */
  readonly lruTtlMs?: number;
  /** Lifetime of a Redis entry, ms. @defaultValue 60000 */
  readonly redisTtlMs?: number;
  readonly registry?: Registry;
  readonly onError?: (err: unknown, where: string) => void;
}

/** Per-lookup options. */
export interface GetOptions<T> {
  /** Validates (and revives, e.g. dates) what comes back from Redis. */
  readonly schema: z.ZodType<T>;
  /** Redis lifetime of this entry, ms. @defaultValue the cache's redisTtlMs */
  readonly ttlMs?: number;
  /** Lifetime by value, ms (e.g. shorter for negative results); undefined falls back to ttlMs. */
  readonly ttlFor?: (value: T) => number | undefined;
}

// KEYS: nsVer, keyVer, data. ARGV: expected nsVer, expected keyVer, payload, ttl ms.
const CAS_SET = `
local nv = redis.call('GET', KEYS[1]) or '0'
local kv = redis.call('GET', KEYS[2]) or '0'
if nv == ARGV[1] and kv == ARGV[2] then redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[4]) return 1 end
return 0`;

const KEY_VERSION_TTL_S = 86_400;

/** Redis + LRU cache-aside with versioned keys, broadcast invalidation and single-flight loads. */
export class TieredCache {
  private readonly redis: Redis;
  private readonly bus: InvalidationBus;
  private readonly prefix: string;
  private readonly lru: Lru<unknown>;
  private readonly lruTtlMs: number;
  private readonly redisTtlMs: number;
  private readonly inflight = new Map<string, Promise<unknown>>();
  private readonly epochs = new Map<string, number>();
  private globalEpoch = 0;
  private readonly counters: CacheCounters | undefined;
  private unlisten: (() => void) | undefined;

  constructor(private readonly opts: TieredCacheOptions) {
    this.redis = opts.redis;
    this.bus = opts.bus;
    this.prefix = opts.prefix ?? 'umcp:';
    this.lru = new Lru(opts.lruMaxEntries ?? 10_000);
    this.lruTtlMs = opts.lruTtlMs ?? 5_000;
    this.redisTtlMs = opts.redisTtlMs ?? 60_000;
    this.counters = opts.registry ? cacheCounters(opts.registry) : undefined;
  }

  /** Subscribes to invalidations; call before serving. */
  async start(): Promise<void> {
    this.unlisten ??= this.bus.listen((m) => this.onInvalidation(m));
    await this.bus.start();
  }

  /** The value of `ns`/`key`: from the LRU, else Redis, else `load()` (stored in both). */
  async get<T>(ns: string, key: string, load: () => Promise<T>, opts: GetOptions<T>): Promise<T> {
    const id = `${ns}\u0000${key}`;
    const cached = this.lru.get(id) as { v: T } | undefined;
    if (cached) {
      this.count(ns, 'lru_hit');
      return cached.v;
    }
    const running = this.inflight.get(id) as Promise<T> | undefined;
    if (running) return running;
    const p = this.fill(ns, key, id, load, opts).finally(() => this.inflight.delete(id));
    this.inflight.set(id, p);
    return p;
  }

  /** Drops one entry everywhere: bumps its version, deletes it from Redis, broadcasts to every instance. */
  async invalidate(ns: string, key: string): Promise<void> {
    const k = this.keys(ns, key);
    const res = await this.redis.multi().incr(k.keyVer).expire(k.keyVer, KEY_VERSION_TTL_S).del(k.data).exec();
    const failed = res?.find(([err]) => err);
    if (!res || failed) throw new Error(`cache invalidation of ${ns}/${key} failed: ${failed?.[0]?.message ?? 'transaction aborted'}`);
    this.onInvalidation({ origin: this.bus.origin, ns, key });
    await this.bus.publish(ns, key);
  }

  /** Drops every entry of `ns` everywhere (bumps the namespace version). */
  async invalidateNamespace(ns: string): Promise<void> {
    await this.redis.incr(this.keys(ns, '').nsVer);
    this.onInvalidation({ origin: this.bus.origin, ns });
    await this.bus.publish(ns);
  }

  /** Stops listening (the bus and Redis connections belong to the caller). */
  close(): void {
    this.unlisten?.();
    this.unlisten = undefined;
    this.lru.clear();
  }

  private async fill<T>(ns: string, key: string, id: string, load: () => Promise<T>, opts: GetOptions<T>): Promise<T> {
    const epoch = this.epoch(ns);
    const k = this.keys(ns, key);
    let versions: [string, string] | undefined;
    try {
      const [nv, kv, data] = await this.redis.mget(k.nsVer, k.keyVer, k.data);
      versions = [nv ?? '0', kv ?? '0'];
      const tag = `${versions[0]}.${versions[1]}|`;
      if (data?.startsWith(tag)) {
        const value = opts.schema.parse((JSON.parse(data.slice(tag.length)) as { v: unknown }).v);
        this.count(ns, 'redis_hit');
        if (this.epoch(ns) === epoch) this.lru.set(id, { v: value }, this.lruTtlMs);
        return value;
      }
    } catch (err) {
      versions = undefined;
      this.count(ns, 'error');
      this.opts.onError?.(err, `cache read ${ns}`);
    }
    this.count(ns, 'miss');
    const value = await load();
    const ttlMs = opts.ttlFor?.(value) ?? opts.ttlMs ?? this.redisTtlMs;
    if (versions) {
      const payload = `${versions[0]}.${versions[1]}|${JSON.stringify({ v: value })}`;
      await this.redis
        .eval(CAS_SET, 3, k.nsVer, k.keyVer, k.data, versions[0], versions[1], payload, String(ttlMs))
        .catch((err: unknown) => this.opts.onError?.(err, `cache write ${ns}`));
    }
    // An invalidation that arrived while loading means `value` may predate it: serve it, do not keep it.
    if (this.epoch(ns) === epoch) this.lru.set(id, { v: value }, Math.min(this.lruTtlMs, ttlMs));
    return value;
  }

  private onInvalidation(m: InvalidationMessage | 'reset'): void {
    if (m === 'reset') {
      this.globalEpoch++;
      this.lru.clear();
      this.counters?.invalidations.inc({ cache: '*', scope: 'reset' });
      return;
    }
    this.epochs.set(m.ns, (this.epochs.get(m.ns) ?? 0) + 1);
    if (m.key === undefined) this.lru.deletePrefix(`${m.ns}\u0000`);
    else this.lru.delete(`${m.ns}\u0000${m.key}`);
    this.counters?.invalidations.inc({ cache: m.ns, scope: m.key === undefined ? 'namespace' : 'key' });
  }

  private epoch(ns: string): number {
    return this.globalEpoch * 1_000_000_007 + (this.epochs.get(ns) ?? 0);
  }

  private keys(ns: string, key: string) {
    const base = `${this.prefix}cache:${ns}`;
    return { nsVer: `${base}:ver`, keyVer: `${base}:k:${key}:ver`, data: `${base}:k:${key}` };
  }

  private count(ns: string, result: 'lru_hit' | 'redis_hit' | 'miss' | 'error'): void {
    this.counters?.requests.inc({ cache: ns, result });
  }
}
