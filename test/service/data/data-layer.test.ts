/**
 * createPgDataLayer: the default shard adopts the process's writer pool, configured shards are registered
 * without passwords, pool sizes are derived from max_connections, and tenant work is routed.
 */
import assert from 'node:assert/strict';
import pg from 'pg';
import { Registry } from 'prom-client';
import type { z } from 'zod';
import {
  createPgDataLayer,
  RoutingConfigSchema,
  shardAdminRoute,
  withoutPassword,
  type PgDataLayer,
  type ShardAdminContext,
} from '../../../service/src/store/pg/routing/index.js';
import type { Tenant } from '../../../service/src/store/ports.js';
import { createTempDatabases, type TempDatabases } from './support/temp-databases.js';

describe('createPgDataLayer', function () {
  this.timeout(30_000);
  let dbs: TempDatabases;
  let writerPool: pg.Pool;
  let layer: PgDataLayer | undefined;

  before(async () => {
    dbs = await createTempDatabases(['main', 'second']);
    writerPool = new pg.Pool({ connectionString: dbs.urls.main!, max: 3 });
  });
  after(async () => {
    await layer?.close();
    await writerPool?.end();
    await dbs?.drop();
  });

  it('parses routing keys with clear errors', () => {
    assert.deepEqual(RoutingConfigSchema.parse({}).DATABASE_READER_URLS, []);
    const bad = RoutingConfigSchema.safeParse({ SHARDS: '[{"id":"Bad Id"}]', DATABASE_READER_URLS: 'mysql://x' });
    assert.equal(bad.success, false);
    const paths = bad.error!.issues.map((i) => i.path.join('.'));
    assert.ok(paths.includes('DATABASE_READER_URLS.0'), paths.join(','));
    assert.ok(
      paths.some((p) => p.startsWith('SHARDS.0')),
      paths.join(','),
    );
    assert.equal(withoutPassword('postgres://u:secret@h:5432/db'), 'postgres://u@h:5432/db');
  });

  it('registers the default and configured shards, derives pool sizes and routes tenant work', async () => {
    const second = new URL(dbs.urls.second!);
    second.password = 'not-stored';
    const config = {
      ...RoutingConfigSchema.parse({
        SHARDS: JSON.stringify([{ id: 'second', region: 'us-east-1', writerUrl: second.toString() }]),
        PG_EXPECTED_INSTANCES: '2',
        PG_REPLICA_PROBE_MS: '0',
      }),
      DATABASE_URL: dbs.urls.main!,
      REGION: 'eu-west-1',
      PG_STATEMENT_TIMEOUT_MS: 5_000,
      PG_IDLE_TIMEOUT_MS: 10_000,
      PG_CONNECT_TIMEOUT_MS: 2_000,
    };
    const registry = new Registry();
    layer = await createPgDataLayer({ config, writerPool, registry });
    const { rows: max } = await writerPool.query<{ n: string }>(`SELECT setting AS n FROM pg_settings WHERE name = 'max_connections'`);
    const { rows: res } = await writerPool.query<{ n: string }>(`SELECT setting AS n FROM pg_settings WHERE name = 'superuser_reserved_connections'`);
    assert.equal(layer.poolSizes.reader, Math.max(2, Math.floor(((Number(max[0]!.n) - Number(res[0]!.n)) * 0.8) / 2)));

    const shards = await layer.shardMap.listShards();
    assert.deepEqual(
      shards.map((s) => [s.id, s.region]),
      [
        ['default', 'eu-west-1'],
        ['second', 'us-east-1'],
      ],
    );
    assert.ok(
      shards.every((s) => !s.writerUrl.includes('not-stored')),
      'no password in the shard map',
    );

    const us = await layer.shardMap.place('tenant-us', { region: 'us-east-1' });
    assert.equal(us.shardId, 'second');
    await layer.router.write('tenant-us', async (q) => {
      await q.query('CREATE TABLE IF NOT EXISTS items (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), tenant_id text NOT NULL)');
      await q.query(`INSERT INTO items (tenant_id) VALUES ('tenant-us')`);
    });
    const n = await layer.router.read('tenant-us', async (q) => (await q.query<{ n: number }>('SELECT count(*)::int AS n FROM items')).rows[0]!.n);
    assert.equal(n, 1);
    assert.equal((await layer.router.forTenant('tenant-eu', { region: 'eu-west-1' })).shard, 'default');
    const text = await registry.metrics();
    assert.match(text, /umcp_pg_pool_total\{shard="default",role="writer"\}/);
    assert.match(text, /umcp_pg_pool_total\{shard="second",role="writer"\}/);
  });

  it('serves the admin routes: list shards, show a placement, move a tenant (409 when refused, 404 for an unknown shard)', async () => {
    assert.ok(layer, 'created by the previous test');
    const tenant: Tenant = { id: 'tenant-admin', name: 'admin-demo', status: 'active', toolsets: [], homeRegion: 'eu-west-1', createdAt: new Date() };
    const audited: string[] = [];
    const moved: string[] = [];
    const route = shardAdminRoute(layer, [], (id, to) => void moved.push(`${id}->${to}`));
    const call = async (method: string, path: string, body?: unknown) => {
      const request = new Request(`http://x/admin/v1/${path}`, {
        method,
        ...(body !== undefined && { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
      const ctx: ShardAdminContext = {
        request,
        segments: path.split('/'),
        tenantOf: async (ref) => (ref === tenant.name ? tenant : Promise.reject(new Error(`unknown tenant ${ref}`))),
        body: async <T extends z.ZodType>(r: Request, schema: T) => schema.parse(await r.json()) as z.output<T>,
        audit: async (e) => void audited.push(`${e.action}:${e.target}`),
      };
      const res = await route(ctx);
      return res ? { status: res.status, body: (await res.json()) as Record<string, any> } : undefined;
    };
    const shards = await call('GET', 'shards');
    assert.equal(shards?.status, 200);
    assert.deepEqual(
      shards?.body.shards.map((s: { id: string }) => s.id),
      ['default', 'second'],
    );
    const placement = await call('GET', 'tenants/admin-demo/shard');
    assert.equal(placement?.body.placement.shardId, 'default', 'placed in its home region');
    const move = await call('POST', 'tenants/admin-demo/move', { toShard: 'second' });
    assert.equal(move?.status, 200, JSON.stringify(move?.body));
    assert.equal(move?.body.move.to, 'second');
    assert.deepEqual(moved, ['tenant-admin->second']);
    assert.equal((await call('GET', 'tenants/admin-demo/shard'))?.body.placement.shardId, 'second');
    const again = await call('POST', 'tenants/admin-demo/move', { toShard: 'second' });
    assert.equal(again?.status, 409);
    assert.match(again?.body.error.message, /already on shard second/);
    assert.equal((await call('POST', 'tenants/admin-demo/move', { toShard: 'nowhere' }))?.status, 404);
    assert.equal(await call('GET', 'tenants/admin-demo/upstreams'), undefined, 'other paths are left to other routes');
    assert.deepEqual(audited, ['tenant.move:second', 'tenant.move:second']);
  });
});
