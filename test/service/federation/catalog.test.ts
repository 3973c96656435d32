/**
 * The federated catalog through a real gateway: upstream tools, resources, templates and prompts appear
 * namespaced next to the built-ins for both client generations and both upstream generations; calls,
 * reads and prompt gets round-trip; merged lists paginate; root mounts keep names; allow/deny lists apply.
 */
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/client';
import { startCluster, type Cluster } from './support/gateway.js';
import { startSseUpstream, type SseUpstream } from './support/sse-upstream.js';
import { startLegacyUpstream, startModernUpstream, type UpstreamFixture } from './support/upstream-fixtures.js';

const text = (r: { content?: unknown }) => (r.content as { type: string; text?: string }[])[0]?.text ?? '';

describe('federation: catalog and routing', function () {
  this.timeout(60_000);
  let cluster: Cluster;
  let modern: UpstreamFixture;
  let legacy: UpstreamFixture;
  let sse: SseUpstream;
  let apiKey: string;

  before(async () => {
    [cluster, modern, legacy, sse] = await Promise.all([
      startCluster(1, { FEDERATION_PAGE_SIZE: '5' }),
      startModernUpstream('m'),
      startLegacyUpstream('l'),
      startSseUpstream('s'),
    ]);
    ({ apiKey } = await cluster.tenant('acme', ['diagnostics']));
    const a = await cluster.admin('POST', '/tenants/acme/upstreams', { name: 'mod', url: modern.url, denyTools: ['secret_op'] });
    assert.equal(a.status, 201, JSON.stringify(a.body));
    const b = await cluster.admin('POST', '/tenants/acme/upstreams', { name: 'leg', url: legacy.url });
    assert.equal(b.status, 201, JSON.stringify(b.body));
    const c = await cluster.admin('POST', '/tenants/acme/upstreams', { name: 'old', url: sse.url, transport: 'sse' });
    assert.equal(c.status, 201, JSON.stringify(c.body));
  });
  after(async () => {
    await cluster?.stop();
    await Promise.all([modern?.close(), legacy?.close(), sse?.close()]);
  });

  for (const era of ['modern', 'legacy'] as const) {
    describe(`${era} client`, () => {
      let client: Client;
      before(async () => {
        client = await cluster.client(apiKey, era);
      });

      it('lists built-ins and namespaced upstream tools; deny list hides a tool', async () => {
        const { tools } = await client.listTools();
        const names = tools.map((t) => t.name);
        assert.ok(names.includes('diagnostics.echo'), names.join(','));
        for (const n of ['mod__echo', 'mod__slow', 'leg__echo', 'leg__secret_op']) assert.ok(names.includes(n), `${n} missing from ${names.join(',')}`);
        assert.ok(!names.includes('mod__secret_op'), 'denied tool is hidden');
      });

      it('routes tools/call to each upstream generation', async () => {
        assert.equal(text(await client.callTool({ name: 'mod__echo', arguments: { text: 'hi' } })), 'm:hi');
        assert.equal(text(await client.callTool({ name: 'leg__echo', arguments: { text: 'yo' } })), 'l:yo');
        assert.equal(text(await client.callTool({ name: 'old__echo', arguments: { text: 'sse' } })), 's:sse');
        assert.equal(text(await client.callTool({ name: 'diagnostics.echo', arguments: { text: 'own' } })), 'own');
      });

      it('refuses a denied tool and an unknown namespace with clear errors', async () => {
        await assert.rejects(client.callTool({ name: 'mod__secret_op', arguments: {} }), /upstream "mod": tool "secret_op" is not exposed/);
        await assert.rejects(client.callTool({ name: 'nope__echo', arguments: {} }), /nope__echo not found/);
      });

      it('rewrites resource URIs so they round-trip, templates included', async () => {
        const { resources } = await client.listResources();
        const uris = resources.map((r) => r.uri);
        assert.ok(uris.includes('mod+mem://readme') && uris.includes('leg+mem://readme'), uris.join(','));
        const read = await client.readResource({ uri: 'leg+mem://readme' });
        assert.equal(read.contents[0]?.uri, 'leg+mem://readme');
        assert.equal((read.contents[0] as { text: string }).text, 'l readme');
        const { resourceTemplates } = await client.listResourceTemplates();
        assert.ok(resourceTemplates.some((t) => t.uriTemplate === 'mod+mem://items/{id}'));
        const item = await client.readResource({ uri: 'mod+mem://items/42' });
        assert.equal((item.contents[0] as { text: string }).text, 'm item 42');
        assert.equal(item.contents[0]?.uri, 'mod+mem://items/42');
      });

      it('an unknown resource of either upstream generation is not-found naming the URI (SEP-2164 data.uri)', async () => {
        for (const uri of ['leg+mem://nothing-here', 'mod+mem://nothing-here']) {
          await assert.rejects(client.readResource({ uri }), (err: { code?: number; data?: { uri?: string }; message?: string }) => {
            // 2025-era wire: -32002; 2026-07-28 maps resource-not-found to -32602.
            assert.ok(err.code === -32002 || err.code === -32602, `${uri}: ${err.code} ${err.message}`);
            assert.equal(err.data?.uri, uri);
            return true;
          });
        }
      });

      it('routes prompts/get', async () => {
        const { prompts } = await client.listPrompts();
        assert.ok(prompts.some((p) => p.name === 'leg__greet'));
        const got = await client.getPrompt({ name: 'leg__greet', arguments: { name: 'Ann' } });
        assert.equal((got.messages[0]?.content as { text: string }).text, 'Hello Ann from l');
      });

      it('relays progress from the upstream to the client', async () => {
        const seen: number[] = [];
        const r = await client.callTool({ name: 'mod__progress', arguments: { count: 3 } }, { onprogress: (p) => seen.push(p.progress) });
        assert.equal(text(r), 'done 3');
        assert.deepEqual(seen, [1, 2, 3]);
      });
    });
  }

  describe('input requests', () => {
    for (const [ns, label] of [
      ['leg', '2025-era'],
      ['mod', '2026-07-28'],
    ] as const) {
      it(`relays a ${label} upstream's elicitation to a 2025-era client and its answer back`, async () => {
        const asked: string[] = [];
        const client = await cluster.client(apiKey, 'legacy', 0, (c) =>
          c.setRequestHandler('elicitation/create', async (req) => {
            asked.push((req.params as { message: string }).message);
            return { action: 'accept', content: { name: 'Ann' } };
          }),
        );
        const r = await client.callTool({ name: `${ns}__ask`, arguments: {} });
        assert.equal(text(r), 'hello Ann');
        assert.deepEqual(asked, ['Your name?']);
      });
    }
  });

  describe('logging', () => {
    for (const ns of ['leg', 'mod'] as const) {
      it(`relays log messages ${ns === 'leg' ? 'a 2025-era' : 'a 2026-07-28'} upstream emits during a call to a 2025-era caller`, async () => {
        const logs: unknown[] = [];
        const client = await cluster.client(apiKey, 'legacy');
        client.setNotificationHandler('notifications/message', async (n) => {
          logs.push(n.params.data);
        });
        await client.setLoggingLevel('debug');
        assert.equal(text(await client.callTool({ name: `${ns}__chatty`, arguments: {} })), 'done');
        const deadline = Date.now() + 2_000;
        while (logs.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        assert.deepEqual(logs, [`${ns === 'leg' ? 'l' : 'm'} working`]);
      });
    }
  });

  describe('cancellation', () => {
    it('aborts the upstream call when the client cancels', async () => {
      const client = await cluster.client(apiKey, 'legacy');
      const controller = new AbortController();
      const abortedBefore = modern.seen.aborted;
      const started = Date.now();
      const call = client.callTool({ name: 'mod__slow', arguments: { ms: 5_000 } }, { signal: controller.signal });
      setTimeout(() => controller.abort('user cancelled'), 200);
      await assert.rejects(call);
      assert.ok(Date.now() - started < 2_000);
      const deadline = Date.now() + 2_000;
      while (modern.seen.aborted === abortedBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(modern.seen.aborted, abortedBefore + 1, 'the upstream handler was aborted');
      // The gateway stays usable on the same session and upstream afterwards.
      assert.equal(text(await client.callTool({ name: 'mod__echo', arguments: { text: 'after' } })), 'm:after');
    });
  });

  describe('list cache hints', () => {
    it('carries the most restrictive upstream ttlMs on merged 2026-07-28 lists and re-lists after it', async () => {
      const hinted = await startModernUpstream('h', 1500);
      try {
        const { apiKey: key } = await cluster.tenant('hinted');
        assert.equal((await cluster.admin('POST', '/tenants/hinted/upstreams', { name: 'h', url: hinted.url })).status, 201);
        const rpc = async (method: string, params: Record<string, unknown> = {}, name?: string) => {
          const res = await fetch(cluster.gateways[0]!.mcpUrl, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${key}`,
              'content-type': 'application/json',
              accept: 'application/json, text/event-stream',
              'mcp-protocol-version': '2026-07-28',
              'mcp-method': method,
              ...(name && { 'mcp-name': name }),
            },
            body: JSON.stringify({
              jsonrpc: '2.0',
              id: 1,
              method,
              params: {
                ...params,
                _meta: {
                  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
                  'io.modelcontextprotocol/clientInfo': { name: 't', version: '1' },
                  'io.modelcontextprotocol/clientCapabilities': {},
                },
              },
            }),
          });
          return (await res.json()) as { result: Record<string, any> };
        };
        const list = () => rpc('tools/list') as Promise<{ result: { tools: { name: string }[]; ttlMs: number; cacheScope: string } }>;
        // A relayed result identifies the gateway, not the upstream behind it.
        const call = await rpc('tools/call', { name: 'h__echo', arguments: { text: 'me' } }, 'h__echo');
        assert.equal(call.result.content[0].text, 'h:me');
        assert.equal(call.result._meta['io.modelcontextprotocol/serverInfo'].name, 'unified-mcp-platform');
        const first = await list();
        assert.ok(first.result, JSON.stringify(first));
        assert.equal(first.result.ttlMs, 1500);
        assert.equal(first.result.cacheScope, 'private');
        // Without any list_changed, a tool added upstream shows up once the hinted lifetime is over.
        const requests = hinted.seen.requests;
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(hinted.seen.requests, requests, 'served from the catalog cache meanwhile');
        await new Promise((r) => setTimeout(r, 1500));
        assert.ok((await list()).result.tools.some((t) => t.name === 'h__echo'));
        assert.ok(hinted.seen.requests > requests, 'the catalog was rebuilt after ttlMs');
      } finally {
        await hinted.close();
      }
    });
  });

  describe('pagination of merged lists', () => {
    it('walks every page with cursors and refuses a forged cursor', async () => {
      const raw = async (params: Record<string, unknown>) => {
        const res = await fetch(cluster.gateways[0]!.mcpUrl, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${apiKey}`,
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            'mcp-session-id': await session(),
          },
          body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params }),
        });
        const body = await res.text();
        const line = body.split('\n').find((l) => l.startsWith('data: {')) ?? body;
        return JSON.parse(line.replace(/^data: /, ''));
      };
      let sid: string | undefined;
      const session = async () => {
        if (sid) return sid;
        const res = await fetch(cluster.gateways[0]!.mcpUrl, {
          method: 'POST',
          headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
          body: JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: 'initialize',
            params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'p', version: '1' } },
          }),
        });
        sid = res.headers.get('mcp-session-id')!;
        await res.text();
        return sid;
      };
      const names: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const r = await raw(cursor ? { cursor } : {});
        assert.ok(r.result, JSON.stringify(r));
        names.push(...r.result.tools.map((t: { name: string }) => t.name));
        cursor = r.result.nextCursor;
        pages++;
      } while (cursor);
      assert.equal(new Set(names).size, names.length, 'no duplicates across pages');
      assert.ok(pages >= 2, `expected several pages of ${names.length} tools with page size 5`);
      const bad = await raw({ cursor: 'bm90LWEtY3Vyc29y' });
      assert.equal(bad.error?.code, -32602);
      assert.match(bad.error.message, /Invalid cursor/);
    });
  });
});
