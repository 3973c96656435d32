/**
 * ReplicaRouter against a real streaming replica: round-robin reads, read-your-writes by LSN while replay
 * is paused (lag), and a replica that goes down and comes back.
 */
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { provisionTestServices } from '../../support/provision.js';
import { formatLsn, parseLsn, RedisLsnTracker } from '../../../service/src/store/pg/routing/lsn-tracker.js';
import { MemoryLsnTracker } from '../../../service/src/store/pg/routing/lsn-tracker.js';
import { PoolMetrics } from '../../../service/src/store/pg/routing/pool-metrics.js';
import { ReplicaRouter } from '../../../service/src/store/pg/routing/replica-router.js';
import { RolePool } from '../../../service/src/store/pg/routing/role-pool.js';
import { startPgCluster, type PgCluster } from './support/pg-cluster.js';

describe('ReplicaRouter (real primary + streaming replica)', function () {
  this.timeout(90_000);
  let cluster: PgCluster | undefined;
  let router: ReplicaRouter;
  let registry: Registry;
  const down: number[] = [];

  before(async () => {
    cluster = await startPgCluster();
    registry = new Registry();
    const metrics = PoolMetrics.for(registry);
    const writer = new RolePool({ shard: 's1', role: 'writer', connectionString: cluster.primaryUrl, max: 3 });
    const reader = new RolePool({ shard: 's1', role: 'reader', connectionString: cluster.replicaUrl, max: 3, acquireTimeoutMs: 1_000 });
    metrics.add(writer);
    metrics.add(reader);
    router = new ReplicaRouter({
      shard: 's1',
      writer,
      readers: [reader],
      lsn: new MemoryLsnTracker(),
      unhealthyRetryMs: 500,
      metrics,
      onReaderDown: (i) => down.push(i),
    });
    await writer.query('CREATE TABLE notes (id serial PRIMARY KEY, tenant text NOT NULL, body text NOT NULL)');
    await waitFor(async () => (await router.readWithTarget({}, (q) => q.query(`SELECT to_regclass('notes') AS t`))).result.rows[0]?.t !== null);
  });

  after(async () => {
    await router?.close().catch(() => {});
    await cluster?.stop();
  });

  describe('reads', () => {
    it('sends reads without a recent write to the replica', async () => {
      const { target, result } = await router.readWithTarget({ tenantId: 'other' }, (q) => q.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r'));
      assert.deepEqual(target, { role: 'reader', index: 0 });
      assert.equal(result.rows[0]?.r, true);
    });

    it("reads a tenant's own write back (writer or caught-up replica), and others may read the replica", async () => {
      await router.write({ tenantId: 't1' }, (q) => q.query(`INSERT INTO notes (tenant, body) VALUES ('t1', 'a')`));
      const { result } = await router.readWithTarget({ tenantId: 't1' }, (q) => q.query(`SELECT count(*)::int AS n FROM notes WHERE tenant = 't1'`));
      assert.equal(result.rows[0]?.n, 1);
    });
  });

  describe('replica lag (replay paused)', () => {
    it('routes the writing tenant and session to the writer until the replica replays the write', async () => {
      await router.readFromWriter(async () => undefined);
      const replica = new RolePool({ shard: 's1', role: 'reader', connectionString: cluster!.replicaUrl, max: 1 });
      try {
        await replica.query('SELECT pg_wal_replay_pause()');
        await router.write({ tenantId: 't2', sessionId: 'sess-1' }, (q) => q.query(`INSERT INTO notes (tenant, body) VALUES ('t2', 'lagging')`));
        const count = (q: Parameters<Parameters<ReplicaRouter['read']>[1]>[0]) =>
          q.query<{ n: number }>(`SELECT count(*)::int AS n FROM notes WHERE tenant = 't2'`);
        const mine = await router.readWithTarget({ tenantId: 't2' }, count);
        assert.deepEqual(mine.target, { role: 'writer', reason: 'not-replayed' });
        assert.equal(mine.result.rows[0]?.n, 1, 'the tenant sees its own write');
        const session = await router.readWithTarget({ sessionId: 'sess-1' }, count);
        assert.equal(session.target.role, 'writer');
        const other = await router.readWithTarget({ tenantId: 'someone-else' }, count);
        assert.deepEqual(other.target, { role: 'reader', index: 0 });
        assert.equal(other.result.rows[0]?.n, 0, 'the paused replica really lags');
        await router.probe();
        const metrics = await registry.getSingleMetricAsString('umcp_pg_replication_lag_seconds');
        assert.match(metrics, /umcp_pg_replication_lag_seconds\{shard="s1",replica="0"\} [0-9.e-]+/);

        await replica.query('SELECT pg_wal_replay_resume()');
        await waitFor(async () => (await router.readWithTarget({ tenantId: 't2' }, count)).target.role === 'reader');
        const after = await router.readWithTarget({ tenantId: 't2' }, count);
        assert.equal(after.result.rows[0]?.n, 1);
      } finally {
        await replica.query('SELECT pg_wal_replay_resume()').catch(() => {});
        await replica.close();
      }
    });
  });

  describe('read-your-writes across instances (RedisLsnTracker)', () => {
    it('routes a read on instance B to the writer after a write on instance A until the replica replays it', async () => {
      const redis = new Redis((await provisionTestServices()).redisUrl);
      const prefix = `umcp-f-lsn-${randomBytes(4).toString('hex')}:`;
      const mk = () =>
        new ReplicaRouter({
          shard: 's1',
          writer: new RolePool({ shard: 's1', role: 'writer', connectionString: cluster!.primaryUrl, max: 2 }),
          readers: [new RolePool({ shard: 's1', role: 'reader', connectionString: cluster!.replicaUrl, max: 2 })],
          lsn: new RedisLsnTracker(redis, prefix, 10_000),
        });
      const [a, b] = [mk(), mk()];
      const replica = new RolePool({ shard: 's1', role: 'reader', connectionString: cluster!.replicaUrl, max: 1 });
      try {
        assert.equal(parseLsn(formatLsn(parseLsn('16/B374D848'))), parseLsn('16/B374D848'));
        await replica.query('SELECT pg_wal_replay_pause()');
        await a.write({ tenantId: 't3' }, (q) => q.query(`INSERT INTO notes (tenant, body) VALUES ('t3', 'x')`));
        const count = (q: Parameters<Parameters<ReplicaRouter['read']>[1]>[0]) =>
          q.query<{ n: number }>(`SELECT count(*)::int AS n FROM notes WHERE tenant = 't3'`);
        const onB = await b.readWithTarget({ tenantId: 't3' }, count);
        assert.deepEqual(onB.target, { role: 'writer', reason: 'not-replayed' });
        assert.equal(onB.result.rows[0]?.n, 1);
        await replica.query('SELECT pg_wal_replay_resume()');
        await waitFor(async () => (await b.readWithTarget({ tenantId: 't3' }, count)).target.role === 'reader');
      } finally {
        await replica.query('SELECT pg_wal_replay_resume()').catch(() => {});
        await Promise.all([a.close(), b.close(), replica.close()]);
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length) await redis.del(...keys);
        await redis.quit();
      }
    });
  });

  describe('replica down', () => {
    it('skips a dead replica (reads go to the writer) and uses it again once it is back', async () => {
      await cluster!.stopReplica();
      const read = () => router.readWithTarget({}, (q) => q.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r'));
      const first = await read();
      assert.deepEqual(first.target, { role: 'writer', reason: 'readers-down' });
      assert.equal(first.result.rows[0]?.r, false);
      assert.deepEqual(down, [0]);
      assert.deepEqual(router.healthyReaders(), []);
      const second = await read();
      assert.equal(second.target.role, 'writer', 'still skipped without a new connection attempt');
      assert.equal(down.length, 1);

      await cluster!.startReplica();
      await waitFor(async () => (await read()).target.role === 'reader', 15_000);
      assert.deepEqual(router.healthyReaders(), [0]);
    });
  });

  describe('pool gauges', () => {
    it('reports total/idle/waiting by shard and role', async () => {
      const text = await registry.metrics();
      assert.match(text, /umcp_pg_pool_total\{shard="s1",role="writer"\} \d+/);
      assert.match(text, /umcp_pg_pool_idle\{shard="s1",role="reader"\} \d+/);
      assert.match(text, /umcp_pg_pool_waiting\{shard="s1",role="writer"\} 0/);
    });
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
