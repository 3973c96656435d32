/**
 * Exposed tool names follow the MCP tool-name rule (SEP-986: 1-128 of A-Z a-z 0-9 _ - .) and never clash:
 * a namespace that could make ambiguous names is refused (400); an upstream tool whose exposed name would
 * break the rule is left out of the catalog, logged once and counted, while the rest keeps working; two
 * sources of one exposed name (root mounts, `ns__*` names, reserved built-ins) are refused at registration
 * (409), as is enabling a toolset whose built-ins a root mount exposes; one that appears later (an
 * upstream's list changed) is left out.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../../service/src/log/logger.js';
import { startCluster, type Cluster } from './support/gateway.js';
import { startModernUpstream, type UpstreamFixture } from './support/upstream-fixtures.js';

const LONGEST = 't'.repeat(128 - 'mod__'.length);

describe('federation: tool names', function () {
  this.timeout(60_000);
  let cluster: Cluster;
  const fixtures: UpstreamFixture[] = [];
  const lines: string[] = [];
  const upstream = async (label: string, tools: string[] = []) => {
    const f = await startModernUpstream(label);
    for (const t of tools) f.addTool(t);
    fixtures.push(f);
    return f;
  };
  const rejectedLines = () => lines.filter((l) => l.includes('upstream tool not listed'));
  const metric = async (reason: string, upstream: string) => {
    const text = await cluster.gateways[0]!.registry.metrics();
    const line = text
      .split('\n')
      .find((l) => l.startsWith('umcp_upstream_tools_rejected_total{') && l.includes(`upstream="${upstream}"`) && l.includes(`reason="${reason}"`));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };
  const eventually = async (check: () => Promise<boolean>, what: string) => {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`timed out waiting for ${what}`);
  };

  before(async () => {
    const destination = new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    cluster = await startCluster(1, {}, { logger: createLogger({ level: 'warn', destination }) });
  });
  after(async () => {
    await cluster?.stop();
    await Promise.all(fixtures.map((f) => f.close()));
  });

  describe('namespaces', () => {
    const cases: [string, string, RegExp][] = [
      ['ending in "_" (ns_ + __ + x reads as ns + _x)', 'ns_', /must not end with "_"/],
      ['longer than 40 characters', 'a'.repeat(41), /1-40/],
      ['containing the separator', 'a__b', /must not contain "__"/],
    ];
    for (const [what, name, message] of cases) {
      it(`refuses a namespace ${what} with 400`, async () => {
        await cluster.tenant(`ns-${fixtures.length}-${name.length}`);
        const r = await cluster.admin('POST', `/tenants/ns-${fixtures.length}-${name.length}/upstreams`, { name, url: 'http://127.0.0.1:1/mcp' });
        assert.equal(r.status, 400, JSON.stringify(r.body));
        assert.match([r.body.error.message, ...(r.body.error.issues ?? [])].join(' '), message);
      });
    }
  });

  describe('names that break the rule', () => {
    it('are left out of the catalog (logged once, counted once); the rest is listed and callable', async () => {
      const m = await upstream('m', ['bad name!', `${LONGEST}x`, LONGEST]);
      const { apiKey } = await cluster.tenant('acme');
      assert.equal((await cluster.admin('POST', '/tenants/acme/upstreams', { name: 'mod', url: m.url })).status, 201);
      for (const era of ['modern', 'legacy'] as const) {
        const client = await cluster.client(apiKey, era);
        const names = (await client.listTools()).tools.map((t) => t.name);
        assert.ok(names.includes('mod__echo') && names.includes(`mod__${LONGEST}`), names.join(','));
        assert.ok(!names.includes('mod__bad name!') && !names.some((n) => n.length > 128), names.join(','));
        assert.ok(
          names.every((n) => /^[A-Za-z0-9._-]{1,128}$/.test(n)),
          names.join(','),
        );
        const r = await client.callTool({ name: 'mod__echo', arguments: { text: 'ok' } });
        assert.equal((r.content as { text: string }[])[0]!.text, 'm:ok');
        // Not listed, so not routed either.
        await assert.rejects(client.callTool({ name: 'mod__bad name!', arguments: {} }), /Tool mod__bad name! not found/);
      }
      assert.equal(await metric('characters', 'mod'), 1);
      assert.equal(await metric('length', 'mod'), 1);
      assert.equal(rejectedLines().length, 2, rejectedLines().join('\n'));
      assert.match(rejectedLines().join('\n'), /"tool":"bad name!".*"reason":"characters"/);
      // The upstream's list changes: the catalog is rebuilt; the same names are not reported again.
      m.addTool('added_later');
      const client = await cluster.client(apiKey, 'modern');
      await eventually(async () => (await client.listTools()).tools.some((t) => t.name === 'mod__added_later'), 'the rebuilt catalog');
      assert.equal(await metric('characters', 'mod'), 1);
      assert.equal(rejectedLines().length, 2);
      const shown = await cluster.admin('POST', '/tenants/acme/upstreams/mod/test');
      assert.equal(shown.status, 200, JSON.stringify(shown.body));
    });
  });

  describe('clashes', () => {
    it('refuses a root mount exposing `ns__x` of a registered upstream `ns` (409)', async () => {
      const [m, r] = await Promise.all([upstream('m2'), upstream('r1', ['mod__echo'])]);
      await cluster.tenant('c1');
      assert.equal((await cluster.admin('POST', '/tenants/c1/upstreams', { name: 'mod', url: m.url })).status, 201);
      const clash = await cluster.admin('POST', '/tenants/c1/upstreams', { name: 'r', url: r.url, root: true });
      assert.equal(clash.status, 409, JSON.stringify(clash.body));
      assert.match(clash.body.error.message, /tool "mod__echo" \(upstream "mod"\)/);
    });

    it('refuses an upstream `ns` when a root mount exposes `ns__x` already (409)', async () => {
      const [m, r] = await Promise.all([upstream('m3'), upstream('r2', ['cat__x'])]);
      await cluster.tenant('c2');
      assert.equal((await cluster.admin('POST', '/tenants/c2/upstreams', { name: 'r', url: r.url, root: true })).status, 201);
      const clash = await cluster.admin('POST', '/tenants/c2/upstreams', { name: 'cat', url: m.url });
      assert.equal(clash.status, 409, JSON.stringify(clash.body));
      assert.match(clash.body.error.message, /upstream "cat" would expose names that already exist: tool "cat__x" \(root upstream "r"\)/);
      // Any other namespace is fine.
      assert.equal((await cluster.admin('POST', '/tenants/c2/upstreams', { name: 'other', url: m.url })).status, 201);
    });

    it('refuses a root mount exposing a reserved tool-search name, with or without the search toolset (409)', async () => {
      const r = await upstream('r3', ['search_tools']);
      await cluster.tenant('c3', ['diagnostics']);
      const clash = await cluster.admin('POST', '/tenants/c3/upstreams', { name: 'r', url: r.url, root: true });
      assert.equal(clash.status, 409, JSON.stringify(clash.body));
      assert.match(clash.body.error.message, /tool "search_tools" \(built-in\)/);
    });

    it('checks an update the same way: making an upstream a root mount that would clash is refused (409)', async () => {
      const [m, r] = await Promise.all([upstream('m5'), upstream('r5', ['cat__y'])]);
      await cluster.tenant('c5');
      assert.equal((await cluster.admin('POST', '/tenants/c5/upstreams', { name: 'cat', url: m.url })).status, 201);
      assert.equal((await cluster.admin('POST', '/tenants/c5/upstreams', { name: 'rr', url: r.url })).status, 201);
      const clash = await cluster.admin('PATCH', '/tenants/c5/upstreams/rr', { root: true });
      assert.equal(clash.status, 409, JSON.stringify(clash.body));
      assert.match(clash.body.error.message, /tool "cat__y" \(upstream "cat"\)/);
      assert.equal((await cluster.admin('GET', '/tenants/c5/upstreams/rr')).body.upstream.root, false, 'the refused update changed nothing');
    });

    it('refuses enabling a toolset whose built-ins a root mount exposes (409); other toolset changes pass', async () => {
      const r = await upstream('r6', ['platform.whoami']);
      await cluster.tenant('c6', ['diagnostics']);
      assert.equal((await cluster.admin('POST', '/tenants/c6/upstreams', { name: 'r', url: r.url, root: true })).status, 201);
      const clash = await cluster.admin('PATCH', '/tenants/c6', { toolsets: ['diagnostics', 'platform'] });
      assert.equal(clash.status, 409, JSON.stringify(clash.body));
      assert.match(clash.body.error.message, /these toolsets would add names that root upstreams expose: tool "platform.whoami" \(root upstream "r"\)/);
      assert.deepEqual((await cluster.admin('GET', '/tenants/c6')).body.tenant.toolsets, ['diagnostics'], 'the refused change changed nothing');
      const fine = await cluster.admin('PATCH', '/tenants/c6', { toolsets: ['diagnostics', 'search'] });
      assert.equal(fine.status, 200, JSON.stringify(fine.body));
    });

    it('leaves out a clash that appears after registration, counted as a collision', async () => {
      const [m, r] = await Promise.all([upstream('m4'), upstream('r4')]);
      const { apiKey } = await cluster.tenant('c4');
      assert.equal((await cluster.admin('POST', '/tenants/c4/upstreams', { name: 'mod', url: m.url })).status, 201);
      assert.equal((await cluster.admin('POST', '/tenants/c4/upstreams', { name: 'r', url: r.url, root: true })).status, 201);
      const client = await cluster.client(apiKey, 'modern');
      r.addTool('mod__late');
      r.addTool('fine_late');
      await eventually(async () => (await client.listTools()).tools.some((t) => t.name === 'fine_late'), 'the rebuilt catalog');
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.equal(names.filter((n) => n === 'mod__late').length, 0, names.join(','));
      assert.equal(await metric('collision', 'r'), 1);
      const r2 = await client.callTool({ name: 'mod__echo', arguments: { text: 'still' } });
      assert.equal((r2.content as { text: string }[])[0]!.text, 'm4:still');
    });
  });
});
