/**
 * TieredCache and the cached stores with two "gateway instances" (own Redis connections, own LRU, own pg
 * pool) over the real shared Redis (unique key prefix) and a real temp database with the service's
 * migrations: changes and revocations made on instance A reach instance B within 1 s.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { CachedApiKeyStore, CachedTenantStore } from '../../../service/src/store/cache/cached-stores.js';
import { InvalidationBus } from '../../../service/src/store/cache/invalidation-bus.js';
import { TieredCache } from '../../../service/src/store/cache/tiered-cache.js';
import { createPgPool, PgApiKeyStore, PgTenantStore, runMigrations } from '../../../service/src/store/pg/index.js';
import { provisionTestServices } from '../../support/provision.js';
import { createTempDatabases, type TempDatabases } from './support/temp-databases.js';

interface Instance {
  cache: TieredCache;
  subscriber: Redis;
  tenants: CachedTenantStore;
  keys: CachedApiKeyStore;
  registry: Registry;
  close(): Promise<void>;
}

describe('cache (two instances, real Redis + PostgreSQL)', function () {
  this.timeout(30_000);
  const prefix = `umcp-f-test-${randomBytes(4).toString('hex')}:`;
  let redisUrl: string;
  let dbs: TempDatabases;
  let a: Instance;
  let b: Instance;
  const pools: pg.Pool[] = [];

  const instance = async (): Promise<Instance> => {
    const pool = createPgPool({ connectionString: dbs.urls.main!, max: 3 });
    pools.push(pool);
    const redis = new Redis(redisUrl);
    const subscriber = new Redis(redisUrl);
    const bus = new InvalidationBus(redis, subscriber, prefix);
    const registry = new Registry();
    const cache = new TieredCache({ redis, bus, prefix, registry, lruTtlMs: 30_000 });
    await cache.start();
    return {
      cache,
      subscriber,
      registry,
      tenants: new CachedTenantStore(new PgTenantStore(pool), cache),
      keys: new CachedApiKeyStore(new PgApiKeyStore(pool), cache),
      close: async () => {
        cache.close();
        await bus.close();
        await redis.quit();
      },
    };
  };

  before(async () => {
    redisUrl = (await provisionTestServices()).redisUrl;
    dbs = await createTempDatabases(['main']);
    const pool = createPgPool({ connectionString: dbs.urls.main!, max: 1 });
    await runMigrations(pool);
    await pool.end();
    a = await instance();
    b = await instance();
  });

  after(async () => {
    await a?.close();
    await b?.close();
    for (const p of pools) await p.end();
    const r = new Redis(redisUrl);
    const keys = await r.keys(`${prefix}*`);
    if (keys.length) await r.del(...keys);
    await r.quit();
    await dbs?.drop();
  });

  describe('propagation', () => {
    it('a tenant change made through instance A is seen on instance B within 1 s', async () => {
      const t = await a.tenants.create({ name: `acme-${randomBytes(3).toString('hex')}`, toolsets: ['platform'] });
      assert.deepEqual((await b.tenants.get(t.id))?.toolsets, ['platform']);
      assert.deepEqual((await b.tenants.get(t.id))?.toolsets, ['platform'], "now served from B's LRU");
      const t0 = Date.now();
      await a.tenants.setToolsets(t.id, ['platform', 'diagnostics']);
      const ms = await within(1_000, async () => (await b.tenants.get(t.id))?.toolsets.length === 2);
      console.log(`      tenant change visible on B after ${ms} ms (${Date.now() - t0} ms incl. the write)`);
      assert.ok((await b.tenants.get(t.id))?.createdAt instanceof Date, 'dates are revived');
    });

    it('a revoked key stops working on every instance within 1 s', async () => {
      const t = await a.tenants.create({ name: `keys-${randomBytes(3).toString('hex')}` });
      const { key, record } = await a.keys.create(t.id, 'ci');
      assert.equal((await a.keys.verify(key))?.tenantId, t.id);
      assert.equal((await b.keys.verify(key))?.tenantId, t.id);
      assert.equal((await b.keys.verify(key))?.subject, `key:${record.id}`, 'cached on B');
      const t0 = Date.now();
      await a.keys.revoke(t.id, record.id);
      assert.equal(await a.keys.verify(key), null, 'at once on the revoking instance');
      await within(1_000, async () => (await b.keys.verify(key)) === null);
      console.log(`      revocation effective on B ${Date.now() - t0} ms after revoke() was called`);
    });

    it('disabling a tenant stops its cached keys on every instance', async () => {
      const t = await a.tenants.create({ name: `off-${randomBytes(3).toString('hex')}` });
      const { key } = await a.keys.create(t.id, 'ci');
      assert.ok(await b.keys.verify(key));
      await a.tenants.setStatus(t.id, 'disabled');
      await within(1_000, async () => (await b.keys.verify(key)) === null);
    });
  });

  describe('get', () => {
    it('loads once for concurrent misses (single-flight) and counts lru/redis hits and misses', async () => {
      let loads = 0;
      const load = async () => {
        loads++;
        await new Promise((r) => setTimeout(r, 50));
        return { n: 42 };
      };
      const schema = z.object({ n: z.number() });
      const results = await Promise.all(Array.from({ length: 20 }, () => a.cache.get('sf', 'k1', load, { schema })));
      assert.equal(loads, 1);
      assert.ok(results.every((r) => r.n === 42));
      await a.cache.get('sf', 'k1', load, { schema });
      await b.cache.get('sf', 'k1', load, { schema });
      assert.equal(loads, 1, 'B found it in Redis');
      const text = (await a.registry.metrics()) + (await b.registry.metrics());
      assert.match(text, /umcp_cache_requests_total\{cache="sf",result="miss"\} 1/);
      assert.match(text, /umcp_cache_requests_total\{cache="sf",result="lru_hit"\} 1/);
      assert.match(text, /umcp_cache_requests_total\{cache="sf",result="redis_hit"\} 1/);
    });

    it('never lets a load that started before an invalidation store its stale value (versioned keys)', async () => {
      const schema = z.string();
      let release!: () => void;
      const slow = a.cache.get('race', 'k', () => new Promise<string>((r) => (release = () => r('old'))), { schema });
      await new Promise((r) => setTimeout(r, 20));
      await b.cache.invalidate('race', 'k');
      release();
      assert.equal(await slow, 'old', 'the caller still gets what it loaded');
      assert.equal(await b.cache.get('race', 'k', async () => 'new', { schema }), 'new', 'Redis did not keep the stale value');
      assert.equal(await a.cache.get('race', 'k', async () => 'other', { schema }), 'new', "A's LRU did not keep it either");
    });

    it('drops the whole LRU after the subscriber reconnects (broadcasts may have been missed)', async () => {
      const schema = z.string();
      assert.equal(await b.cache.get('rs', 'k', async () => 'v1', { schema }), 'v1');
      assert.equal(await b.cache.get('rs', 'k', async () => 'v2', { schema }), 'v1', 'from the LRU');
      const ready = new Promise((r) => b.subscriber.once('ready', r));
      b.subscriber.disconnect(true);
      await ready;
      assert.match(await b.registry.metrics(), /umcp_cache_invalidations_total\{cache="\*",scope="reset"\} 1/);
      assert.equal(await b.cache.get('rs', 'k', async () => 'v3', { schema }), 'v1', 'Redis still holds the current value');
      assert.match(await b.registry.metrics(), /umcp_cache_requests_total\{cache="rs",result="redis_hit"\} 1/, 'but not from the LRU');
    });

    it('falls back to the loader when Redis is unreachable', async () => {
      const dead = new Redis({ port: 1, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
      dead.on('error', () => {});
      const bus = new InvalidationBus(dead, dead, prefix);
      const errors: string[] = [];
      const cache = new TieredCache({ redis: dead, bus, prefix, onError: (_e, where) => errors.push(where) });
      assert.equal(await cache.get('down', 'k', async () => 7, { schema: z.number() }), 7);
      assert.deepEqual(errors.slice(0, 1), ['cache read down']);
      dead.disconnect();
    });
  });
});

/** Polls `check` until true; returns the elapsed ms or fails after `limitMs`. */
async function within(limitMs: number, check: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await check()) return Date.now() - t0;
    if (Date.now() - t0 > limitMs) throw new Error(`not seen within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
