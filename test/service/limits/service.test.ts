/**
 * LimitService on real PostgreSQL and Redis, below the HTTP layer: the virtual-server dimension (the
 * principal's `server`), the per-tool split, and what happens when the counters are unavailable:
 * Redis refusing connections, and a Redis that accepts but never answers (LIMITS_COUNTER_TIMEOUT_MS).
 * Rates fail open, enforced quotas fail closed; both are counted in umcp_limit_counter_errors_total.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { ProtocolError } from '@modelcontextprotocol/server';
import { Redis } from 'ioredis';
import pg from 'pg';
import { Registry } from 'prom-client';
import { LimitService } from '../../../service/src/gateway/limits/limit-service.js';
import { limitWrite, LimitBody } from '../../../service/src/gateway/limits/limit-rules.js';
import { createLogger } from '../../../service/src/log/logger.js';
import type { Principal } from '../../../service/src/domain/principal.js';
import { freePort } from '../../../service/src/local/free-port.js';
import { createCacheLayer, type CacheLayer } from '../../../service/src/store/cache/index.js';
import { PgLimitStore } from '../../../service/src/store/pg/limit-store.js';
import { runMigrations } from '../../../service/src/store/pg/migrate.js';
import { RedisLimitCounters } from '../../../service/src/store/redis/rate-limiter.js';
import { createTestDatabase, createTestRedisPrefix, testServiceUrls, type TestDatabase, type TestRedisPrefix } from '../../support/platform-db.js';

const CACHE = { CACHE_ENABLED: true, CACHE_LRU_MAX: 1000, CACHE_LRU_TTL_MS: 5000, CACHE_REDIS_TTL_MS: 60_000, CACHE_NEGATIVE_TTL_MS: 5000 };

describe('Limits: LimitService (virtual servers, counters unavailable)', function () {
  this.timeout(30_000);
  let db: TestDatabase;
  let prefix: TestRedisPrefix;
  let pool: pg.Pool;
  let redis: Redis;
  let cacheLayer: CacheLayer;
  let store: PgLimitStore;
  const tenantId = randomUUID();
  const logger = createLogger({ level: 'silent' });

  const principal = (over: Partial<Principal> = {}): Principal => ({
    tenantId,
    tenantName: 'acme',
    subject: 'oauth:alice',
    kind: 'oauth',
    toolsets: [],
    scopes: [],
    ...over,
  });
  const service = (counters: Redis, opts: { timeoutMs?: number; registry?: Registry } = {}) =>
    new LimitService({
      store,
      cache: cacheLayer.cache,
      counters: new RedisLimitCounters(counters, prefix.prefix),
      logger,
      ...(opts.registry && { registry: opts.registry }),
      ...(opts.timeoutMs && { counterTimeoutMs: opts.timeoutMs }),
    });
  const put = (svc: LimitService, name: string, body: Record<string, unknown>) => svc.put(limitWrite(tenantId, name, LimitBody.parse(body)));
  const refusedBy = async (p: Promise<void>) => {
    try {
      await p;
      return undefined;
    } catch (err) {
      assert.ok(err instanceof ProtocolError, String(err));
      return { code: err.code, data: err.data as Record<string, unknown>, message: err.message };
    }
  };

  before(async () => {
    db = await createTestDatabase();
    prefix = createTestRedisPrefix();
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    await runMigrations(pool);
    redis = new Redis(testServiceUrls().redisUrl);
    cacheLayer = await createCacheLayer({ config: CACHE, cacheRedis: redis, stateRedis: redis, keyPrefix: prefix.prefix });
    store = new PgLimitStore(pool);
  });
  after(async () => {
    await cacheLayer?.close();
    redis?.disconnect();
    await pool?.end();
    await db?.drop();
    await prefix?.cleanup();
  });
  afterEach(async () => {
    for (const l of await store.list(tenantId)) await store.remove(tenantId, l.id);
    await cacheLayer.cache.invalidate('limits.v1', tenantId);
  });

  describe('dimensions', () => {
    it('a server selector counts only calls through that virtual server; per server splits the counter', async () => {
      const svc = service(redis);
      await put(svc, 'research-only', { server: 'research', rate: '2/60s' });
      await put(svc, 'each-server', { tool: 'lookup', per: ['server'], rate: '3/60s' });
      const research = principal({ server: 'research' });
      const ops = principal({ server: 'ops' });
      for (let i = 0; i < 2; i++) assert.equal(await refusedBy(svc.checkCall(research, 'lookup')), undefined);
      assert.equal((await refusedBy(svc.checkCall(research, 'lookup')))?.data.limit, 'research-only');
      // ops and plain /mcp are not counted by research-only; each-server gives each its own 3.
      for (let i = 0; i < 3; i++) assert.equal(await refusedBy(svc.checkCall(ops, 'lookup')), undefined);
      assert.equal((await refusedBy(svc.checkCall(ops, 'lookup')))?.data.limit, 'each-server');
      for (let i = 0; i < 3; i++) assert.equal(await refusedBy(svc.checkCall(principal(), 'lookup')), undefined);
      assert.equal((await refusedBy(svc.checkCall(principal(), 'lookup')))?.data.limit, 'each-server');
      const buckets = (await svc.usage(tenantId)).filter((u) => u.limit === 'each-server').map((u) => `${u.bucket.server}=${u.used}`);
      assert.deepEqual(buckets.sort(), ['-=3', 'ops=3', 'research=2']);
    });

    it('per tool with a user selector: one user, each tool its own counter; the OAuth sub matches without its prefix', async () => {
      const svc = service(redis);
      await put(svc, 'alice-each-tool', { user: 'alice', per: ['tool'], rate: '1/60s' });
      assert.equal(await refusedBy(svc.checkCall(principal(), 'a')), undefined);
      assert.equal(await refusedBy(svc.checkCall(principal(), 'b')), undefined);
      assert.equal((await refusedBy(svc.checkCall(principal(), 'a')))?.data.limit, 'alice-each-tool');
      assert.equal(await refusedBy(svc.checkCall(principal({ subject: 'oauth:bob' }), 'a')), undefined, 'bob is not selected');
      assert.equal(await svc.checkRequest(principal()), undefined, 'a calls limit does not count requests');
    });
  });

  describe('counters unavailable', () => {
    let deadPort: number;
    let dead: Redis;
    let hanging: Server;
    const sockets = new Set<Socket>();
    let hung: Redis;

    before(async () => {
      deadPort = await freePort();
      dead = new Redis({ host: '127.0.0.1', port: deadPort, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
      dead.on('error', () => undefined);
      // Accepts connections and never answers: a Redis stuck (paused, overloaded, a half-open connection).
      hanging = createServer((s) => {
        sockets.add(s);
        s.on('data', () => undefined);
      });
      await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
      const port = (hanging.address() as { port: number }).port;
      hung = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0, enableReadyCheck: false });
      hung.on('error', () => undefined);
    });
    after(async () => {
      dead.disconnect();
      hung.disconnect();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => hanging.close(() => r()));
    });

    it('Redis refusing connections: a rate fails open, an enforced quota fails closed (-32029, counters-unavailable)', async () => {
      const registry = new Registry();
      // Definitions are read with the working Redis; only the counters are down.
      const svc = service(dead, { registry });
      await put(svc, 'burst', { tool: 'search', rate: '1/60s' });
      for (let i = 0; i < 3; i++) assert.equal(await refusedBy(svc.checkCall(principal(), 'search')), undefined, 'rate: fails open');
      await put(svc, 'budget', { tool: 'search', quota: '1000/day' });
      const refused = await refusedBy(svc.checkCall(principal(), 'search'));
      assert.equal(refused?.code, -32029);
      assert.equal(refused?.data.reason, 'counters-unavailable');
      assert.equal(refused?.data.limit, 'budget');
      assert.ok((refused?.data.retryAfterSeconds as number) >= 1 && (refused?.data.retryAfterSeconds as number) <= 5);
      assert.match(
        refused!.message,
        /Limit "budget" \(1000 per UTC day calls, quota\) cannot be checked right now: its counters are unavailable; retry after \d s/,
      );
      const text = await registry.metrics();
      assert.match(text, /umcp_limit_counter_errors_total\{kind="rate",outcome="allowed"\} 3/);
      assert.match(text, /umcp_limit_counter_errors_total\{kind="quota",outcome="refused"\} 1/);
    });

    it('a log-only quota does not fail closed; a request quota refuses with reason counters-unavailable', async () => {
      const svc = service(dead);
      await put(svc, 'watch', { quota: '10/day', action: 'log' });
      assert.equal(await refusedBy(svc.checkCall(principal(), 'x')), undefined);
      await put(svc, 'req-budget', { appliesTo: 'requests', quota: '10/day' });
      const r = await svc.checkRequest(principal());
      assert.equal(r?.reason, 'counters-unavailable');
      assert.equal(r?.limit.name, 'req-budget');
    });

    it('a Redis that never answers: decided within LIMITS_COUNTER_TIMEOUT_MS, the same way', async () => {
      const svc = service(hung, { timeoutMs: 200 });
      await put(svc, 'burst', { tool: 'search', rate: '1/60s' });
      let started = Date.now();
      assert.equal(await refusedBy(svc.checkCall(principal(), 'search')), undefined);
      const openMs = Date.now() - started;
      await put(svc, 'budget', { tool: 'search', quota: '5/day' });
      started = Date.now();
      assert.equal((await refusedBy(svc.checkCall(principal(), 'search')))?.data.reason, 'counters-unavailable');
      const closedMs = Date.now() - started;
      assert.ok(openMs >= 150 && openMs < 1_000, `failed open after ${openMs} ms`);
      assert.ok(closedMs >= 150 && closedMs < 1_000, `failed closed after ${closedMs} ms`);
    });
  });
});
