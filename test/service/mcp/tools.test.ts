/**
 * The built-in toolsets through the official client (@modelcontextprotocol/client) on the 2026-07-28
 * leg: platform.whoami/deployment, diagnostics.echo/sleep/stream/fail, and the audit trail of calls.
 */
import assert from 'node:assert/strict';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startCluster, type Cluster, type TestTenant } from './support/cluster.js';
import { call } from './support/rpc.js';

async function connect(url: string, key: string): Promise<Client> {
  const client = new Client({ name: 'umcp-tools-test', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
  return client;
}

const textOf = (result: { content?: unknown }) => (result.content as { type: string; text?: string }[])[0]?.text ?? '';

describe('Built-in toolsets (2026-07-28 client)', function () {
  this.timeout(30_000);
  let cluster: Cluster;
  let tenant: TestTenant;
  let client: Client;

  before(async () => {
    cluster = await startCluster(1);
    tenant = await cluster.tenant('tools', ['platform', 'diagnostics']);
    client = await connect(cluster.replicas[0]!.mcpUrl, tenant.key);
  });
  after(async () => {
    await client?.close();
    await cluster?.stop();
  });

  it('lists exactly the enabled toolsets, with namespaced names', async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), [
      'diagnostics.echo',
      'diagnostics.fail',
      'diagnostics.sleep',
      'diagnostics.stream',
      'platform.deployment',
      'platform.whoami',
    ]);
  });

  it('lists only portable schemas: no open records (`additionalProperties: {}`), which inspectors flag', async () => {
    const { tools } = await client.listTools();
    const open = (schema: unknown, path: string): string[] => {
      if (!schema || typeof schema !== 'object') return [];
      const s = schema as Record<string, unknown>;
      const here =
        s['additionalProperties'] !== undefined &&
        typeof s['additionalProperties'] === 'object' &&
        Object.keys(s['additionalProperties'] as object).length === 0
          ? [path]
          : [];
      return [...here, ...Object.entries(s).flatMap(([k, v]) => open(v, `${path}.${k}`))];
    };
    const found = tools.flatMap((t) => [...open(t.inputSchema, `${t.name}.inputSchema`), ...open(t.outputSchema, `${t.name}.outputSchema`)]);
    assert.deepEqual(found, []);
  });

  it('platform.whoami reports the caller; platform.deployment the region, version and health', async () => {
    const who = (await client.callTool({ name: 'platform.whoami', arguments: {} })).structuredContent as Record<string, unknown>;
    assert.deepEqual(who, { tenantId: tenant.id, tenant: 'tools', subject: who['subject'], kind: 'api-key' });
    assert.match(String(who['subject']), /^key:/);
    const dep = await client.callTool({ name: 'platform.deployment', arguments: {} });
    const sc = dep.structuredContent as { region: string; version: string; health: Record<string, unknown> };
    assert.equal(sc.region, cluster.replicas[0]!.config.REGION);
    assert.equal(sc.version, cluster.replicas[0]!.config.VERSION);
    assert.equal(sc.health['postgres'], true);
    assert.equal(sc.health['redis'], true);
  });

  it('diagnostics.echo returns its text', async () => {
    assert.equal(textOf(await client.callTool({ name: 'diagnostics.echo', arguments: { text: 'hello, proxies' } })), 'hello, proxies');
  });

  it('diagnostics.sleep waits, refuses > 60000 ms, and stops when cancelled', async () => {
    const started = Date.now();
    await client.callTool({ name: 'diagnostics.sleep', arguments: { ms: 200 } });
    assert.ok(Date.now() - started >= 200);

    const tooLong = await client.callTool({ name: 'diagnostics.sleep', arguments: { ms: 60_001 } });
    assert.equal(tooLong.isError, true);

    const controller = new AbortController();
    const pending = client.callTool({ name: 'diagnostics.sleep', arguments: { ms: 30_000 } }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    const t0 = Date.now();
    await assert.rejects(pending);
    assert.ok(Date.now() - t0 < 5_000, 'cancellation ends the call promptly');
    // The server stopped sleeping too: the audited call ended in error well before 30 s.
    let cancelled: { outcome: string; durationMs?: number } | undefined;
    for (let i = 0; i < 30 && !cancelled; i++) {
      const entries = await cluster.replicas[0]!.audit.list({ tenantId: tenant.id, limit: 50 });
      cancelled = entries.find((e) => e.target === 'diagnostics.sleep' && e.outcome === 'error' && (e.durationMs ?? 0) >= 100);
      if (!cancelled) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(cancelled, 'the cancelled sleep was audited as ended');
    assert.ok((cancelled.durationMs ?? Infinity) < 5_000, `server-side sleep stopped early (${cancelled.durationMs} ms)`);
  });

  it('diagnostics.stream sends count progress notifications intervalMs apart, then {count}', async () => {
    const seen: { progress: number; total?: number; at: number }[] = [];
    const result = await client.callTool(
      { name: 'diagnostics.stream', arguments: { count: 5, intervalMs: 50 } },
      { onprogress: (p) => seen.push({ progress: p.progress, ...(p.total !== undefined ? { total: p.total } : {}), at: Date.now() }) },
    );
    assert.deepEqual(result.structuredContent, { count: 5 });
    assert.deepEqual(
      seen.map((s) => s.progress),
      [1, 2, 3, 4, 5],
    );
    assert.ok(seen.every((s) => s.total === 5));
    assert.ok(seen[4]!.at - seen[0]!.at >= 150, 'spaced about intervalMs apart');
  });

  it('diagnostics.stream without a progressToken is a clear error', async () => {
    const { message } = await call(cluster.replicas[0]!.mcpUrl, tenant.key, 'tools/call', {
      name: 'diagnostics.stream',
      arguments: { count: 2, intervalMs: 0 },
    });
    assert.equal(message.result?.isError, true);
    assert.match(JSON.stringify(message.result?.content), /progressToken/);
  });

  it('diagnostics.fail returns a tool error carrying the message', async () => {
    const result = await client.callTool({ name: 'diagnostics.fail', arguments: { message: 'boom on purpose' } });
    assert.equal(result.isError, true);
    assert.equal(textOf(result), 'boom on purpose');
  });

  it('audits every tools/call (actor, tool, outcome, duration) without argument values', async () => {
    await client.callTool({ name: 'diagnostics.echo', arguments: { text: 'secret-value-123' } });
    await client.callTool({ name: 'diagnostics.fail', arguments: { message: 'audited failure' } });
    let entries: Awaited<ReturnType<Cluster['replicas'][0]['audit']['list']>> = [];
    for (let i = 0; i < 20; i++) {
      entries = await cluster.replicas[0]!.audit.list({ tenantId: tenant.id, limit: 100 });
      if (entries.some((e) => e.target === 'diagnostics.fail' && e.outcome === 'error')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const echo = entries.find((e) => e.action === 'tools/call' && e.target === 'diagnostics.echo');
    assert.ok(echo, 'echo call audited');
    assert.equal(echo.outcome, 'ok');
    assert.match(echo.actor, /^key:/);
    assert.equal(typeof echo.durationMs, 'number');
    assert.ok(entries.some((e) => e.target === 'diagnostics.fail' && e.outcome === 'error'));
    assert.doesNotMatch(JSON.stringify(entries), /secret-value-123/);
  });
});
