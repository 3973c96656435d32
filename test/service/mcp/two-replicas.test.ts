/**
 * Two gateway replicas on the same PostgreSQL and Redis (2026-07-28 leg): an input_required round
 * answered on A continues on B; a subscriptions/listen stream on B receives a list change caused
 * through A; tenants never see each other's tools or events; tampered state is refused everywhere.
 */
import assert from 'node:assert/strict';
import { startCluster, type Cluster, type TestTenant } from './support/cluster.js';
import { call, listen } from './support/rpc.js';

describe('MCP endpoint: two replicas (2026-07-28)', function () {
  this.timeout(30_000);
  let cluster: Cluster;
  let a: string;
  let b: string;
  let acme: TestTenant;
  let globex: TestTenant;

  before(async () => {
    cluster = await startCluster(2);
    [a, b] = cluster.replicas.map((r) => r.mcpUrl) as [string, string];
    acme = await cluster.tenant('acme', ['conformance', 'diagnostics']);
    globex = await cluster.tenant('globex', ['platform']);
  });
  after(async () => cluster?.stop());

  it('continues an input_required round on B after it started on A (multi-round, sealed state)', async () => {
    const tool = { name: 'test_input_required_result_multi_round', arguments: {} };
    const r1 = await call(a, acme.key, 'tools/call', tool);
    assert.equal(r1.message.result?.resultType, 'input_required');
    const state1 = r1.message.result?.requestState as string;
    assert.match(state1, /^k1~/, 'state carries the signing key id');

    const r2 = await call(b, acme.key, 'tools/call', {
      ...tool,
      inputResponses: { step1: { action: 'accept', content: { name: 'Ada' } } },
      requestState: state1,
    });
    assert.equal(r2.message.result?.resultType, 'input_required', JSON.stringify(r2.message));
    assert.ok(r2.message.result?.inputRequests?.step2, 'round 2 asks the next question');
    const state2 = r2.message.result?.requestState as string;
    assert.notEqual(state2, state1);

    const r3 = await call(a, acme.key, 'tools/call', {
      ...tool,
      inputResponses: { step2: { action: 'accept', content: { color: 'teal' } } },
      requestState: state2,
    });
    assert.equal(r3.message.result?.resultType, 'complete', JSON.stringify(r3.message));
    assert.equal(r3.message.result?.content?.[0]?.text, 'Ada likes teal.');
  });

  it('refuses tampered state and state replayed by another tenant, on either replica', async () => {
    const tool = { name: 'test_input_required_result_request_state', arguments: {} };
    const r1 = await call(a, acme.key, 'tools/call', tool);
    const state = r1.message.result?.requestState as string;
    const answer = { confirm: { action: 'accept', content: { ok: true } } };

    const ok = await call(b, acme.key, 'tools/call', { ...tool, inputResponses: answer, requestState: state });
    assert.match(ok.message.result?.content?.[0]?.text ?? '', /state-ok/);

    const tampered = await call(b, acme.key, 'tools/call', { ...tool, inputResponses: answer, requestState: `${state.slice(0, -2)}xx` });
    assert.equal(tampered.message.error?.code, -32602);
    assert.match(tampered.message.error?.message ?? '', /requestState/);

    const unknownKey = await call(a, acme.key, 'tools/call', { ...tool, inputResponses: answer, requestState: state.replace(/^k1~/, 'k9~') });
    assert.equal(unknownKey.message.error?.code, -32602);

    // Another principal of the same tenant cannot replay it either (state is bound to the caller).
    const { key: otherKey } = await cluster.replicas[0]!.apiKeys.create(acme.id, 'second key');
    const replay = await call(a, otherKey, 'tools/call', { ...tool, inputResponses: answer, requestState: state });
    assert.equal(replay.message.error?.code, -32602);
  });

  it('delivers a list change caused through A to a subscriptions/listen stream on B', async () => {
    const stream = await listen(b, acme.key, { toolsListChanged: true });
    try {
      const ack = await stream.next();
      assert.equal(ack?.method, 'notifications/subscriptions/acknowledged');
      const trigger = await call(a, acme.key, 'tools/call', { name: 'test_trigger_tool_change', arguments: {} });
      assert.equal(trigger.status, 200);
      const change = await stream.next(5000);
      assert.equal(change?.method, 'notifications/tools/list_changed');
      assert.ok(change?.params?._meta?.['io.modelcontextprotocol/subscriptionId'], 'tagged with the subscription id');
    } finally {
      stream.close();
    }
  });

  it('delivers the same change to a 2025-era session stream on the other replica', async () => {
    const auth = { authorization: `Bearer ${acme.key}`, accept: 'application/json, text/event-stream', 'content-type': 'application/json' };
    const init = await fetch(a, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      }),
    });
    const sid = init.headers.get('mcp-session-id')!;
    assert.ok(sid);
    const headers = { ...auth, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' };
    assert.equal((await fetch(a, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })).status, 202);
    const controller = new AbortController();
    const get = await fetch(b, { method: 'GET', headers: { ...headers, accept: 'text/event-stream' }, signal: controller.signal });
    assert.equal(get.status, 200);
    const reader = get.body!.pipeThrough(new TextDecoderStream()).getReader();
    try {
      await new Promise((r) => setTimeout(r, 300)); // let the stream attach before the change
      await call(a, acme.key, 'tools/call', { name: 'test_trigger_tool_change', arguments: {} });
      let seen = '';
      const deadline = Date.now() + 5000;
      while (!seen.includes('notifications/tools/list_changed') && Date.now() < deadline) {
        const chunk = await Promise.race([reader.read(), new Promise<null>((r) => setTimeout(() => r(null), deadline - Date.now()))]);
        if (!chunk || chunk.done) break;
        seen += chunk.value;
      }
      assert.match(seen, /notifications\/tools\/list_changed/);
    } finally {
      controller.abort();
      await fetch(a, { method: 'DELETE', headers }).catch(() => undefined);
    }
  });

  it("never delivers one tenant's events to another tenant's listeners", async () => {
    const other = await listen(b, globex.key, { toolsListChanged: true });
    const own = await listen(a, acme.key, { toolsListChanged: true });
    try {
      assert.equal((await other.next())?.method, 'notifications/subscriptions/acknowledged');
      assert.equal((await own.next())?.method, 'notifications/subscriptions/acknowledged');
      await call(b, acme.key, 'tools/call', { name: 'test_trigger_tool_change', arguments: {} });
      assert.equal((await own.next(5000))?.method, 'notifications/tools/list_changed');
      assert.equal(await other.next(1000), undefined, 'globex saw nothing');
    } finally {
      other.close();
      own.close();
    }
  });

  it("neither lists nor runs another tenant's tools", async () => {
    const list = await call(a, globex.key, 'tools/list');
    const names = (list.message.result?.tools as { name: string }[]).map((t) => t.name);
    assert.deepEqual(names.sort(), ['platform.deployment', 'platform.whoami']);

    const run = await call(b, globex.key, 'tools/call', { name: 'test_simple_text', arguments: {} });
    assert.equal(run.message.error?.code, -32602);
    assert.match(run.message.error?.message ?? '', /test_simple_text not found/);

    const discover = await call(a, globex.key, 'server/discover');
    const caps = discover.message.result?.capabilities ?? {};
    assert.ok(caps.tools, 'tools declared');
    assert.equal(caps.prompts, undefined, 'no prompts capability without a toolset that has prompts');
    // Resources only for reading stored large results back: nothing listed, no subscriptions.
    assert.deepEqual(caps.resources, {}, 'resources declared for stored results only');
    const resources = await call(a, globex.key, 'resources/list');
    assert.deepEqual(resources.message.result?.resources, []);

    const whoami = await call(b, globex.key, 'tools/call', { name: 'platform.whoami', arguments: {} });
    assert.equal(whoami.message.result?.structuredContent?.tenant, 'globex');
  });
});
