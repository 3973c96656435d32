/**
 * Limits on federated tools, two replicas: a 2026-07-28 caller's call of a 2026-07-28 upstream's tool
 * (the pass-through path, bytes to the upstream) and a 2025-11-25 session's call of the same tool (pooled
 * SDK client) consume one shared counter; the refused call never reaches the upstream.
 */
import assert from 'node:assert/strict';
import { METRICS } from '../../../contract/index.js';
import { startCluster, type Cluster } from '../federation/support/gateway.js';
import { startLegacyUpstream, startModernUpstream, type UpstreamFixture } from '../federation/support/upstream-fixtures.js';
import { call } from '../mcp/support/rpc.js';
import { rawCall, setLimit, tryCall } from './support.js';

describe('Limits: federated tools (pass-through and 2025-era sessions)', function () {
  this.timeout(60_000);
  let cluster: Cluster;
  let modern: UpstreamFixture;
  let legacy: UpstreamFixture;
  let apiKey: string;

  const passedThrough = async (i: number) => {
    const metrics = await (await fetch(`${cluster.gateways[i]!.url}/metrics`)).text();
    const line = metrics.split('\n').find((l) => l.startsWith(METRICS.toolCallsPassedThrough));
    return Number(line?.split(' ').at(-1) ?? 0);
  };

  before(async () => {
    [cluster, modern, legacy] = await Promise.all([startCluster(2), startModernUpstream('m'), startLegacyUpstream('l')]);
    ({ apiKey } = await cluster.tenant('acme', ['diagnostics']));
    assert.equal((await cluster.admin('POST', '/tenants/acme/upstreams', { name: 'mod', url: modern.url })).status, 201);
    assert.equal((await cluster.admin('POST', '/tenants/acme/upstreams', { name: 'leg', url: legacy.url })).status, 201);
  });
  after(async () => {
    await cluster?.stop();
    await modern?.close();
    await legacy?.close();
  });

  it('counts pass-through and 2025-era calls of one upstream on one counter; a refused call never reaches it', async () => {
    await setLimit(cluster.gateways[1]!, 'acme', 'mod-tools', { tool: 'mod__*', rate: '3/60s' });
    const [a, b] = cluster.gateways.map((g) => g.mcpUrl) as [string, string];
    // A listing connects the upstream on A (a call of a connected 2026-07-28 upstream is passed through).
    assert.equal((await call(a, apiKey, 'tools/list')).status, 200);
    const before = await passedThrough(0);
    assert.equal((await rawCall(a, apiKey, 'mod__echo', { text: 'one' })).error, undefined);
    assert.equal((await rawCall(a, apiKey, 'mod__echo', { text: 'two' })).error, undefined);
    assert.equal((await passedThrough(0)) - before, 2, 'the modern calls took the pass-through path');
    const session = await cluster.client(apiKey, 'legacy', 1);
    assert.equal(session.getNegotiatedProtocolVersion(), '2025-11-25');
    assert.deepEqual(await tryCall(session, 'mod__echo', { text: 'three' }), { ok: true });

    const seen = modern.seen.requests;
    const passThroughRefused = await rawCall(a, apiKey, 'mod__echo', { text: 'four' });
    assert.equal(passThroughRefused.error?.code, -32029);
    assert.equal(passThroughRefused.error?.data.limit, 'mod-tools');
    const sessionRefused = await tryCall(session, 'mod__echo', { text: 'five' });
    assert.ok(!sessionRefused.ok && sessionRefused.code === -32029 && sessionRefused.data.limit === 'mod-tools', JSON.stringify(sessionRefused));
    assert.equal(modern.seen.requests, seen, 'the refused calls did not reach the upstream');

    // Another upstream's tools are not selected by the glob.
    assert.equal((await rawCall(b, apiKey, 'leg__echo', { text: 'x' })).error, undefined);
  });
});
