/**
 * Every bad-input case of /mcp on the 2026-07-28 leg (and the era-independent ones): HTTP status,
 * JSON-RPC code and a useful message. Real gateway, real PostgreSQL and Redis.
 */
import assert from 'node:assert/strict';
import { startCluster, type Cluster, type TestTenant } from './support/cluster.js';
import { MODERN, call, envelope, modernBody, modernHeaders, type Message } from './support/rpc.js';

const BODY_LIMIT = 4096;

describe('MCP endpoint: request validation', function () {
  this.timeout(30_000);
  let cluster: Cluster;
  let url: string;
  let tenant: TestTenant;

  before(async () => {
    cluster = await startCluster(1, { MCP_MAX_BODY_BYTES: String(BODY_LIMIT) });
    url = cluster.replicas[0]!.mcpUrl;
    tenant = await cluster.tenant('validation', ['platform', 'diagnostics']);
  });
  after(async () => cluster?.stop());

  const post = (body: string, headers: Record<string, string>) =>
    fetch(url, { method: 'POST', headers: { authorization: `Bearer ${tenant.key}`, ...headers }, body });
  const errorOf = async (res: Response) => ((await res.json()) as Message).error!;

  it('serves a well-formed request (baseline)', async () => {
    const { status, message } = await call(url, tenant.key, 'tools/list');
    assert.equal(status, 200);
    assert.ok(Array.isArray(message.result?.tools));
  });

  it('puts deliberate cache hints on list, read and discover results (tenant-specific: private)', async () => {
    for (const method of ['tools/list', 'server/discover']) {
      const { message } = await call(url, tenant.key, method);
      assert.equal(message.result?.ttlMs, 60_000, method);
      assert.equal(message.result?.cacheScope, 'private', method);
    }
  });

  it('counts requests per MCP method, era and status in /metrics', async () => {
    await call(url, tenant.key, 'tools/list');
    const text = await (await fetch(`${cluster.replicas[0]!.url}/metrics`)).text();
    assert.match(text, /umcp_mcp_requests_total\{[^}]*method="tools\/list"[^}]*era="modern"[^}]*status="200"[^}]*\} [1-9]/);
    assert.match(text, /umcp_mcp_request_duration_seconds_bucket\{[^}]*method="tools\/list"/);
    assert.match(text, /umcp_open_sse_streams/);
  });

  it('406 when Accept excludes JSON and SSE', async () => {
    const res = await post(JSON.stringify(modernBody('tools/list')), { ...modernHeaders(undefined, 'tools/list'), accept: 'text/html' });
    assert.equal(res.status, 406);
    assert.match((await errorOf(res)).message, /Not Acceptable/i);
  });

  it('415 when Content-Type is not application/json', async () => {
    const res = await post(JSON.stringify(modernBody('tools/list')), { ...modernHeaders(undefined, 'tools/list'), 'content-type': 'text/plain' });
    assert.equal(res.status, 415);
    assert.match((await errorOf(res)).message, /Content-Type must be application\/json/);
  });

  it('413 when the body exceeds MCP_MAX_BODY_BYTES', async () => {
    const res = await post(
      JSON.stringify(modernBody('tools/call', { name: 'diagnostics.echo', arguments: { text: 'x'.repeat(BODY_LIMIT) } })),
      modernHeaders(undefined, 'tools/call', 'diagnostics.echo'),
    );
    assert.equal(res.status, 413);
    assert.match((await errorOf(res)).message, new RegExp(String(BODY_LIMIT)));
  });

  it('-32700 on a body that is not JSON', async () => {
    const res = await post('{"jsonrpc": "2.0", "id": 1, "method": ', modernHeaders(undefined, 'tools/list'));
    assert.equal(res.status, 400);
    const error = await errorOf(res);
    assert.equal(error.code, -32700);
    assert.match(error.message, /Parse error/i);
  });

  it('-32600 on a message that is not a JSON-RPC request', async () => {
    const res = await post(
      JSON.stringify({ jsonrpc: '1.0', id: 1, method: 'tools/list', params: { _meta: envelope() } }),
      modernHeaders(undefined, 'tools/list'),
    );
    assert.equal(res.status, 400);
    assert.equal((await errorOf(res)).code, -32600);
  });

  it('-32601 (404) on an unknown method, echoing the request id', async () => {
    const { status, message } = await call(url, tenant.key, 'no/such-method');
    assert.equal(status, 404);
    assert.equal(message.error?.code, -32601);
    assert.notEqual(message.id, null);
  });

  it('-32601 (404) on methods the 2026-07-28 revision removed', async () => {
    for (const method of ['initialize', 'ping', 'logging/setLevel', 'resources/subscribe']) {
      const { status, message } = await call(url, tenant.key, method);
      assert.equal(status, 404, method);
      assert.equal(message.error?.code, -32601, method);
    }
  });

  it('-32602 (400) when the _meta envelope lacks required fields', async () => {
    const body = { jsonrpc: '2.0', id: 7, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN } } };
    const res = await post(JSON.stringify(body), modernHeaders(undefined, 'tools/list'));
    assert.equal(res.status, 400);
    const error = await errorOf(res);
    assert.equal(error.code, -32602);
    assert.match(error.message, /clientCapabilities|_meta/i);
  });

  it('-32602 on bad tool arguments, with the offending field named', async () => {
    const { message } = await call(url, tenant.key, 'tools/call', { name: 'diagnostics.sleep', arguments: { ms: 600_000 } });
    // Input validation failures are tool execution errors the model can correct (SEP-1303).
    assert.equal(message.result?.isError, true);
    assert.match(JSON.stringify(message.result?.content), /ms/);
  });

  it('400 UnsupportedProtocolVersion naming the supported revisions', async () => {
    const body = modernBody('tools/list', { _meta: { 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } });
    const res = await post(JSON.stringify(body), { ...modernHeaders(undefined, 'tools/list'), 'mcp-protocol-version': '2099-01-01' });
    assert.equal(res.status, 400);
    const error = await errorOf(res);
    assert.deepEqual(error.data?.supported, [MODERN]);
    assert.equal(error.data?.requested, '2099-01-01');
  });

  it('-32020 (400) when MCP-Protocol-Version, Mcp-Method or Mcp-Name disagree with the body', async () => {
    const cases: [string, Record<string, string>][] = [
      ['protocol version', { 'mcp-protocol-version': '2025-11-25' }],
      ['method', { 'mcp-method': 'prompts/list' }],
      ['name', { 'mcp-name': 'diagnostics.fail' }],
    ];
    for (const [what, headers] of cases) {
      const { status, message } = await call(url, tenant.key, 'tools/call', { name: 'diagnostics.echo', arguments: { text: 'x' } }, { headers });
      assert.equal(status, 400, what);
      assert.equal(message.error?.code, -32020, `${what}: ${JSON.stringify(message)}`);
      assert.ok(message.error?.message.length, what);
    }
  });

  it('refuses JSON-RPC batches on the 2026-07-28 leg', async () => {
    const batch = [modernBody('tools/list'), modernBody('tools/list')];
    const res = await post(JSON.stringify(batch), modernHeaders(undefined, 'tools/list'));
    assert.equal(res.status, 400);
    const error = await errorOf(res);
    assert.equal(error.code, -32600, JSON.stringify(error));
    assert.match(error.message, /batch/i);
  });

  it('never leaks stack traces in error bodies', async () => {
    const res = await post('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":42,"_meta":{}}}', modernHeaders(undefined, 'tools/call'));
    const text = await res.text();
    assert.doesNotMatch(text, /\n\s+at .+\(.*:\d+:\d+\)/);
  });
});
