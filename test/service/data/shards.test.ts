/**
 * Shard map, placement policy, router and tenant move, with 2 shards = 2 real databases (plus a control
 * database) on the test PostgreSQL, and writes running during the move.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { TenantMoveError } from '../../../service/src/store/pg/routing/errors.js';
import { RolePool } from '../../../service/src/store/pg/routing/role-pool.js';
import { choosePlacement, ShardMap } from '../../../service/src/store/pg/routing/shard-map.js';
import { ShardRouter } from '../../../service/src/store/pg/routing/shard-router.js';
import { moveTenant } from '../../../service/src/store/pg/routing/tenant-move.js';
import { createTempDatabases, type TempDatabases } from './support/temp-databases.js';

const NOTES = `CREATE TABLE notes (
  id uuid PRIMARY KEY, tenant_id text NOT NULL, seq integer NOT NULL, body text NOT NULL,
  meta jsonb, at timestamptz NOT NULL DEFAULT clock_timestamp())`;
const TABLES = [{ name: 'notes', tenantColumn: 'tenant_id', key: ['id'] }];

describe('shards', function () {
  this.timeout(60_000);
  let dbs: TempDatabases;
  let control: RolePool;
  let router: ShardRouter;
  const direct: Record<string, RolePool> = {};

  const newRouter = (control: RolePool) => new ShardRouter({ shardMap: new ShardMap(control, { cacheTtlMs: 60_000 }), probeIntervalMs: 0 });
  const count = async (shard: 'a' | 'b', tenant: string) =>
    (await direct[shard]!.query<{ n: number }>('SELECT count(*)::int AS n FROM notes WHERE tenant_id = $1', [tenant])).rows[0]!.n;

  before(async () => {
    dbs = await createTempDatabases(['ctl', 'a', 'b']);
    control = new RolePool({ shard: 'control', role: 'writer', connectionString: dbs.urls.ctl!, max: 3 });
    for (const s of ['a', 'b'] as const) {
      direct[s] = new RolePool({ shard: s, role: 'writer', connectionString: dbs.urls[s]!, max: 2 });
      await direct[s].query(NOTES);
    }
    router = newRouter(control);
    await router.shardMap.init();
    await router.shardMap.registerShard({ id: 'a', region: 'eu', writerUrl: dbs.urls.a! });
    await router.shardMap.registerShard({ id: 'b', region: 'us', writerUrl: dbs.urls.b! });
  });

  after(async () => {
    await router?.close();
    await control?.close();
    for (const p of Object.values(direct)) await p.close();
    await dbs?.drop();
  });

  describe('placement', () => {
    it("prefers the tenant's region, then the least loaded shard", async () => {
      assert.equal(
        choosePlacement(
          [
            { id: 'a', region: 'eu', tenants: 5 },
            { id: 'b', region: 'us', tenants: 1 },
          ],
          'eu',
        ),
        'a',
      );
      assert.equal(
        choosePlacement(
          [
            { id: 'a', region: 'eu', tenants: 5 },
            { id: 'b', region: 'us', tenants: 1 },
          ],
          'ap',
        ),
        'b',
      );
      assert.equal(
        choosePlacement(
          [
            { id: 'a', region: 'eu', tenants: 2 },
            { id: 'b', region: 'eu', tenants: 2 },
          ],
          null,
        ),
        'a',
      );
      assert.throws(() => choosePlacement([], null), /no shard accepts new tenants/);

      const eu = await router.shardMap.place('tenant-eu', { region: 'eu' });
      assert.equal(eu.shardId, 'a');
      const next = await router.shardMap.place('tenant-any');
      assert.equal(next.shardId, 'b', 'b has fewer tenants');
      assert.equal((await router.shardMap.place('tenant-any', { region: 'eu' })).shardId, 'b', 'placement is sticky');
      assert.deepEqual(await router.shardMap.load(), { a: 1, b: 1 });
    });
  });

  describe('router', () => {
    it("runs tenant-scoped writes and reads on the tenant's shard only", async () => {
      await router.write('tenant-eu', (q) =>
        q.query('INSERT INTO notes (id, tenant_id, seq, body) VALUES ($1, $2, 0, $3)', [randomUUID(), 'tenant-eu', 'hello']),
      );
      const n = await router.read(
        'tenant-eu',
        async (q) => (await q.query<{ n: number }>('SELECT count(*)::int AS n FROM notes WHERE tenant_id = $1', ['tenant-eu'])).rows[0]!.n,
      );
      assert.equal(n, 1);
      assert.equal(await count('a', 'tenant-eu'), 1);
      assert.equal(await count('b', 'tenant-eu'), 0);
    });
  });

  describe('tenants move', () => {
    it('moves a tenant with writes running during the move and loses none', async () => {
      const tenant = 'tenant-big';
      assert.equal((await router.shardMap.place(tenant, { region: 'eu' })).shardId, 'a');
      await direct.a!.query(
        `INSERT INTO notes (id, tenant_id, seq, body, meta) SELECT gen_random_uuid(), $1, -g, md5(g::text), jsonb_build_object('g', g, 'x', 1.000000000000000001)
         FROM generate_series(1, 5000) g`,
        [tenant],
      );
      // A second gateway instance with its own (soon stale) shard-map cache.
      const other = newRouter(control);
      await other.read(tenant, async () => undefined);

      const acked: string[] = [];
      let stop = false;
      let maxWriteMs = 0;
      const writer = async (r: ShardRouter, w: number) => {
        for (let i = 0; !stop; i++) {
          const id = randomUUID();
          const t0 = Date.now();
          await r.write(tenant, (q) =>
            q.query('INSERT INTO notes (id, tenant_id, seq, body) VALUES ($1, $2, $3, $4)', [id, tenant, w * 1_000_000 + i, `w${w}`]),
          );
          maxWriteMs = Math.max(maxWriteMs, Date.now() - t0);
          acked.push(id);
          if (i % 10 === 0) {
            await r.write(tenant, (q) => q.query(`UPDATE notes SET body = body || '+' WHERE id = $1`, [id]));
          }
        }
      };
      const writers = [writer(router, 1), writer(router, 2), writer(other, 3), writer(other, 4)];
      await new Promise((r) => setTimeout(r, 200));
      const before = acked.length;
      const steps: string[] = [];
      const result = await moveTenant({ router, tenantId: tenant, toShard: 'b', tables: TABLES, onProgress: (s) => steps.push(s) });
      const during = acked.length - before;
      await new Promise((r) => setTimeout(r, 200));
      stop = true;
      await Promise.all(writers);

      assert.deepEqual(
        steps.filter((s) => s !== 'caught-up'),
        ['copied', 'frozen', 'verified', 'fenced', 'switched', 'done'],
      );
      assert.equal(result.from, 'a');
      assert.equal(result.to, 'b');
      assert.ok(during > 0, 'writes ran during the move');
      const { rows } = await direct.b!.query<{ id: string }>('SELECT id FROM notes WHERE tenant_id = $1 AND id = ANY($2::uuid[])', [tenant, acked]);
      assert.equal(rows.length, acked.length, 'every acknowledged write is on the target shard');
      assert.equal(await count('b', tenant), 5000 + acked.length);
      assert.equal(await count('a', tenant), 0, 'source rows purged');
      const updated = await direct.b!.query<{ n: number }>(`SELECT count(*)::int AS n FROM notes WHERE tenant_id = $1 AND body LIKE '%+'`, [tenant]);
      assert.ok(updated.rows[0]!.n > 0, 'updates made during the move arrived');
      const meta = await direct.b!.query<{ m: string }>(`SELECT meta::text AS m FROM notes WHERE tenant_id = $1 AND seq = -1`, [tenant]);
      assert.equal(meta.rows[0]?.m, '{"g": 1, "x": 1.000000000000000001}', 'values keep full precision');
      assert.equal((await router.shardMap.placement(tenant))?.shardId, 'b');
      assert.equal(await count('a', 'tenant-eu'), 1, 'other tenants stay');
      console.log(
        `      move: ${result.totalMs} ms total, write freeze ${result.freezeMs} ms, ${result.catchUpPasses} pass(es), ` +
          `${during} writes acknowledged during the move, slowest write ${maxWriteMs} ms`,
      );
      await other.close();
    });

    it('moves a tenant back (the old fence is lifted) and refuses a no-op move', async () => {
      const result = await moveTenant({ router, tenantId: 'tenant-big', toShard: 'a', tables: TABLES });
      assert.equal(result.from, 'b');
      assert.equal(await count('a', 'tenant-big'), result.rows.notes);
      await router.write('tenant-big', (q) =>
        q.query('INSERT INTO notes (id, tenant_id, seq, body) VALUES ($1, $2, 0, $3)', [randomUUID(), 'tenant-big', 'back']),
      );
      assert.equal(await count('a', 'tenant-big'), result.rows.notes! + 1);
      await assert.rejects(
        moveTenant({ router, tenantId: 'tenant-big', toShard: 'a', tables: TABLES }),
        (err: unknown) => err instanceof TenantMoveError && /already on shard a/.test(err.message),
      );
    });

    it('aborts without switching when a row key collides with another tenant on the target', async () => {
      const id = randomUUID();
      await router.write('tenant-eu', (q) => q.query('INSERT INTO notes (id, tenant_id, seq, body) VALUES ($1, $2, 1, $3)', [id, 'tenant-eu', 'mine']));
      await direct.b!.query('INSERT INTO notes (id, tenant_id, seq, body) VALUES ($1, $2, 1, $3)', [id, 'tenant-any', 'theirs']);
      await assert.rejects(moveTenant({ router, tenantId: 'tenant-eu', toShard: 'b', tables: TABLES }), /already belong to another tenant/);
      const p = await control.query<{ shard_id: string; state: string }>('SELECT shard_id, state FROM umcp_tenant_shards WHERE tenant_id = $1', ['tenant-eu']);
      assert.deepEqual(p.rows[0], { shard_id: 'a', state: 'active' });
      assert.equal(await count('b', 'tenant-eu'), 0, 'partial copy removed');
      const theirs = await direct.b!.query<{ body: string }>('SELECT body FROM notes WHERE id = $1', [id]);
      assert.equal(theirs.rows[0]?.body, 'theirs', "the other tenant's row is untouched");
      await router.write('tenant-eu', (q) => q.query(`UPDATE notes SET body = 'still here' WHERE id = $1`, [id]));
    });
  });
});
