/**
 * `@modelcontextprotocol/server-everything` (the reference MCP server from npm) as a real upstream
 * process, registered for a tenant through the admin API: through the gateway its tools are listed
 * namespaced, calls round-trip, progress is relayed, a cancelled call is cancelled upstream, and a
 * resource subscription made through the gateway receives the upstream's updates.
 */
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/client';
import { startCluster, type Cluster } from './support/gateway.js';
import { startEverythingUpstream, type EverythingUpstream } from './support/everything-upstream.js';

const text = (r: { content?: unknown }) => (r.content as { type: string; text?: string }[])[0]?.text ?? '';

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('federation: server-everything as a real upstream process', function () {
  this.timeout(60_000);
  let cluster: Cluster;
  let everything: EverythingUpstream;
  let apiKey: string;

  before(async () => {
    [cluster, everything] = await Promise.all([startCluster(1), startEverythingUpstream()]);
    ({ apiKey } = await cluster.tenant('evco', ['diagnostics']));
    const r = await cluster.admin('POST', '/tenants/evco/upstreams', { name: 'ev', url: everything.url });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  });
  after(async () => {
    await cluster?.stop();
    await everything?.close();
  });

  it('upstreams test connects and lists it', async () => {
    const r = await cluster.admin('POST', '/tenants/evco/upstreams/ev/test');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.test.ok, true, JSON.stringify(r.body));
    assert.equal(r.body.test.era, 'legacy', 'a 2025-era (sessionful) upstream is detected');
    assert.equal(r.body.test.serverInfo.name, 'mcp-servers/everything');
    assert.ok(r.body.test.counts.tools >= 12 && r.body.test.counts.resources > 0, JSON.stringify(r.body));
  });

  for (const era of ['modern', 'legacy'] as const) {
    describe(`${era === 'modern' ? '2026-07-28' : '2025-era'} client`, () => {
      let client: Client;
      before(async () => {
        client = await cluster.client(apiKey, era);
      });

      it('lists its tools namespaced next to the built-ins', async () => {
        const { tools } = await client.listTools();
        const names = tools.map((t) => t.name);
        assert.ok(names.includes('diagnostics.echo'), names.join(','));
        for (const n of ['ev__echo', 'ev__get-sum', 'ev__trigger-long-running-operation', 'ev__toggle-subscriber-updates'])
          assert.ok(names.includes(n), `${n} missing from ${names.join(',')}`);
        assert.ok(!names.some((n) => n === 'echo' || n === 'get-sum'), 'nothing unprefixed');
        const sum = tools.find((t) => t.name === 'ev__get-sum')!;
        assert.deepEqual(Object.keys((sum.inputSchema as { properties: object }).properties).sort(), ['a', 'b'], 'its schema is carried');
      });

      it('calls its tools', async () => {
        assert.equal(text(await client.callTool({ name: 'ev__echo', arguments: { message: `hi ${era}` } })), `Echo: hi ${era}`);
        assert.match(text(await client.callTool({ name: 'ev__get-sum', arguments: { a: 2, b: 40 } })), /42/);
      });

      it('lists and reads its resources under rewritten URIs', async () => {
        const { resources } = await client.listResources();
        const mine = resources.filter((r) => r.uri.startsWith('ev+'));
        assert.ok(mine.length > 0, resources.map((r) => r.uri).join(','));
        const read = await client.readResource({ uri: mine[0]!.uri });
        assert.equal(read.contents[0]?.uri, mine[0]!.uri, 'the read URI round-trips');
      });

      it('relays progress of a long-running operation', async () => {
        const seen: { progress: number; total?: number }[] = [];
        const r = await client.callTool(
          { name: 'ev__trigger-long-running-operation', arguments: { duration: 0.6, steps: 3 } },
          { onprogress: (p) => seen.push({ progress: p.progress, total: p.total }) },
        );
        assert.match(text(r), /Long running operation completed/);
        assert.deepEqual(seen, [
          { progress: 1, total: 3 },
          { progress: 2, total: 3 },
          { progress: 3, total: 3 },
        ]);
      });

      it('relays cancellation to the upstream', async () => {
        const controller = new AbortController();
        const before = everything.sent.length;
        const started = Date.now();
        const call = client.callTool({ name: 'ev__trigger-long-running-operation', arguments: { duration: 10, steps: 10 } }, { signal: controller.signal });
        await until(() => everything.sent.slice(before).some((m) => m.method === 'tools/call'), 5_000, 'the call to reach the upstream');
        controller.abort('user cancelled');
        await assert.rejects(call);
        assert.ok(Date.now() - started < 5_000, 'the caller is released at once');
        const upstreamCall = everything.sent.slice(before).find((m) => m.method === 'tools/call' && m.params?.name === 'trigger-long-running-operation')!;
        assert.ok(upstreamCall, 'the call went upstream under its own name');
        await until(
          () => everything.sent.slice(before).some((m) => m.method === 'notifications/cancelled' && m.params?.requestId === upstreamCall.id),
          3_000,
          'notifications/cancelled for the upstream request id',
        );
        // The gateway and the upstream stay usable afterwards.
        assert.equal(text(await client.callTool({ name: 'ev__echo', arguments: { message: 'after' } })), 'Echo: after');
      });
    });
  }

  it('relays resource updates of a subscription to the subscribed 2025-era client', async () => {
    const client = await cluster.client(apiKey, 'legacy');
    const updated: string[] = [];
    client.setNotificationHandler('notifications/resources/updated', async (n) => {
      updated.push(n.params.uri);
    });
    const { resources } = await client.listResources();
    const uri = resources.find((r) => r.uri.startsWith('ev+'))!.uri;
    await client.subscribeResource({ uri });
    const sub = everything.sent.find((m) => m.method === 'resources/subscribe');
    assert.ok(sub, 'the subscription went upstream');
    assert.equal(sub.params?.uri, uri.slice('ev+'.length), "in the upstream's own URI");
    // server-everything sends updates for subscribed URIs once the updates are toggled on (then every 5 s).
    assert.match(text(await client.callTool({ name: 'ev__toggle-subscriber-updates', arguments: {} })), /Started simulated resource updated/);
    try {
      await until(() => updated.includes(uri), 10_000, `notifications/resources/updated for ${uri}`);
    } finally {
      await client.callTool({ name: 'ev__toggle-subscriber-updates', arguments: {} });
    }
    assert.ok(
      updated.every((u) => u.startsWith('ev+')),
      `updates carry the gateway's URIs: ${updated.join(',')}`,
    );
  });
});
