/**
 * Tenant-defined limits end to end on two gateway replicas sharing one PostgreSQL and one Redis: per-tool,
 * per-key, per-user limits and daily quotas on tools/call (JSON-RPC -32029 naming the limit) in both
 * protocol eras, request limits on HTTP (429 + Retry-After), check-then-consume (a refused call consumes
 * nothing), one Redis round trip per call, a change reaching the other replica within 1 s, metrics.
 */
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { testServiceUrls } from '../../support/platform-db.js';
import { countRedisRoundTrips } from '../../support/redis-round-trips.js';
import { startCluster, type Cluster, type TestTenant } from '../mcp/support/cluster.js';
import { call } from '../mcp/support/rpc.js';
import { admin, rawCall, sdkClient, secondsToUtcMidnight, setLimit, tryCall } from './support.js';

const LIMIT_CODE = -32029;

describe('Limits: two replicas, both protocol eras', function () {
  this.timeout(60_000);
  let cluster: Cluster;
  let a: string;
  let b: string;
  let acme: TestTenant;

  const newKey = async (name: string) => {
    const { key, record } = await cluster.replicas[0]!.apiKeys.create(acme.id, name);
    return { key, id: record.id };
  };

  before(async () => {
    // The tenant-wide RATE_LIMIT_PER_MINUTE stays out of the way of these counts.
    cluster = await startCluster(2, { RATE_LIMIT_PER_MINUTE: '0' });
    [a, b] = cluster.replicas.map((r) => r.mcpUrl) as [string, string];
    acme = await cluster.tenant('acme', ['conformance', 'diagnostics']);
  });
  after(async () => cluster?.stop());

  describe('tools/call', () => {
    it('refuses exactly past N when calls of one tool are split across both replicas, naming the limit', async () => {
      const limit = await setLimit(cluster.replicas[0]!, 'acme', 'echo-rate', { tool: 'diagnostics.echo', rate: '5/60s' });
      assert.equal(limit.kind, 'rate');
      assert.equal(limit.windowSeconds, 60);
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => rawCall(i % 2 ? a : b, acme.key, 'diagnostics.echo', { text: `n${i}` })));
      const ok = results.filter((r) => !r.error);
      const refused = results.filter((r) => r.error);
      assert.equal(ok.length, 5, JSON.stringify(results.map((r) => r.error?.message ?? 'ok')));
      assert.equal(refused.length, 7);
      for (const r of refused) {
        assert.equal(r.status, 200, 'a refused call is a JSON-RPC error, not an HTTP one');
        assert.equal(r.error!.code, LIMIT_CODE);
        assert.match(r.error!.message, /Limit "echo-rate" exceeded: 5 per 60 s calls \(rate\); retry after \d+ s/);
        assert.equal(r.error!.data.limit, 'echo-rate');
        assert.equal(r.error!.data.limitId, limit.id);
        assert.equal(r.error!.data.windowSeconds, 60);
        assert.equal(r.error!.data.reason, 'limit-exceeded');
        assert.ok(r.error!.data.retryAfterSeconds >= 1 && r.error!.data.retryAfterSeconds <= 60, `retryAfterSeconds ${r.error!.data.retryAfterSeconds}`);
      }
      // Another tool is not limited by it.
      assert.equal((await rawCall(a, acme.key, 'test_simple_text')).error, undefined);
    });

    it('consumes every matching limit in one Redis round trip per call', async () => {
      await setLimit(cluster.replicas[0]!, 'acme', 'rt-tool', { tool: 'test_image_content', rate: '100/60s' });
      await setLimit(cluster.replicas[0]!, 'acme', 'rt-user', { tool: 'test_*', per: ['user'], rate: '100/60s' });
      await setLimit(cluster.replicas[0]!, 'acme', 'rt-quota', { tool: 'test_image_content', quota: '1000/day' });
      assert.equal((await rawCall(a, acme.key, 'test_image_content')).error, undefined, 'warm the definitions cache');
      const counter = countRedisRoundTrips(`${cluster.prefix}lim:`);
      try {
        for (let i = 0; i < 3; i++) assert.equal((await rawCall(a, acme.key, 'test_image_content')).error, undefined);
        assert.equal(counter.roundTrips, 3, counter.describe());
        assert.ok(
          counter.commands.every((c) => c.name === 'evalsha' || c.name === 'eval'),
          counter.describe(),
        );
      } finally {
        counter.stop();
      }
      for (const n of ['rt-tool', 'rt-user', 'rt-quota']) assert.equal((await admin(cluster.replicas[0]!, 'DELETE', `/tenants/acme/limits/${n}`)).status, 204);
    });

    it('per key: a 2026-07-28 client (versionNegotiation auto) of that key is refused, another key is not', async () => {
      const k1 = await newKey('k1');
      const k2 = await newKey('k2');
      await setLimit(cluster.replicas[1]!, 'acme', 'k1-rate', { key: k1.id, rate: '2/60s' });
      const c1 = await sdkClient(a, k1.key, 'auto');
      const c2 = await sdkClient(b, k2.key, 'auto');
      try {
        assert.equal(c1.getNegotiatedProtocolVersion(), '2026-07-28');
        assert.deepEqual(await tryCall(c1, 'test_simple_text'), { ok: true });
        assert.deepEqual(await tryCall(c1, 'test_image_content'), { ok: true });
        const refused = await tryCall(c1, 'test_simple_text');
        assert.equal(refused.ok, false);
        assert.ok(!refused.ok && refused.code === LIMIT_CODE && refused.data.limit === 'k1-rate', JSON.stringify(refused));
        for (let i = 0; i < 4; i++) assert.deepEqual(await tryCall(c2, 'test_simple_text'), { ok: true });
      } finally {
        await c1.close();
        await c2.close();
      }
    });

    it('per user: each caller of a 2025-11-25 session gets its own counter', async () => {
      await setLimit(cluster.replicas[0]!, 'acme', 'per-user-audio', { tool: 'test_audio_content', per: ['user'], rate: '3/60s' });
      const u1 = await newKey('u1');
      const u2 = await newKey('u2');
      const s1 = await sdkClient(a, u1.key, 'legacy');
      const s2 = await sdkClient(b, u2.key, 'legacy');
      try {
        assert.equal(s1.getNegotiatedProtocolVersion(), '2025-11-25');
        for (let i = 0; i < 3; i++) assert.deepEqual(await tryCall(s1, 'test_audio_content'), { ok: true });
        const refused = await tryCall(s1, 'test_audio_content');
        assert.ok(!refused.ok && refused.code === LIMIT_CODE, JSON.stringify(refused));
        assert.ok(!refused.ok && refused.data.limit === 'per-user-audio' && refused.data.retryAfterSeconds <= 60);
        assert.match(!refused.ok ? refused.message : '', /per-user-audio/);
        for (let i = 0; i < 3; i++) assert.deepEqual(await tryCall(s2, 'test_audio_content'), { ok: true }, 'the other user has its own counter');
      } finally {
        await s1.close();
        await s2.close();
      }
      const usage = (await admin(cluster.replicas[1]!, 'GET', '/tenants/acme/limits/usage')).body.usage as any[];
      const rows = usage.filter((u) => u.limit === 'per-user-audio');
      assert.deepEqual(rows.map((u) => `${u.bucket.user}=${u.used}`).sort(), [`key:${u1.id}=3`, `key:${u2.id}=3`].sort());
    });

    it('a daily quota refuses with the seconds to the next UTC midnight', async () => {
      await setLimit(cluster.replicas[0]!, 'acme', 'daily-embedded', { tool: 'test_embedded_resource', quota: '2/day' });
      for (let i = 0; i < 2; i++) assert.equal((await rawCall(i ? a : b, acme.key, 'test_embedded_resource')).error, undefined);
      const r = await rawCall(a, acme.key, 'test_embedded_resource');
      assert.equal(r.error?.code, LIMIT_CODE);
      assert.equal(r.error?.data.kind, 'quota');
      assert.equal(r.error?.data.windowSeconds, 86_400);
      assert.ok(Math.abs(r.error!.data.retryAfterSeconds - secondsToUtcMidnight()) <= 2, `${r.error!.data.retryAfterSeconds} vs ${secondsToUtcMidnight()}`);
      assert.match(r.error!.message, /2 per UTC day calls \(quota\)/);
    });

    it('a refused call consumes no other limit (check, then consume)', async () => {
      await setLimit(cluster.replicas[0]!, 'acme', 'multi-tight', { tool: 'test_multiple_content_types', rate: '1/60s' });
      await setLimit(cluster.replicas[0]!, 'acme', 'multi-loose', { tool: 'test_multiple_*', rate: '100/60s' });
      await setLimit(cluster.replicas[0]!, 'acme', 'multi-quota', { tool: 'test_multiple_content_types', quota: '100/day' });
      assert.equal((await rawCall(a, acme.key, 'test_multiple_content_types')).error, undefined);
      for (let i = 0; i < 3; i++) assert.equal((await rawCall(i % 2 ? a : b, acme.key, 'test_multiple_content_types')).error?.data.limit, 'multi-tight');
      const usage = (await admin(cluster.replicas[0]!, 'GET', '/tenants/acme/limits/usage')).body.usage as any[];
      const used = Object.fromEntries(usage.filter((u) => u.limit.startsWith('multi-')).map((u) => [u.limit, u.used]));
      assert.deepEqual(used, { 'multi-loose': 1, 'multi-quota': 1, 'multi-tight': 1 });
    });

    it('a log-only limit lets calls past it through and counts them', async () => {
      await setLimit(cluster.replicas[0]!, 'acme', 'observe', { tool: 'test_error_handling', rate: '1/60s', action: 'log' });
      for (let i = 0; i < 3; i++) assert.equal((await rawCall(a, acme.key, 'test_error_handling')).error, undefined);
      const metrics = await (await fetch(`${cluster.replicas[0]!.url}/metrics`)).text();
      assert.match(metrics, /umcp_limit_refusals_total\{[^}]*limit="observe"[^}]*action="log"[^}]*\} 2/);
    });

    it('a changed limit takes effect on the other replica within 1 s', async () => {
      await setLimit(cluster.replicas[0]!, 'acme', 'changing', { tool: 'test_simple_text', rate: '100/60s' });
      for (let i = 0; i < 2; i++) assert.equal((await rawCall(b, acme.key, 'test_simple_text')).error, undefined, 'B has the definitions cached');
      const started = Date.now();
      await setLimit(cluster.replicas[0]!, 'acme', 'changing', { tool: 'test_simple_text', rate: '2/60s' });
      let refusedAfter = -1;
      while (Date.now() - started < 3_000) {
        const r = await rawCall(b, acme.key, 'test_simple_text');
        if (r.error?.data?.limit === 'changing') {
          refusedAfter = Date.now() - started;
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(refusedAfter >= 0 && refusedAfter < 1_000, `refused ${refusedAfter} ms after the change`);
      console.log(`      (the change refused calls on the other replica ${refusedAfter} ms after the PUT answered)`);
      // Deleting it on B lifts it on A at once too.
      assert.equal((await admin(cluster.replicas[1]!, 'DELETE', '/tenants/acme/limits/changing')).status, 204);
      const deadline = Date.now() + 1_000;
      let ok = false;
      while (!ok && Date.now() < deadline) ok = (await rawCall(a, acme.key, 'test_simple_text')).error === undefined;
      assert.ok(ok, 'the deleted limit no longer refuses on A');
    });

    it('exports consumption and refusals per limit, labelled by limit, never by user', async () => {
      const metrics = (await Promise.all(cluster.replicas.map(async (r) => (await fetch(`${r.url}/metrics`)).text()))).join('\n');
      assert.match(metrics, /umcp_limit_consumed_total\{[^}]*limit="echo-rate"[^}]*kind="rate"[^}]*\} \d+/);
      const refusals = [...metrics.matchAll(/umcp_limit_refusals_total\{[^}]*limit="echo-rate"[^}]*action="reject"[^}]*\} (\d+)/g)].map((m) => Number(m[1]));
      assert.equal(
        refusals.reduce((s, n) => s + n, 0),
        7,
        'the 7 refusals of the split run, summed over both replicas',
      );
      const labelNames = new Set(
        [...metrics.matchAll(/^umcp_limit_[a-z_]+\{([^}]*)\}/gm)].flatMap((m) => [...m[1]!.matchAll(/([a-z_]+)="/g)].map((l) => l[1])),
      );
      assert.deepEqual([...labelNames].sort(), ['action', 'kind', 'limit', 'limit_id', 'region'], 'bounded labels: no user, key or tool values');
    });

    it('call_tool (tool search) counts once, as the tool it names: a per-key and a per-tool limit see one call each', async () => {
      const searcher = await cluster.tenant('searcher', ['diagnostics', 'search']);
      const { key, record } = await cluster.replicas[0]!.apiKeys.create(searcher.id, 'searcher limited');
      await setLimit(cluster.replicas[0]!, 'searcher', 'key-rate', { key: record.id, rate: '3/60s' });
      await setLimit(cluster.replicas[0]!, 'searcher', 'echo-rate', { tool: 'diagnostics.echo', rate: '2/60s' });
      const via = (i: number) => rawCall(i % 2 ? a : b, key, 'call_tool', { name: 'diagnostics.echo', arguments: { text: `n${i}` } });
      assert.equal((await via(0)).error, undefined);
      assert.equal((await via(1)).error, undefined);
      const third = await via(2);
      assert.equal(third.error?.code, LIMIT_CODE);
      assert.equal(third.error?.data?.limit, 'echo-rate', "the named tool's limit refuses, not a doubled key count");
      assert.equal((await rawCall(a, key, 'diagnostics.sleep', { ms: 1 })).error, undefined, 'the key has used 2 of its 3 calls');
      assert.equal((await rawCall(b, key, 'diagnostics.sleep', { ms: 1 })).error?.data?.limit, 'key-rate');
    });
  });

  describe('HTTP requests', () => {
    it('answers 429 with Retry-After and a JSON-RPC error naming the request limit', async () => {
      const k = await newKey('http');
      await setLimit(cluster.replicas[0]!, 'acme', 'key-requests', { appliesTo: 'requests', key: k.id, rate: '3/60s' });
      for (let i = 0; i < 3; i++) assert.equal((await call(i % 2 ? a : b, k.key, 'tools/list')).status, 200);
      const refused = await call(b, k.key, 'tools/list');
      assert.equal(refused.status, 429);
      const retryAfter = Number(refused.res.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
      assert.equal(refused.message.error?.code, LIMIT_CODE);
      assert.equal(refused.message.error?.data.limit, 'key-requests');
      assert.equal(refused.message.error?.data.retryAfterSeconds, retryAfter);
      assert.match(refused.message.error?.message ?? '', /Limit "key-requests" exceeded: 3 per 60 s requests/);
      assert.equal((await call(b, acme.key, 'tools/list')).status, 200, 'another key is not limited');
    });

    it('a daily request quota answers Retry-After = seconds to the next UTC midnight', async () => {
      const k = await newKey('http-quota');
      await setLimit(cluster.replicas[1]!, 'acme', 'key-quota', { appliesTo: 'requests', key: k.id, quota: '1/day' });
      assert.equal((await call(a, k.key, 'tools/list')).status, 200);
      const refused = await call(b, k.key, 'tools/list');
      assert.equal(refused.status, 429);
      assert.ok(Math.abs(Number(refused.res.headers.get('retry-after')) - secondsToUtcMidnight()) <= 2);
    });

    it('a counter Redis cannot serve: a request rate fails open, a request quota answers 503 + Retry-After', async () => {
      const k = await newKey('http-broken');
      const rate = await setLimit(cluster.replicas[0]!, 'acme', 'broken-rate', { appliesTo: 'requests', key: k.id, rate: '1/60s' });
      const quota = await setLimit(cluster.replicas[0]!, 'acme', 'broken-quota', { appliesTo: 'requests', key: k.id, quota: '100/day' });
      // A counter of the wrong type makes Redis fail the script (WRONGTYPE): the counters are unavailable.
      const redis = new Redis(testServiceUrls().redisUrl);
      const day = new Date().toISOString().slice(0, 10);
      try {
        await redis.hset(`${cluster.prefix}lim:${acme.id}:${quota.id}:d${day}:all`, 'broken', '1');
        const refused = await call(a, k.key, 'tools/list');
        assert.equal(refused.status, 503);
        const retryAfter = Number(refused.res.headers.get('retry-after'));
        assert.ok(retryAfter >= 1 && retryAfter <= 5, `Retry-After ${retryAfter}`);
        assert.equal(refused.message.error?.code, LIMIT_CODE);
        assert.equal(refused.message.error?.data.reason, 'counters-unavailable');
        assert.equal(refused.message.error?.data.limit, 'broken-quota');
        assert.equal((await admin(cluster.replicas[0]!, 'DELETE', '/tenants/acme/limits/broken-quota')).status, 204);
        await redis.hset(`${cluster.prefix}lim:${acme.id}:${rate.id}:r60:all`, 'broken', '1');
        for (let i = 0; i < 3; i++) assert.equal((await call(b, k.key, 'tools/list')).status, 200, 'the rate fails open (1/60s would refuse the second)');
        const metrics = await (await fetch(`${cluster.replicas[1]!.url}/metrics`)).text();
        assert.match(metrics, /umcp_limit_counter_errors_total\{[^}]*kind="rate"[^}]*outcome="allowed"[^}]*\} 3/);
      } finally {
        redis.disconnect();
      }
    });
  });
});
