/**
 * The data layer inside real gateways: two replicas on one database and Redis, plus a second shard.
 * A key revoked through replica A's admin API stops working on replica B within 1 s (cached lookup,
 * pub/sub invalidation); pool gauges carry shard+role; `tenants move` works through the admin API and
 * the CLI verb.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Gateway } from '../../../service/src/app.js';
import { startCluster, type Cluster } from '../mcp/support/cluster.js';
import { createTempDatabases, type TempDatabases } from './support/temp-databases.js';

const run = promisify(execFile);

describe('data layer in the gateway (two replicas, two shards)', function () {
  this.timeout(60_000);
  let cluster: Cluster | undefined;
  let second: TempDatabases | undefined;
  let a: Gateway;
  let b: Gateway;

  const admin = (g: Gateway, method: string, path: string, body?: unknown) =>
    fetch(`${g.url}/admin/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${g.config.ADMIN_TOKEN}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  const mcp = (g: Gateway, key: string) =>
    fetch(g.mcpUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    }).then(async (r) => (await r.body?.cancel(), r.status));

  before(async () => {
    second = await createTempDatabases(['shard2']);
    cluster = await startCluster(2, {
      SHARDS: JSON.stringify([{ id: 'second', region: 'elsewhere', writerUrl: second.urls.shard2 }]),
      PG_REPLICA_PROBE_MS: '0',
    });
    [a, b] = cluster.replicas as [Gateway, Gateway];
  });
  after(async () => {
    await cluster?.stop();
    await second?.drop();
  });

  it('a key revoked through replica A stops working on replica B within 1 s', async () => {
    const t = await cluster!.tenant('revoke-me', ['platform']);
    assert.notEqual(await mcp(b, t.key), 401, 'the key works on B (and is now cached there)');
    assert.notEqual(await mcp(b, t.key), 401);
    const [key] = await a.apiKeys.list(t.id);
    const t0 = Date.now();
    assert.equal((await admin(a, 'DELETE', `/tenants/${t.name}/keys/${key!.id}`)).status, 204);
    for (;;) {
      if ((await mcp(b, t.key)) === 401) break;
      assert.ok(Date.now() - t0 < 1_000, 'still accepted on B after 1 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    console.log(`      revoked key refused by replica B ${Date.now() - t0} ms after the admin call on A`);
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    assert.match(metrics, /umcp_pg_pool_total\{shard="default",role="writer",region="local"\} \d+/);
    assert.match(metrics, /umcp_cache_requests_total\{cache="apikey.v1",result="(lru_hit|redis_hit)",region="local"\} [1-9]/);
  });

  it('lists shards and moves a tenant through the admin API; the CLI verb moves it back', async () => {
    const t = await cluster!.tenant('mover', ['platform']);
    const shards = (await (await admin(a, 'GET', '/shards')).json()) as { shards: { id: string }[] };
    assert.deepEqual(shards.shards.map((s) => s.id).sort(), ['default', 'second']);
    const placed = (await (await admin(a, 'GET', `/tenants/${t.name}/shard`)).json()) as { placement: { shardId: string } };
    assert.equal(placed.placement.shardId, 'default', 'region local has the default shard');
    const res = await admin(a, 'POST', `/tenants/${t.name}/move`, { toShard: 'second' });
    assert.equal(res.status, 200, await res.clone().text());
    const moved = (await (await admin(b, 'GET', `/tenants/${t.name}/shard`)).json()) as { placement: { shardId: string } };
    assert.equal(moved.placement.shardId, 'second', 'replica B sees the new placement');
    assert.notEqual(await mcp(b, t.key), 401, 'the tenant keeps working');

    const env = { ...process.env, ADMIN_URL: a.url, ADMIN_TOKEN: a.config.ADMIN_TOKEN! };
    const { stdout } = await run('npx', ['tsx', 'service/src/cli/main.ts', 'tenants', 'move', t.name, '--to', 'default'], { env, cwd: process.cwd() });
    assert.match(stdout, /^moved mover from second to default in \d+ ms \(writes frozen \d+ ms/);
    const list = await run('npx', ['tsx', 'service/src/cli/main.ts', 'shards', 'list'], { env, cwd: process.cwd() });
    assert.match(list.stdout, /^default\tlocal\t\d+ tenant\(s\)/m);
    await assert.rejects(
      run('npx', ['tsx', 'service/src/cli/main.ts', 'tenants', 'move', t.name], { env, cwd: process.cwd() }),
      (err: { code?: number; stderr?: string }) => err.code === 2 && /--to <shard>/.test(err.stderr ?? ''),
    );
  });
});
