/**
 * RolePool on the shared test PostgreSQL: sizing from max_connections, acquire and statement timeouts
 * with clear errors, and no session state left behind (transaction-pooling safe).
 */
import assert from 'node:assert/strict';
import { PoolAcquireTimeoutError, StatementTimeoutError } from '../../../service/src/store/pg/routing/errors.js';
import { defaultPoolSize, readConnectionBudget } from '../../../service/src/store/pg/routing/pool-sizing.js';
import { RolePool } from '../../../service/src/store/pg/routing/role-pool.js';
import { createTempDatabases, type TempDatabases } from './support/temp-databases.js';

describe('RolePool', function () {
  this.timeout(30_000);
  let dbs: TempDatabases;
  let pool: RolePool;

  before(async () => {
    dbs = await createTempDatabases(['pool']);
    pool = new RolePool({ shard: 'p1', role: 'writer', connectionString: dbs.urls.pool!, max: 1, acquireTimeoutMs: 300, statementTimeoutMs: 200 });
  });
  after(async () => {
    await pool?.close();
    await dbs?.drop();
  });

  describe('sizing', () => {
    it('derives the pool size from max_connections, reserved connections, instances and headroom', async () => {
      assert.equal(defaultPoolSize({ maxConnections: 100, expectedInstances: 4 }), 19); // (100-3)*0.8/4
      assert.equal(defaultPoolSize({ maxConnections: 500, reservedConnections: 10, expectedInstances: 10, headroom: 0.1 }), 44);
      assert.equal(defaultPoolSize({ maxConnections: 10, expectedInstances: 50 }), 2, 'never below 2');
      assert.throws(() => defaultPoolSize({ maxConnections: 100, expectedInstances: 0 }), /expectedInstances/);
      const budget = await pool.transaction((q) => readConnectionBudget(q));
      assert.ok(budget.maxConnections > 0);
      assert.ok(budget.reservedConnections >= 0);
    });
  });

  describe('timeouts', () => {
    it('fails with PoolAcquireTimeoutError naming shard, role and counts when no connection frees up', async () => {
      let release!: () => void;
      const held = pool.transaction(() => new Promise<void>((r) => (release = r)));
      await new Promise((r) => setTimeout(r, 50));
      const t0 = Date.now();
      await assert.rejects(pool.query('SELECT 1'), (err: unknown) => {
        assert.ok(err instanceof PoolAcquireTimeoutError);
        assert.match(err.message, /shard p1 writer pool: no connection within 300 ms \(1 open, 0 idle/);
        return true;
      });
      assert.ok(Date.now() - t0 >= 250);
      release();
      await held;
    });

    it('fails with StatementTimeoutError when a statement runs past the timeout', async () => {
      await assert.rejects(
        pool.transaction((q) => q.query('SELECT pg_sleep(2)')),
        (err: unknown) => {
          assert.ok(err instanceof StatementTimeoutError);
          assert.match(err.message, /shard p1 writer: statement cancelled after the 200 ms/);
          return true;
        },
      );
      const { rows } = await pool.query<{ one: number }>('SELECT 1 AS one');
      assert.equal(rows[0]?.one, 1, 'the connection is usable again');
    });
  });

  describe('transaction pooling safety', () => {
    it('keeps timeouts transaction-local: nothing is left on the session afterwards', async () => {
      await pool.transaction((q) => q.query('SELECT 1'));
      const { rows } = await pool.query<{ s: string }>(`SELECT current_setting('statement_timeout') AS s`);
      assert.equal(rows[0]?.s, '0', 'statement_timeout was SET LOCAL, not SET');
    });

    it('rolls back on error', async () => {
      await pool.query('CREATE TABLE t (v int)');
      await assert.rejects(
        pool.transaction(async (q) => {
          await q.query('INSERT INTO t VALUES (1)');
          throw new Error('boom');
        }),
        /boom/,
      );
      const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM t');
      assert.equal(rows[0]?.n, 0);
    });
  });
});
