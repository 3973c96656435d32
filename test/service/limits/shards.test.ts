/**
 * Limit definitions are tenant data: they live on the tenant's shard only, and `tenants move` carries them
 * (the limit keeps refusing after the move, on every replica).
 */
import assert from 'node:assert/strict';
import pg from 'pg';
import type { Gateway } from '../../../service/src/app.js';
import { startCluster, type Cluster } from '../mcp/support/cluster.js';
import { createTempDatabases, type TempDatabases } from '../data/support/temp-databases.js';
import { admin, rawCall, setLimit } from './support.js';

describe('Limits: definitions on the tenant shard, moved with the tenant', function () {
  this.timeout(60_000);
  let dbs: TempDatabases;
  let cluster: Cluster;
  let a: Gateway;
  let b: Gateway;
  const direct: Record<'a' | 'b', pg.Pool> = {} as Record<'a' | 'b', pg.Pool>;
  let far: { id: string; key: string };

  const rows = async (shard: 'a' | 'b') =>
    (await direct[shard].query<{ name: string }>('SELECT name FROM limits WHERE tenant_id = $1 ORDER BY name', [far.id])).rows.map((r) => r.name);

  before(async () => {
    dbs = await createTempDatabases(['a', 'b'], 'umcp_lim');
    cluster = await startCluster(2, {
      DATABASE_URL: dbs.urls.a!,
      SHARDS: JSON.stringify([{ id: 'b', region: 'far', writerUrl: dbs.urls.b! }]),
      PG_REPLICA_PROBE_MS: '0',
      RATE_LIMIT_PER_MINUTE: '0',
    });
    [a, b] = cluster.replicas as [Gateway, Gateway];
    direct.a = new pg.Pool({ connectionString: dbs.urls.a!, max: 2 });
    direct.b = new pg.Pool({ connectionString: dbs.urls.b!, max: 2 });
    const t = await a.tenants.create({ name: 'far-tenant', toolsets: ['diagnostics'] });
    await direct.a.query(`UPDATE tenants SET home_region = 'far' WHERE id = $1`, [t.id]);
    far = { id: t.id, key: (await a.apiKeys.create(t.id, 'test')).key };
  });
  after(async () => {
    await cluster?.stop();
    await Promise.all(Object.values(direct).map((p) => p.end()));
    await dbs?.drop();
  });

  it("stores a far tenant's limits on its shard only, and a move carries them", async () => {
    await setLimit(a, 'far-tenant', 'echo-two', { tool: 'diagnostics.echo', rate: '2/60s' });
    assert.deepEqual(await rows('b'), ['echo-two']);
    assert.deepEqual(await rows('a'), [], 'not in the control database');
    for (let i = 0; i < 2; i++) assert.equal((await rawCall(b.mcpUrl, far.key, 'diagnostics.echo', { text: 'x' })).error, undefined);

    const moved = await admin(b, 'POST', '/tenants/far-tenant/move', { toShard: 'default' });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.deepEqual(await rows('a'), ['echo-two']);
    assert.deepEqual(await rows('b'), [], 'purged from the source');
    // The counter is in Redis, not on a shard: the limit is still full after the move.
    const r = await rawCall(a.mcpUrl, far.key, 'diagnostics.echo', { text: 'x' });
    assert.equal(r.error?.data.limit, 'echo-two');
    // A change after the move lands on the new shard.
    await setLimit(b, 'far-tenant', 'echo-two', { tool: 'diagnostics.echo', rate: '5/60s' });
    assert.equal((await direct.a.query('SELECT max_count FROM limits WHERE tenant_id = $1', [far.id])).rows[0]?.max_count, 5);
    assert.equal((await rawCall(b.mcpUrl, far.key, 'diagnostics.echo', { text: 'x' })).error, undefined);
  });
});
