/**
 * Resilience: per-upstream timeout, an upstream killed mid-call (clear error within the timeout, breaker
 * opens, the rest of the catalog keeps working, calls succeed again after a restart), health on the
 * admin API and in /metrics, and re-initialisation when a 2025-era upstream lost its session.
 */
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/client';
import { startCluster, type Cluster } from './support/gateway.js';
import { startLegacyUpstream, startModernUpstream, type UpstreamFixture } from './support/upstream-fixtures.js';

const text = (r: { content?: unknown }) => (r.content as { text?: string }[])[0]?.text ?? '';

describe('federation: resilience', function () {
  this.timeout(60_000);
  let cluster: Cluster;
  let flaky: UpstreamFixture;
  let steady: UpstreamFixture;
  let client: Client;

  before(async () => {
    [cluster, flaky, steady] = await Promise.all([
      startCluster(1, { UPSTREAM_BREAKER_THRESHOLD: '2', UPSTREAM_HALF_OPEN_MS: '1000' }),
      startModernUpstream('flaky'),
      startLegacyUpstream('steady'),
    ]);
    const { apiKey } = await cluster.tenant('acme');
    assert.equal(
      (await cluster.admin('POST', '/tenants/acme/upstreams', { name: 'flaky', url: flaky.url, timeouts: { callMs: 1500, connectMs: 1000, listMs: 1000 } }))
        .status,
      201,
    );
    assert.equal((await cluster.admin('POST', '/tenants/acme/upstreams', { name: 'steady', url: steady.url })).status, 201);
    client = await cluster.client(apiKey, 'modern');
  });
  after(async () => {
    await cluster?.stop();
    await Promise.all([flaky?.close(), steady?.close()]);
  });

  it('answers a slow call with a timeout error naming the upstream', async () => {
    const started = Date.now();
    await assert.rejects(client.callTool({ name: 'flaky__slow', arguments: { ms: 10_000 } }), (err: Error & { code?: number }) => {
      assert.match(err.message, /upstream "flaky": no answer within the timeout/);
      assert.equal(err.code, -32051);
      return true;
    });
    assert.ok(Date.now() - started < 3_000, `took ${Date.now() - started} ms`);
  });

  it('survives an upstream killed mid-call: clear error, breaker opens, recovers after restart', async () => {
    assert.equal(text(await client.callTool({ name: 'flaky__echo', arguments: { text: 'up' } })), 'flaky:up');
    const started = Date.now();
    const call = client.callTool({ name: 'flaky__slow', arguments: { ms: 5_000 } });
    await new Promise((r) => setTimeout(r, 200));
    await flaky.close();
    await assert.rejects(call, /upstream "flaky"/);
    const failedAfter = Date.now() - started;
    assert.ok(failedAfter < 1_500 + 500, `error after ${failedAfter} ms, beyond the 1500 ms timeout`);
    if (process.env.FED_REPORT) console.log(`      killed upstream -> client error after ${failedAfter} ms`);

    // Consecutive failures open the breaker; it then fails fast with a message saying so.
    for (let i = 0; i < 3; i++) await client.callTool({ name: 'flaky__echo', arguments: { text: 'x' } }).catch(() => undefined);
    await assert.rejects(client.callTool({ name: 'flaky__echo', arguments: { text: 'x' } }), /upstream "flaky": circuit open/);
    const shown = await cluster.admin('GET', '/tenants/acme/upstreams/flaky');
    assert.equal(shown.body.upstream.health.state, 'open');
    const metrics = await (await fetch(`${cluster.gateways[0]!.url}/metrics`)).text();
    assert.match(metrics, /umcp_upstream_circuit_open\{[^}]*upstream="flaky"[^}]*\} 1/);

    // The rest of the catalog keeps working meanwhile.
    assert.equal(text(await client.callTool({ name: 'steady__echo', arguments: { text: 'ok' } })), 'steady:ok');
    assert.equal(text(await client.callTool({ name: 'diagnostics.echo', arguments: { text: 'own' } })), 'own');

    await flaky.restart();
    const recovered = await (async () => {
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline) {
        try {
          return text(await client.callTool({ name: 'flaky__echo', arguments: { text: 'back' } }));
        } catch {
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      return 'never';
    })();
    assert.equal(recovered, 'flaky:back');
    assert.equal((await cluster.admin('GET', '/tenants/acme/upstreams/flaky')).body.upstream.health.state, 'closed');
  });

  it('lists the live upstreams while one is down', async () => {
    await flaky.close();
    try {
      const fresh = await cluster.client((await cluster.tenant('solo')).apiKey, 'legacy');
      assert.equal((await cluster.admin('POST', '/tenants/solo/upstreams', { name: 'steady', url: steady.url })).status, 201);
      assert.equal(
        (await cluster.admin('POST', '/tenants/solo/upstreams', { name: 'gone', url: flaky.url, timeouts: { connectMs: 500, listMs: 500 } })).status,
        201,
      );
      const names = (await fresh.listTools()).tools.map((t) => t.name);
      assert.ok(names.includes('steady__echo') && names.includes('diagnostics.echo'), names.join(','));
      assert.ok(!names.some((n) => n.startsWith('gone__')));
    } finally {
      await flaky.restart();
    }
  });

  it('re-initialises a 2025-era upstream session the upstream lost', async () => {
    assert.equal(text(await client.callTool({ name: 'steady__echo', arguments: { text: 'a' } })), 'steady:a');
    const before = steady.seen.initializes;
    steady.dropSessions();
    assert.equal(text(await client.callTool({ name: 'steady__echo', arguments: { text: 'b' } })), 'steady:b');
    // A new session was set up (the count includes the version probe, which also carries no session id).
    assert.ok(steady.seen.initializes > before, 'a new upstream session');
  });
});
