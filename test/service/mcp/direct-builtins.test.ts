/**
 * The direct path for built-in tools (service/src/mcp/builtin-catalog.ts): a 2026-07-28 tools/call of a
 * `diagnostics` or `platform` tool runs on the caller's cached instance instead of a server built for the
 * request, and answers exactly what the server path answers (the same call with an empty `inputResponses`
 * takes the server path): results, tool errors, argument errors, thrown errors, progress. Calls the direct
 * path must leave to the server (a restricted key, tool search, the conformance toolset) are not counted.
 */
import assert from 'node:assert/strict';
import { METRICS } from '../../../contract/index.js';
import type { Principal } from '../../../service/src/domain/principal.js';
import { createBuiltinCatalog } from '../../../service/src/mcp/builtin-catalog.js';
import { startCluster, type Cluster, type TestTenant } from './support/cluster.js';
import { call, type Message } from './support/rpc.js';

describe('MCP endpoint: direct path for built-in tools', function () {
  this.timeout(30_000);
  let cluster: Cluster;
  let tenant: TestTenant;
  let url: string;

  const direct = async () => {
    const metrics = await (await fetch(`${cluster.replicas[0]!.url}/metrics`)).text();
    const line = metrics.split('\n').find((l) => l.startsWith(METRICS.toolCallsDirect));
    return Number(line?.split(' ').at(-1) ?? 0);
  };
  /** The call's status and answer (id and server stamp aside) on the direct path and on the server path. */
  const both = async (params: Record<string, unknown>, key = tenant.key) => {
    const before = await direct();
    const fast = await call(url, key, 'tools/call', params);
    const counted = (await direct()) - before;
    const slow = await call(url, key, 'tools/call', { ...params, inputResponses: {} });
    assert.equal((await direct()) - before, counted, 'the comparison took the server path');
    const strip = (m: Message) => ({ ...m, id: undefined });
    return { counted, fast: { status: fast.status, message: strip(fast.message) }, slow: { status: slow.status, message: strip(slow.message) } };
  };

  before(async () => {
    cluster = await startCluster(1);
    url = cluster.replicas[0]!.mcpUrl;
    tenant = await cluster.tenant('direct', ['platform', 'diagnostics', 'conformance']);
  });
  after(async () => {
    await cluster?.stop();
  });

  const cases: [string, Record<string, unknown>][] = [
    ['a result', { name: 'diagnostics.echo', arguments: { text: 'same either way' } }],
    ['a tool error', { name: 'diagnostics.fail', arguments: { message: 'boom' } }],
    ['arguments the schema refuses', { name: 'diagnostics.sleep', arguments: { ms: 600_000 } }],
    ['missing arguments', { name: 'diagnostics.echo' }],
    ['a thrown protocol error (no progress token)', { name: 'diagnostics.stream', arguments: { count: 1, intervalMs: 0 } }],
    ['structured content under an output schema', { name: 'platform.whoami', arguments: {} }],
  ];
  for (const [what, params] of cases) {
    it(`answers ${what} as the server path does`, async () => {
      const { counted, fast, slow } = await both(params);
      assert.equal(counted, 1, 'taken on the direct path');
      assert.deepEqual(fast, slow);
    });
  }

  it('streams progress as SSE, then the result', async () => {
    const before = await direct();
    const { all, res } = await call(url, tenant.key, 'tools/call', {
      name: 'diagnostics.stream',
      arguments: { count: 3, intervalMs: 0 },
      _meta: { progressToken: 'p1' },
    });
    assert.equal((await direct()) - before, 1);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    assert.deepEqual(
      all.filter((m) => m.method === 'notifications/progress').map((m) => (m.params as { progress: number }).progress),
      [1, 2, 3],
    );
    assert.deepEqual((all.at(-1)!.result as { structuredContent?: unknown }).structuredContent, { count: 3 });
  });

  it('leaves other toolsets, unknown names and a restricted key to the server path', async () => {
    const before = await direct();
    const other = await call(url, tenant.key, 'tools/call', { name: 'test_simple_text', arguments: {} });
    assert.equal(other.status, 200);
    const unknown = await call(url, tenant.key, 'tools/call', { name: 'diagnostics.nope', arguments: {} });
    assert.equal(unknown.message.error?.code, -32602);
    const { key } = await cluster.replicas[0]!.apiKeys.create(tenant.id, 'echo only', ['tool:diagnostics.echo']);
    const allowed = await call(url, key, 'tools/call', { name: 'diagnostics.echo', arguments: { text: 'x' } });
    assert.equal(allowed.message.result?.isError, undefined);
    const hidden = await call(url, key, 'tools/call', { name: 'diagnostics.fail', arguments: { message: 'x' } });
    assert.equal(hidden.message.error?.code, -32602);
    assert.equal((await direct()) - before, 0);
  });
});

describe('built-in catalog (direct toolsets per caller identity)', () => {
  const deps = {
    deployment: { region: 'r', version: '1', health: async () => ({}) },
    notifierFor: () => ({ toolsChanged() {}, promptsChanged() {}, resourcesChanged() {}, resourceUpdated() {} }),
    requestState: {} as never,
  };
  const principal = (toolsets: string[], over: Partial<Principal> = {}): Principal => ({
    tenantId: 't1',
    tenantName: 'acme',
    subject: 'key:a',
    kind: 'api-key',
    toolsets,
    scopes: [],
    ...over,
  });

  it('holds the direct toolsets only, and nothing for tool search or no direct toolset', () => {
    const catalog = createBuiltinCatalog(deps);
    const tools = catalog.builtinsOf(principal(['diagnostics', 'conformance']))!;
    assert.ok(tools.target('diagnostics.echo'));
    assert.equal(tools.target('platform.whoami'), undefined);
    assert.equal(tools.target('test_simple_text'), undefined);
    assert.equal(catalog.builtinsOf(principal(['conformance'])), undefined);
    assert.equal(catalog.builtinsOf(principal(['diagnostics', 'search'])), undefined);
    assert.equal(catalog.builtinsOf(principal(['diagnostics', 'search-only'])), undefined);
  });

  it('reuses an entry for the same identity and builds another when toolsets, tenant or subject change', () => {
    const catalog = createBuiltinCatalog(deps);
    const a = catalog.builtinsOf(principal(['platform']));
    assert.equal(catalog.builtinsOf(principal(['platform'])), a);
    assert.notEqual(catalog.builtinsOf(principal(['platform', 'diagnostics'])), a);
    assert.notEqual(catalog.builtinsOf(principal(['platform'], { tenantName: 'renamed' })), a);
    assert.notEqual(catalog.builtinsOf(principal(['platform'], { subject: 'key:b' })), a);
  });
});
