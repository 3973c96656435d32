/**
 * The pass-through path: a 2026-07-28 caller's tools/call of a connected 2026-07-28 upstream's tool goes
 * to the upstream as bytes (no SDK on either side) and answers exactly what the pooled-client path
 * answers: results with the gateway's server info, progress streamed as SSE, tool errors, denied tools,
 * timeouts and upstream JSON-RPC errors named by upstream, credentials sent, forged gateway `_meta`
 * dropped, cancellation reaching the upstream. Calls that need the gateway's own handling (a caller's
 * tasks extension, Mcp-Param headers, a multi round-trip retry) go the SDK's way.
 */
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/client';
import { METRICS } from '../../../contract/index.js';
import { startCluster, type Cluster } from './support/gateway.js';
import { startModernUpstream, type UpstreamFixture } from './support/upstream-fixtures.js';

const text = (r: { content?: unknown }) => (r.content as { type: string; text?: string }[])[0]?.text ?? '';

describe('federation: pass-through of 2026-07-28 tool calls', function () {
  this.timeout(60_000);
  let cluster: Cluster;
  let modern: UpstreamFixture;
  let client: Client;
  let apiKey: string;

  const passedThrough = async () => {
    const metrics = await (await fetch(`${cluster.gateways[0]!.url}/metrics`)).text();
    // e.g. `umcp_tool_calls_passed_through_total{region="local"} 3`
    const line = metrics.split('\n').find((l) => l.startsWith(METRICS.toolCallsPassedThrough));
    return Number(line?.split(' ').at(-1) ?? 0);
  };
  /** Runs `fn` and returns how many calls went the pass-through way meanwhile. */
  const counted = async (fn: () => Promise<unknown>) => {
    const before = await passedThrough();
    await fn();
    return (await passedThrough()) - before;
  };

  before(async () => {
    [cluster, modern] = await Promise.all([startCluster(1), startModernUpstream('m')]);
    ({ apiKey } = await cluster.tenant('acme', ['diagnostics']));
    const r = await cluster.admin('POST', '/tenants/acme/upstreams', {
      name: 'mod',
      url: modern.url,
      denyTools: ['secret_op'],
      credentials: { bearer: 'upstream-token' },
      timeouts: { callMs: 1500, connectMs: 5000, listMs: 5000 },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    client = await cluster.client(apiKey, 'modern');
    // The first call connects the pooled client (and learns the upstream's generation).
    await client.callTool({ name: 'mod__echo', arguments: { text: 'warm' } });
  });
  after(async () => {
    await client?.close();
    await cluster?.stop();
    await modern?.close();
  });

  it('answers a call as bytes from the upstream, with the credentials and the gateway as server', async () => {
    let result: Awaited<ReturnType<Client['callTool']>> | undefined;
    assert.equal(await counted(async () => (result = await client.callTool({ name: 'mod__echo', arguments: { text: 'hi' } }))), 1);
    assert.equal(text(result!), 'm:hi');
    assert.equal(modern.seen.authorization, 'Bearer upstream-token');
    assert.equal(client.getServerVersion()?.name, 'unified-mcp-platform');
  });

  it('streams upstream progress to the caller while the call runs', async () => {
    const progress: number[] = [];
    let result: Awaited<ReturnType<Client['callTool']>> | undefined;
    const n = await counted(async () => {
      result = await client.callTool({ name: 'mod__progress', arguments: { count: 3 } }, { onprogress: (p) => progress.push(p.progress) });
    });
    assert.equal(n, 1);
    assert.deepEqual(progress, [1, 2, 3]);
    assert.ok(result);
  });

  it('drops gateway-only _meta keys an upstream forges', async () => {
    const r = await client.callTool({ name: 'mod__forge_meta', arguments: {} });
    const meta = (r._meta ?? {}) as Record<string, unknown>;
    assert.ok(!Object.keys(meta).some((k) => k.startsWith('umcp.dev/')), JSON.stringify(meta));
  });

  it('refuses a denied tool and names the upstream of a timeout, as the pooled-client path does', async () => {
    await assert.rejects(client.callTool({ name: 'mod__secret_op', arguments: {} }), /upstream "mod": tool "secret_op" is not exposed/);
    await assert.rejects(client.callTool({ name: 'mod__slow', arguments: { ms: 5_000 } }), /upstream "mod": no answer within the timeout/);
  });

  it('cancels the upstream call when the caller goes away', async () => {
    const abort = new AbortController();
    const aborted = modern.seen.aborted;
    const call = client.callTool({ name: 'mod__slow', arguments: { ms: 1_000 } }, { signal: abort.signal });
    setTimeout(() => abort.abort(), 200);
    await assert.rejects(call);
    const deadline = Date.now() + 3_000;
    while (modern.seen.aborted === aborted && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(modern.seen.aborted, aborted + 1);
  });

  /** POSTs a 2026-07-28 tools/call of `mod__echo` as bytes: `caps` its client capabilities, `change` its headers (undefined removes one). */
  const rawCall = (caps: Record<string, unknown>, change: Record<string, string | undefined> = {}) => {
    const headers: Record<string, string> = {
      authorization: `Bearer ${apiKey}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': 'mod__echo',
    };
    for (const [name, value] of Object.entries(change))
      if (value === undefined) delete headers[name];
      else headers[name] = value;
    const _meta = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientInfo': { name: 't', version: '1' },
      'io.modelcontextprotocol/clientCapabilities': caps,
    };
    const body = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'mod__echo', arguments: { text: 'x' }, _meta } };
    return fetch(cluster.gateways[0]!.mcpUrl, { method: 'POST', headers, body: JSON.stringify(body) });
  };

  it('leaves a caller that declared the tasks extension to the SDK path', async () => {
    const res = await rawCall({ extensions: { 'io.modelcontextprotocol/tasks': {} } });
    assert.equal(res.status, 200);
    const before = await passedThrough();
    await res.text();
    assert.equal((await passedThrough()) - before, 0);
  });

  it('answers -32020 (400) for a missing Mcp-Method or an Mcp-Name that disagrees with the body, as the SDK path does', async () => {
    const cases: [string, Record<string, string | undefined>][] = [
      ['Mcp-Name names another tool', { 'mcp-name': 'mod__progress' }],
      ['Mcp-Name missing', { 'mcp-name': undefined }],
      ['Mcp-Method missing', { 'mcp-method': undefined }],
    ];
    for (const [what, change] of cases) {
      const before = await passedThrough();
      const res = await rawCall({}, change);
      const body = (await res.json()) as { error?: { code: number } };
      assert.equal(res.status, 400, what);
      assert.equal(body.error?.code, -32020, `${what}: ${JSON.stringify(body)}`);
      assert.equal((await passedThrough()) - before, 0, what);
    }
  });
});
