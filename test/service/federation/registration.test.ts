/**
 * Registration through the admin API: validation errors, SSRF refusals with the rule named, namespace
 * and root-mount clashes, credentials encrypted at rest and never returned, credentials reaching the
 * upstream, update/remove/test, tenant isolation, and master-key rotation.
 */
import assert from 'node:assert/strict';
import pg from 'pg';
import { startGateway } from '../../../service/src/app.js';
import { loadConfig } from '../../../service/src/config.js';
import { createLogger } from '../../../service/src/log/logger.js';
import { startCluster, type Cluster } from './support/gateway.js';
import { startLegacyUpstream, startModernUpstream, type UpstreamFixture } from './support/upstream-fixtures.js';
import { randomBytes } from 'node:crypto';
import { freePort } from '../../../service/src/local/free-port.js';

describe('federation: registration', function () {
  this.timeout(60_000);
  let cluster: Cluster;
  let modern: UpstreamFixture;
  let legacy: UpstreamFixture;

  before(async () => {
    [cluster, modern, legacy] = await Promise.all([startCluster(1), startModernUpstream('m'), startLegacyUpstream('l')]);
    await cluster.tenant('acme');
    await cluster.tenant('other');
  });
  after(async () => {
    await cluster?.stop();
    await Promise.all([modern?.close(), legacy?.close()]);
  });

  describe('validation', () => {
    const cases: [string, unknown, RegExp][] = [
      ['namespace with the separator', { name: 'a__b', url: 'http://127.0.0.1:1/mcp' }, /must not contain .{0,3}__/],
      ['upper-case namespace', { name: 'Bad', url: 'http://127.0.0.1:1/mcp' }, /a namespace/],
      ['missing url', { name: 'x' }, /url/],
      ['unknown field', { name: 'x', url: 'http://127.0.0.1:1/mcp', colour: 'red' }, /colour|Unrecognized/i],
      ['bad concurrency', { name: 'x', url: 'http://127.0.0.1:1/mcp', maxConcurrency: 0 }, /maxConcurrency/],
      ['protocol header as credential', { name: 'x', url: 'http://127.0.0.1:1/mcp', credentials: { headers: { Host: 'evil' } } }, /protocol headers/],
    ];
    for (const [what, body, message] of cases) {
      it(`refuses ${what} with 400 and the reason`, async () => {
        const r = await cluster.admin('POST', '/tenants/acme/upstreams', body);
        assert.equal(r.status, 400, JSON.stringify(r.body));
        assert.match(JSON.stringify(r.body.error), message);
      });
    }

    it('refuses a non-http scheme naming the rule', async () => {
      const r = await cluster.admin('POST', '/tenants/acme/upstreams', { name: 'x', url: 'file:///etc/passwd' });
      assert.equal(r.status, 400);
      assert.equal(r.body.error.code, 'scheme');
      assert.match(r.body.error.message, /only http and https/);
    });

    it('refuses a taken namespace with 409 and an unknown upstream with 404', async () => {
      assert.equal((await cluster.admin('POST', '/tenants/acme/upstreams', { name: 'dup', url: modern.url })).status, 201);
      const again = await cluster.admin('POST', '/tenants/acme/upstreams', { name: 'dup', url: legacy.url });
      assert.equal(again.status, 409);
      assert.match(again.body.error.message, /namespace "dup" is already registered/);
      assert.equal((await cluster.admin('GET', '/tenants/acme/upstreams/ghost')).status, 404);
      assert.equal((await cluster.admin('DELETE', '/tenants/acme/upstreams/dup')).status, 204);
    });
  });

  describe('root mounts', () => {
    it('mounts without prefix and refuses a second root whose names clash', async () => {
      assert.equal((await cluster.admin('POST', '/tenants/other/upstreams', { name: 'r1', url: modern.url, root: true })).status, 201);
      const clash = await cluster.admin('POST', '/tenants/other/upstreams', { name: 'r2', url: legacy.url, root: true });
      assert.equal(clash.status, 409, JSON.stringify(clash.body));
      assert.match(clash.body.error.message, /tool "echo" \(root upstream "r1"\)/);
      const { apiKey } = await cluster.tenant('rooted');
      assert.equal((await cluster.admin('POST', '/tenants/rooted/upstreams', { name: 'r', url: modern.url, root: true })).status, 201);
      const client = await cluster.client(apiKey, 'modern');
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(names.includes('echo') && !names.includes('r__echo'), names.join(','));
      const r = await client.callTool({ name: 'echo', arguments: { text: 'root' } });
      assert.equal((r.content as { text: string }[])[0]!.text, 'm:root');
      const read = await client.readResource({ uri: 'mem://readme' });
      assert.equal(read.contents[0]!.uri, 'mem://readme');
    });
  });

  describe('credentials', () => {
    it('encrypts them at rest, never returns them, and sends them to the upstream', async () => {
      const token = `tok-${randomBytes(8).toString('hex')}`;
      const r = await cluster.admin('POST', '/tenants/acme/upstreams', {
        name: 'secure',
        url: modern.url,
        credentials: { bearer: token, headers: { 'X-Api-Key': 'k-123456' } },
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.doesNotMatch(JSON.stringify(r.body), new RegExp(token));
      assert.deepEqual(r.body.upstream.auth, { kind: 'bearer', headerNames: ['X-Api-Key'], bearer: true });
      const shown = await cluster.admin('GET', '/tenants/acme/upstreams/secure');
      assert.doesNotMatch(JSON.stringify(shown.body), /k-123456|tok-/);

      const db = new pg.Client({ connectionString: cluster.db.url });
      await db.connect();
      try {
        const { rows } = await db.query("SELECT credentials, credential_summary::text AS s FROM upstreams WHERE namespace = 'secure'");
        const blob = rows[0].credentials as Buffer;
        assert.ok(blob.length > 40, 'ciphertext stored');
        assert.ok(!blob.includes(Buffer.from(token)) && !blob.includes(Buffer.from('k-123456')), 'column holds no plaintext');
        assert.doesNotMatch(rows[0].s, /tok-|k-123456/);
        const keys = await db.query('SELECT wrapped_key, master_key_id FROM tenant_data_keys');
        assert.equal(keys.rowCount, 1);
        assert.ok(!(keys.rows[0].wrapped_key as Buffer).includes(Buffer.from(cluster.masterKey, 'base64')));
        const audit = await db.query('SELECT detail::text AS d FROM audit_log');
        assert.ok(
          audit.rows.every((x: { d: string | null }) => !x.d || !x.d.includes(token)),
          'audit never holds the secret',
        );
      } finally {
        await db.end();
      }

      const test = await cluster.admin('POST', '/tenants/acme/upstreams/secure/test');
      assert.equal(test.body.test.ok, true, JSON.stringify(test.body));
      assert.equal(modern.seen.authorization, `Bearer ${token}`);
      assert.equal(modern.seen.apiKey, 'k-123456');
    });
  });

  describe('update, test, remove', () => {
    it('reports the protocol generation of each upstream', async () => {
      assert.equal((await cluster.admin('POST', '/tenants/acme/upstreams', { name: 'gen', url: legacy.url })).status, 201);
      const legacyTest = (await cluster.admin('POST', '/tenants/acme/upstreams/gen/test')).body.test;
      assert.equal(legacyTest.era, 'legacy');
      assert.match(legacyTest.protocolVersion, /^2025-/);
      // The 2025-era fixture's seven tools plus ask_named and bound_job (2025-era only).
      assert.deepEqual(legacyTest.counts, { tools: 9, resources: 1, resourceTemplates: 1, prompts: 1 });
      const upd = await cluster.admin('PATCH', '/tenants/acme/upstreams/gen', { url: modern.url, timeouts: { callMs: 2000 } });
      assert.equal(upd.status, 200, JSON.stringify(upd.body));
      assert.equal(upd.body.upstream.version, 2);
      assert.equal(upd.body.upstream.options.timeouts.callMs, 2000);
      const modernTest = (await cluster.admin('POST', '/tenants/acme/upstreams/gen/test')).body.test;
      assert.equal(modernTest.era, 'modern');
      assert.equal(modernTest.protocolVersion, '2026-07-28');
      assert.equal((await cluster.admin('DELETE', '/tenants/acme/upstreams/gen')).status, 204);
      assert.equal((await cluster.admin('GET', '/tenants/acme/upstreams/gen')).status, 404);
    });

    it('reports an unreachable upstream as a failed test naming it', async () => {
      assert.equal(
        (await cluster.admin('POST', '/tenants/acme/upstreams', { name: 'dead', url: 'http://127.0.0.1:9/mcp', timeouts: { connectMs: 500 } })).status,
        201,
      );
      const t = (await cluster.admin('POST', '/tenants/acme/upstreams/dead/test')).body.test;
      assert.equal(t.ok, false);
      assert.match(t.error, /upstream "dead"/);
      assert.equal((await cluster.admin('DELETE', '/tenants/acme/upstreams/dead')).status, 204);
      // What stopped it, not only fetch's "fetch failed": nothing listens on that port.
      const closed = await freePort();
      assert.equal((await cluster.admin('POST', '/tenants/acme/upstreams', { name: 'gone', url: `http://127.0.0.1:${closed}/mcp` })).status, 201);
      const g = (await cluster.admin('POST', '/tenants/acme/upstreams/gone/test')).body.test;
      assert.equal(g.ok, false);
      assert.match(g.error, new RegExp(`upstream "gone": unreachable: .*fetch failed \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${closed}\\)`));
      assert.equal((await cluster.admin('DELETE', '/tenants/acme/upstreams/gone')).status, 204);
    });
  });

  describe('tenant isolation', () => {
    it("never shows or routes to another tenant's upstreams", async () => {
      const { apiKey } = await cluster.tenant('iso-a');
      const b = await cluster.tenant('iso-b');
      assert.equal((await cluster.admin('POST', '/tenants/iso-a/upstreams', { name: 'priv', url: modern.url })).status, 201);
      const a = await cluster.client(apiKey, 'legacy');
      assert.ok((await a.listTools()).tools.some((t) => t.name === 'priv__echo'));
      const other = await cluster.client(b.apiKey, 'modern');
      assert.ok(!(await other.listTools()).tools.some((t) => t.name.startsWith('priv__')));
      await assert.rejects(other.callTool({ name: 'priv__echo', arguments: { text: 'x' } }), /not found/);
      assert.deepEqual((await cluster.admin('GET', '/tenants/iso-b/upstreams')).body.upstreams, []);
    });
  });

  describe('master key rotation', () => {
    it('re-wraps data keys under a new master key; credentials keep working', async () => {
      const newKey = randomBytes(32).toString('base64');
      const { testEnv } = await import('../../support/platform-gateway.js');
      const env = testEnv(
        { SECRETS_MASTER_KEY: newKey, SECRETS_PREVIOUS_MASTER_KEYS: cluster.masterKey, UPSTREAM_ALLOWLIST: '127.0.0.0/8' },
        cluster.db,
        cluster.prefix,
        'x'.repeat(32),
      );
      const gw = await startGateway(loadConfig(env), { logger: createLogger({ level: 'silent' }) });
      try {
        const res = await fetch(`${gw.url}/admin/v1/secrets/rotate-master`, { method: 'POST', headers: { authorization: `Bearer ${'x'.repeat(32)}` } });
        const body = (await res.json()) as { rewrapped: number; remaining: number; masterKeyId: string };
        assert.equal(res.status, 200, JSON.stringify(body));
        assert.ok(body.rewrapped >= 1 && body.remaining === 0, JSON.stringify(body));
        const t = await fetch(`${gw.url}/admin/v1/tenants/acme/upstreams/secure/test`, {
          method: 'POST',
          headers: { authorization: `Bearer ${'x'.repeat(32)}` },
        });
        assert.equal(((await t.json()) as { test: { ok: boolean } }).test.ok, true, 'credentials decrypt under the new master key');
      } finally {
        await gw.close();
      }
    });
  });
});
