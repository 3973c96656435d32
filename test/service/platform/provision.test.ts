import assert from 'node:assert/strict';
import pg from 'pg';
import { Redis } from 'ioredis';
import { isAlive } from '../../../service/src/local/process-util.js';
import { probePostgres, probeRedis, provisionTestServices } from '../../support/provision.js';

describe('test provisioning (test/support/provision.ts)', function () {
  this.timeout(120_000);

  it('uses TEST_DATABASE_URL / TEST_REDIS_URL as given', async () => {
    const s = await provisionTestServices({ TEST_DATABASE_URL: 'postgres://x@h:1/db', TEST_REDIS_URL: 'redis://h:2' });
    assert.deepEqual([s.databaseUrl, s.redisUrl], ['postgres://x@h:1/db', 'redis://h:2']);
    await s.stop();
  });

  it('probes quickly and says no for closed ports', async () => {
    const started = Date.now();
    assert.equal(await probePostgres('postgres://postgres@127.0.0.1:1/test'), false);
    assert.equal(await probeRedis('redis://127.0.0.1:1'), false);
    assert.ok(Date.now() - started < 5_000);
  });

  it('falls back to embedded PostgreSQL and a redis-server child, and stops both', async () => {
    const s = await provisionTestServices({}, { probeLocal: false });
    let redisPid = 0;
    try {
      assert.match(s.databaseUrl, /^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/test$/);
      assert.doesNotMatch(s.databaseUrl, /:5432\//);
      const client = new pg.Client({ connectionString: s.databaseUrl });
      await client.connect();
      assert.equal((await client.query('SELECT 1 AS one')).rows[0].one, 1);
      await client.end();
      const redis = new Redis(s.redisUrl);
      assert.equal(await redis.ping(), 'PONG');
      redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))![1]);
      redis.disconnect();
    } finally {
      await s.stop();
    }
    assert.equal(await probePostgres(s.databaseUrl), false, 'PostgreSQL stopped');
    assert.equal(isAlive(redisPid), false, 'redis-server stopped');
  });
});
