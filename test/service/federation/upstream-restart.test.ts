/**
 * An upstream process restarted under the gateway (issue 18): server-everything, a real 2025-era
 * upstream process, is killed and started again on the same port, so the gateway's pooled upstream
 * session is gone (server-everything answers such a session with HTTP 400 "Bad Request: No valid session
 * ID provided"; other servers answer 404). The next call re-initialises the upstream session and succeeds
 * on the first try, the breaker stays closed, and `upstreams show` never reports `connected: true` next to
 * an open breaker.
 */
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/client';
import { startCluster, type Cluster } from './support/gateway.js';
import { startEverythingUpstream, type EverythingUpstream } from './support/everything-upstream.js';

const text = (r: { content?: unknown }) => (r.content as { type: string; text?: string }[])[0]?.text ?? '';

describe('federation: an upstream process restarted under the gateway', function () {
  this.timeout(60_000);
  let cluster: Cluster;
  let everything: EverythingUpstream;
  let apiKey: string;

  before(async () => {
    // Threshold 1: a single counted failure would open the breaker, so the test sees any that is counted.
    // One after the other: a failed start must not leave the other's process behind for after() to miss.
    everything = await startEverythingUpstream();
    cluster = await startCluster(1, { UPSTREAM_BREAKER_THRESHOLD: '1', UPSTREAM_HALF_OPEN_MS: '10000' });
    ({ apiKey } = await cluster.tenant('restartco', ['diagnostics']));
    const r = await cluster.admin('POST', '/tenants/restartco/upstreams', { name: 'ev', url: everything.url });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  });
  after(async () => {
    await cluster?.stop();
    await everything?.close();
  });

  const health = async () => (await cluster.admin('GET', '/tenants/restartco/upstreams/ev')).body.upstream.health;

  for (const era of ['modern', 'legacy'] as const) {
    it(`${era === 'modern' ? 'a 2026-07-28' : 'a 2025-era'} caller's first call after the restart succeeds; the breaker stays closed`, async () => {
      const client: Client = await cluster.client(apiKey, era);
      assert.equal(text(await client.callTool({ name: 'ev__echo', arguments: { message: 'before' } })), 'Echo: before');
      await everything.restart();
      const started = Date.now();
      assert.equal(text(await client.callTool({ name: 'ev__echo', arguments: { message: 'after' } })), 'Echo: after');
      assert.ok(Date.now() - started < 3_000, `recovered in ${Date.now() - started} ms`);
      const h = await health();
      assert.equal(h.state, 'closed', JSON.stringify(h));
      assert.equal(h.connected, true, JSON.stringify(h));
      assert.equal(h.lastError, undefined, JSON.stringify(h));
      // A list (idempotent) right after another restart also recovers transparently.
      await everything.restart();
      assert.ok((await client.listTools()).tools.some((t) => t.name === 'ev__echo'));
      assert.equal((await health()).state, 'closed');
    });
  }

  it('an open breaker is never shown as connected', async () => {
    const client = await cluster.client(apiKey, 'modern');
    assert.equal(text(await client.callTool({ name: 'ev__echo', arguments: { message: 'x' } })), 'Echo: x');
    await everything.close(); // the proxy and the process: nothing answers on the registered URL
    try {
      await assert.rejects(client.callTool({ name: 'ev__echo', arguments: { message: 'y' } }), /upstream "ev"/);
      const h = await health();
      assert.equal(h.state, 'open', JSON.stringify(h));
      assert.equal(h.connected, false, JSON.stringify(h));
      assert.ok(h.lastError, JSON.stringify(h));
    } finally {
      everything = await startEverythingUpstream(); // a fresh one for after(); the registration is not reused
    }
  });
});
