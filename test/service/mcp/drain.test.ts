/**
 * Graceful shutdown of the MCP endpoint: drain() ends open subscriptions/listen streams with an SSE
 * retry hint (clients reconnect elsewhere) and refuses new requests with 503 + Retry-After.
 */
import assert from 'node:assert/strict';
import { startCluster, type Cluster, type TestTenant } from './support/cluster.js';
import { call, listen } from './support/rpc.js';

describe('MCP endpoint: drain', function () {
  this.timeout(30_000);
  let cluster: Cluster;
  let tenant: TestTenant;

  before(async () => {
    cluster = await startCluster(1, { SSE_RETRY_MS: '1500' });
    tenant = await cluster.tenant('drain', ['conformance']);
  });
  after(async () => cluster?.stop());

  it('closes listen streams with a retry hint, then refuses new work', async () => {
    const url = cluster.replicas[0]!.mcpUrl;
    const stream = await listen(url, tenant.key, { toolsListChanged: true });
    assert.equal((await stream.next())?.method, 'notifications/subscriptions/acknowledged');
    // A second, raw listener lets the test read the stream's last bytes (the retry hint).
    const raw = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'subscriptions/listen',
        authorization: `Bearer ${tenant.key}`,
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 99,
        method: 'subscriptions/listen',
        params: {
          notifications: { toolsListChanged: true },
          _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} },
        },
      }),
    });
    assert.equal(raw.status, 200);
    const reader = raw.body!.pipeThrough(new TextDecoderStream()).getReader();
    let tail = '';
    while (!tail.includes('notifications/subscriptions/acknowledged')) {
      const { value, done } = await reader.read();
      assert.ok(!done, 'stream ended before its acknowledgement');
      tail += value;
    }
    await cluster.replicas[0]!.drain();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      tail += value;
    }
    assert.match(tail, /^retry: 1500$/m, 'the stream ends with an SSE retry hint');
    assert.equal(await stream.next(2000), undefined, 'the first stream ended too');

    const refused = await call(url, tenant.key, 'tools/list');
    assert.equal(refused.status, 503);
    assert.ok(refused.res.headers.get('retry-after'));
  });
});
