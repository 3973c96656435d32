/**
 * Two gateway replicas on one PostgreSQL/Redis: a registration made through A is served by B within 1 s,
 * and list changes (registration changes, an upstream's own list_changed) reach clients of both
 * protocol generations connected to the other replica.
 */
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/client';
import { startCluster, type Cluster } from './support/gateway.js';
import { startLegacyUpstream, startModernUpstream, type UpstreamFixture } from './support/upstream-fixtures.js';

/** Resolves with the elapsed ms once `check` passes; fails after `timeoutMs`. */
async function within(timeoutMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

/** Counts `notifications/tools/list_changed` a client receives. */
function countToolChanges(client: Client): { n: number } {
  const counter = { n: 0 };
  client.setNotificationHandler('notifications/tools/list_changed', async () => {
    counter.n++;
  });
  return counter;
}

describe('federation: two replicas', function () {
  this.timeout(60_000);
  let cluster: Cluster;
  let modern: UpstreamFixture;
  let legacy: UpstreamFixture;
  let apiKey: string;

  before(async () => {
    [cluster, modern, legacy] = await Promise.all([startCluster(2), startModernUpstream('m'), startLegacyUpstream('l')]);
    ({ apiKey } = await cluster.tenant('acme'));
  });
  after(async () => {
    await cluster?.stop();
    await Promise.all([modern?.close(), legacy?.close()]);
  });

  it("serves a registration made through replica A on replica B within 1 s, and announces it to B's sessions", async () => {
    const onB = await cluster.client(apiKey, 'legacy', 1);
    const changes = countToolChanges(onB);
    const stream = await cluster.client(apiKey, 'modern', 1);
    const modernChanges = countToolChanges(stream);
    const sub = await stream.listen({ toolsListChanged: true });
    // B has served (and cached) the catalog without the upstream.
    assert.ok(!(await onB.listTools()).tools.some((t) => t.name.startsWith('mod__')));

    const r = await cluster.admin('POST', '/tenants/acme/upstreams', { name: 'mod', url: modern.url }, 0);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const elapsed = await within(1_000, async () => (await onB.listTools()).tools.some((t) => t.name === 'mod__echo'));
    assert.ok(elapsed < 1_000, `B saw the registration after ${elapsed} ms`);
    if (process.env.FED_REPORT) console.log(`      registration A -> B visible after ${elapsed} ms`);
    await within(2_000, async () => changes.n > 0 && modernChanges.n > 0);
    const call = await onB.callTool({ name: 'mod__echo', arguments: { text: 'b' } });
    assert.equal((call.content as { text: string }[])[0]!.text, 'm:b');
    await sub.close();
  });

  it("relays a 2025-era client's resource subscription to the upstream and the upstream's updates back", async () => {
    assert.equal((await cluster.admin('POST', '/tenants/acme/upstreams', { name: 'subs', url: legacy.url })).status, 201);
    const onA = await cluster.client(apiKey, 'legacy', 0);
    const updated: string[] = [];
    onA.setNotificationHandler('notifications/resources/updated', async (n) => {
      updated.push(n.params.uri);
    });
    await onA.subscribeResource({ uri: 'subs+mem://readme' });
    legacy.touch('mem://readme');
    await within(3_000, async () => updated.includes('subs+mem://readme'));
    await onA.unsubscribeResource({ uri: 'subs+mem://readme' });
  });

  it("relays a 2025-era client's subscription to a 2026-07-28 upstream over its subscriptions/listen, on every replica", async () => {
    assert.equal((await cluster.admin('POST', '/tenants/acme/upstreams', { name: 'msubs', url: modern.url })).status, 201);
    const onA = await cluster.client(apiKey, 'legacy', 0);
    const onB = await cluster.client(apiKey, 'legacy', 1);
    const updated: string[] = [];
    for (const c of [onA, onB]) {
      c.setNotificationHandler('notifications/resources/updated', async (n) => {
        updated.push(n.params.uri);
      });
    }
    await onA.subscribeResource({ uri: 'msubs+mem://readme' });
    await onB.subscribeResource({ uri: 'msubs+mem://items/7' });
    // The upstream only tells listeners that asked for the URI; both subscriptions reach it.
    await within(3_000, async () => {
      modern.touch('mem://readme');
      modern.touch('mem://items/7');
      return updated.includes('msubs+mem://readme') && updated.filter((u) => u === 'msubs+mem://items/7').length > 0;
    });
    modern.touch('mem://items/8');
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(!updated.includes('msubs+mem://items/8'), 'an unsubscribed URI is not relayed');
    await onA.unsubscribeResource({ uri: 'msubs+mem://readme' });
    await onB.unsubscribeResource({ uri: 'msubs+mem://items/7' });
  });

  it("a 2026-07-28 client's subscriptions/listen for upstream resources gets the updates of either upstream generation", async () => {
    assert.equal((await cluster.admin('POST', '/tenants/acme/upstreams', { name: 'lsm', url: modern.url })).status, 201);
    assert.equal((await cluster.admin('POST', '/tenants/acme/upstreams', { name: 'lsl', url: legacy.url })).status, 201);
    const client = await cluster.client(apiKey, 'modern', 1);
    const updated: string[] = [];
    client.setNotificationHandler('notifications/resources/updated', async (n) => {
      updated.push(n.params.uri);
    });
    const sub = await client.listen({ resourceSubscriptions: ['lsm+mem://readme', 'lsl+mem://readme'] });
    try {
      assert.deepEqual([...(sub.honoredFilter.resourceSubscriptions ?? [])].sort(), ['lsl+mem://readme', 'lsm+mem://readme']);
      await within(3_000, async () => {
        modern.touch('mem://readme');
        legacy.touch('mem://readme');
        return updated.includes('lsm+mem://readme') && updated.includes('lsl+mem://readme');
      });
    } finally {
      await sub.close();
    }
  });

  /** A raw 2026-07-28 tools/call of `tool` on replica `i` from a client that can answer elicitations. */
  const modernCall = async (i: number, tool: string, params: Record<string, unknown>) => {
    const res = await fetch(cluster.gateways[i]!.mcpUrl, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${apiKey}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': tool,
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: {
          name: tool,
          arguments: {},
          ...params,
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientInfo': { name: 't', version: '1' },
            'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} } },
          },
        },
      }),
    });
    return (await res.json()) as { result?: Record<string, any>; error?: { message: string } };
  };

  it("turns a 2025-era upstream's elicitation into input_required for a 2026-07-28 client; the answer on the other replica reaches the upstream", async () => {
    assert.equal((await cluster.admin('POST', '/tenants/acme/upstreams', { name: 'sess', url: legacy.url }, 0)).status, 201);
    const first = await modernCall(0, 'sess__ask', {});
    assert.equal(first.result?.resultType, 'input_required', JSON.stringify(first));
    const [key, ask] = Object.entries(first.result!.inputRequests as Record<string, { method: string; params: { message: string } }>)[0]!;
    assert.equal(ask.method, 'elicitation/create');
    assert.equal(ask.params.message, 'Your name?');
    const done = await modernCall(1, 'sess__ask', {
      inputResponses: { [key]: { action: 'accept', content: { name: 'Cy' } } },
      requestState: first.result!.requestState,
    });
    assert.equal(done.result?.content?.[0]?.text, 'hello Cy', JSON.stringify(done));
    const again = await modernCall(1, 'sess__ask', {
      inputResponses: { [key]: { action: 'accept', content: { name: 'Cy' } } },
      requestState: first.result!.requestState,
    });
    assert.match(again.error?.message ?? '', /gone/, 'a finished pending call cannot be answered twice');
  });

  it('keeps the key a 2025-era upstream names for its question (umcp.dev/input-key); an unusable name gets a generated key', async () => {
    assert.equal((await cluster.admin('POST', '/tenants/acme/upstreams', { name: 'named', url: legacy.url }, 0)).status, 201);
    const first = await modernCall(0, 'named__ask_named', {});
    assert.equal(first.result?.resultType, 'input_required', JSON.stringify(first));
    const asks = first.result!.inputRequests as Record<string, { method: string; params: { message: string; _meta?: Record<string, unknown> } }>;
    const keys = Object.keys(asks).sort();
    assert.equal(keys.length, 2, JSON.stringify(asks));
    assert.equal(keys[0], 'nick');
    assert.match(keys[1]!, /^upstream_input_\d+$/);
    assert.equal(asks['nick']!.params.message, 'nick?');
    assert.equal(asks['nick']!.params._meta, undefined, 'the name hint does not reach the caller');
    assert.equal(asks[keys[1]!]!.params.message, 'not a key!?');
    const answers = { nick: { action: 'accept', content: { name: 'Nia' } }, [keys[1]!]: { action: 'accept', content: { name: 'Ola' } } };
    const done = await modernCall(1, 'named__ask_named', { inputResponses: answers, requestState: first.result!.requestState });
    assert.equal(done.result?.content?.[0]?.text, 'Nia Ola', JSON.stringify(done));
  });

  it("passes a 2026-07-28 upstream's input_required to a 2026-07-28 client; the retry may land on the other replica", async () => {
    assert.equal((await cluster.admin('POST', '/tenants/acme/upstreams', { name: 'mrtr', url: modern.url }, 0)).status, 201);
    const rpc = (i: number, params: Record<string, unknown>) => modernCall(i, 'mrtr__ask', params);
    const first = await rpc(0, {});
    assert.equal(first.result?.resultType, 'input_required', JSON.stringify(first));
    assert.ok(first.result!.inputRequests.name, "the upstream's input request, under its own key");
    const state = first.result!.requestState as string;
    assert.ok(state && !state.includes('"s"'), 'the upstream state travels sealed');
    const done = await rpc(1, { inputResponses: { name: { action: 'accept', content: { name: 'Bo' } } }, requestState: state });
    assert.equal(done.result?.content?.[0]?.text, 'hello Bo', JSON.stringify(done));
    const forged = await rpc(1, { inputResponses: { name: { action: 'accept', content: { name: 'Eve' } } }, requestState: `${state.slice(0, -4)}AAAA` });
    assert.ok(forged.error, 'tampered state is refused');
  });

  for (const kind of ['modern', 'legacy'] as const) {
    it(`relays a ${kind} upstream's list_changed to clients on the other replica`, async () => {
      const fixture = kind === 'modern' ? modern : legacy;
      const ns = `up-${kind}`;
      assert.equal((await cluster.admin('POST', '/tenants/acme/upstreams', { name: ns, url: fixture.url }, 1)).status, 201);
      const onA = await cluster.client(apiKey, 'modern', 0);
      const onB = await cluster.client(apiKey, 'legacy', 1);
      // Both replicas build the catalog, so each has a pooled client listening to the upstream.
      assert.ok((await onA.listTools()).tools.some((t) => t.name === `${ns}__echo`));
      assert.ok((await onB.listTools()).tools.some((t) => t.name === `${ns}__echo`));
      const changes = countToolChanges(onB);
      await new Promise((r) => setTimeout(r, 300)); // the upstream listen stream / GET stream is being opened
      changes.n = 0; // only what the upstream's own change causes
      fixture.addTool(`late_${kind}`);
      await within(3_000, async () => changes.n > 0);
      await within(2_000, async () => (await onA.listTools(undefined, { cacheMode: 'refresh' })).tools.some((t) => t.name === `${ns}__late_${kind}`));
      assert.ok((await onB.listTools()).tools.some((t) => t.name === `${ns}__late_${kind}`));
    });
  }
});
