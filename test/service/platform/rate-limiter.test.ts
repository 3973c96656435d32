import assert from 'node:assert/strict';
import { createRedisClient } from '../../../service/src/store/redis/connection.js';
import { RedisRateLimiter } from '../../../service/src/store/redis/rate-limiter.js';
import { createTestRedisPrefix, testServiceUrls, type TestRedisPrefix } from '../../support/platform-db.js';
import type { Redis } from 'ioredis';

describe('RedisRateLimiter', () => {
  let prefix: TestRedisPrefix;
  let a: Redis;
  let b: Redis;

  beforeEach(async () => {
    prefix = createTestRedisPrefix();
    a = createRedisClient({ url: testServiceUrls().redisUrl, connectionName: 'rl-test-a' });
    b = createRedisClient({ url: testServiceUrls().redisUrl, connectionName: 'rl-test-b' });
    await Promise.all([a.connect(), b.connect()]);
  });
  afterEach(async () => {
    await prefix.cleanup();
    a.disconnect();
    b.disconnect();
  });

  it('allows `limit` units per window, then refuses with retryAfterMs', async () => {
    const rl = new RedisRateLimiter(a, { limit: 3, windowMs: 10_000, keyPrefix: prefix.prefix });
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await rl.consume('tenant-1'));
    assert.deepEqual(
      results.map((r) => r.allowed),
      [true, true, true, false],
    );
    assert.deepEqual(
      results.map((r) => r.remaining),
      [2, 1, 0, 0],
    );
    assert.ok(results[3]!.retryAfterMs > 9_000 && results[3]!.retryAfterMs <= 10_000, String(results[3]!.retryAfterMs));
    assert.equal((await rl.consume('tenant-2')).allowed, true, 'keys are independent');
  });

  it('is shared by every replica (state in Redis) and atomic under concurrency', async () => {
    const opts = { limit: 10, windowMs: 10_000, keyPrefix: prefix.prefix };
    const ra = new RedisRateLimiter(a, opts);
    const rb = new RedisRateLimiter(b, opts);
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? ra : rb).consume('t')));
    assert.equal(results.filter((r) => r.allowed).length, 10);
  });

  it('opens a new window once the old one expires', async () => {
    const rl = new RedisRateLimiter(a, { limit: 1, windowMs: 150, keyPrefix: prefix.prefix });
    assert.equal((await rl.consume('t')).allowed, true);
    assert.equal((await rl.consume('t')).allowed, false);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await rl.consume('t')).allowed, true);
  });

  it('rejects a nonsensical limit', () => {
    assert.throws(() => new RedisRateLimiter(a, { limit: 0, keyPrefix: 'x:' }), /limit must be a positive integer/);
  });
});
