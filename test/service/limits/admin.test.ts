/**
 * The limits' admin API and CLI: validation answers 400 naming the field and what to write instead,
 * unknown tenants/limits 404, set replaces by name (same id, version + 1), every change is audited, and
 * `npm run admin -- limits set|list|delete|usage` prints what the API answered.
 */
import assert from 'node:assert/strict';
import { runAdminCli } from '../../support/admin-cli.js';
import { startTestGateway, type TestGateway } from '../../support/platform-gateway.js';
import { MCP_HEADERS, PING, rawRequest } from '../../support/platform-http.js';

/** The admin CLI with only PATH and `env` in its environment. */
const cli = (args: string[], env: Record<string, string>) => runAdminCli(args, { PATH: process.env.PATH, ...env });

describe('Limits: admin API and CLI', function () {
  this.timeout(60_000);
  let t: TestGateway;
  let apiKey: string;
  let keyId: string;

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${t.gateway.url}/admin/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${t.adminToken}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const run = (...args: string[]) => cli(args, { ADMIN_URL: t.gateway.url, ADMIN_TOKEN: t.adminToken });

  before(async () => {
    t = await startTestGateway({ env: { RATE_LIMIT_PER_MINUTE: '0' } });
    const created = await api('POST', '/tenants', { name: 'acme', toolsets: ['diagnostics'] });
    apiKey = created.body.apiKey;
    keyId = created.body.key.id;
  });
  after(async () => t?.stop());

  describe('validation (400)', () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['neither rate nor quota', {}, /a limit needs rate \(e\.g\. "10\/60s"\) or quota \(e\.g\. "1000\/day"\)/],
      ['both rate and quota', { rate: '1/s', quota: '5/day' }, /give rate or quota, not both/],
      ['a rate without a unit', { rate: '10/60' }, /rate must look like <count>\/<window>.*got "10\/60"/],
      ['a rate window over a day', { rate: '10/25h' }, /window of 1 s to 24 h/],
      ['a zero rate', { rate: '0/60s' }, /rate must look like/],
      ['a weekly quota', { quota: '5/week' }, /quota must look like <count>\/day.*got "5\/week"/],
      [
        'a request limit naming a tool',
        { appliesTo: 'requests', tool: 'search__*', rate: '1/s' },
        /requests limit counts every HTTP request to \/mcp, which names no tool or server/,
      ],
      ['a request limit split per server', { appliesTo: 'requests', per: ['server'], rate: '1/s' }, /requests limit counts every HTTP request/],
      ['a key that is not a key id', { key: 'my-key', rate: '1/s' }, /key: key must be an API key id/],
      ['an unknown dimension', { per: ['org'], rate: '1/s' }, /per\.0/],
      ['a dimension twice', { per: ['user', 'user'], rate: '1/s' }, /per names a dimension twice/],
      ['an unknown field', { rate: '1/s', window: 60 }, /window/],
      ['an unknown action', { rate: '1/s', action: 'block' }, /action/],
      ['a tool with spaces', { tool: 'a tool', rate: '1/s' }, /tool must be a tool name or glob/],
    ];
    for (const [what, body, message] of cases) {
      it(`refuses ${what}`, async () => {
        const r = await api('PUT', '/tenants/acme/limits/x', body);
        assert.equal(r.status, 400, JSON.stringify(r.body));
        const error = r.body.error as { message: string; issues?: string[] };
        assert.equal(error.message, 'invalid request body');
        assert.match((error.issues ?? []).join('\n'), message);
      });
    }
    it('refuses a bad limit name and the reserved name "usage"', async () => {
      const bad = await api('PUT', '/tenants/acme/limits/Bad%20Name', { rate: '1/s' });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /invalid limit name "Bad Name": 1-63 lower-case letters/);
      const reserved = await api('PUT', '/tenants/acme/limits/usage', { rate: '1/s' });
      assert.equal(reserved.status, 405, 'usage is the report, read with GET');
    });
    it('answers 404 for an unknown tenant or limit and 405 for a wrong method', async () => {
      assert.equal((await api('GET', '/tenants/nobody/limits')).status, 404);
      const missing = await api('DELETE', '/tenants/acme/limits/nope');
      assert.equal(missing.status, 404);
      assert.match(missing.body.error.message, /limit "nope" not found/);
      assert.equal((await api('POST', '/tenants/acme/limits', { rate: '1/s' })).status, 405);
    });
  });

  describe('set, list, delete, audit', () => {
    it('creates (201), replaces by name (200, same id, version 2), lists, deletes by id and by name; audited', async () => {
      const first = await api('PUT', '/tenants/acme/limits/search', { tool: 'search__*', per: ['user'], rate: '10/1m' });
      assert.equal(first.status, 201);
      assert.deepEqual(
        { ...first.body.limit, id: undefined, createdAt: undefined, updatedAt: undefined },
        {
          id: undefined,
          name: 'search',
          appliesTo: 'calls',
          match: { tool: 'search__*' },
          per: ['user'],
          kind: 'rate',
          max: 10,
          windowSeconds: 60,
          action: 'reject',
          summary: '10 per 60 s',
          version: 1,
          createdAt: undefined,
          updatedAt: undefined,
        },
      );
      const second = await api('PUT', '/tenants/acme/limits/search', { tool: 'search__*', quota: '500/day', action: 'log' });
      assert.equal(second.status, 200);
      assert.equal(second.body.limit.id, first.body.limit.id);
      assert.equal(second.body.limit.version, 2);
      assert.equal(second.body.limit.kind, 'quota');
      assert.equal(second.body.limit.windowSeconds, 86_400);
      await api('PUT', '/tenants/acme/limits/other', { key: keyId, rate: '5/s' });
      const list = await api('GET', '/tenants/acme/limits');
      assert.deepEqual(
        list.body.limits.map((l: { name: string }) => l.name),
        ['other', 'search'],
      );
      const shown = await api('GET', `/tenants/acme/limits/${first.body.limit.id}`);
      assert.equal(shown.status, 200);
      assert.equal(shown.body.limit.name, 'search');
      assert.equal((await api('GET', '/tenants/acme/limits/other')).body.limit.match.key, keyId);
      assert.equal((await api('GET', '/tenants/acme/limits/nope')).status, 404);
      assert.equal((await api('DELETE', `/tenants/acme/limits/${first.body.limit.id}`)).status, 204);
      assert.equal((await api('DELETE', '/tenants/acme/limits/other')).status, 204);
      assert.deepEqual((await api('GET', '/tenants/acme/limits')).body.limits, []);
      const audit = (await api('GET', '/audit?tenant=acme')).body.entries as { action: string; target: string; actor: string }[];
      const actions = audit.filter((e) => e.action.startsWith('limit.')).map((e) => `${e.action} ${e.target} ${e.actor}`);
      assert.deepEqual(actions.sort(), [
        'limit.delete other admin',
        'limit.delete search admin',
        'limit.set other admin',
        'limit.set search admin',
        'limit.set search admin',
      ]);
    });
  });

  describe('CLI', () => {
    it('limits set / list / usage / delete', async () => {
      const set = await run('limits', 'set', 'acme', 'echo', '--tool', 'diagnostics.*', '--per', 'user,tool', '--rate', '10/60s');
      assert.equal(set.code, 0, set.stderr);
      assert.match(set.stdout, /^limit echo set \([0-9a-f-]{36}\): 10 per 60 s calls, action reject$/m);
      const req = await run('limits', 'set', 'acme', 'requests', '--on', 'requests', '--key', keyId, '--quota', '1000/day', '--action', 'log');
      assert.equal(req.code, 0, req.stderr);
      const list = await run('limits', 'list', 'acme');
      assert.match(list.stdout, /^echo\t[0-9a-f-]{36}\tcalls\t10 per 60 s\ttool=diagnostics\.\*\tper user,tool\treject$/m);
      assert.match(list.stdout, new RegExp(`^requests\\t[0-9a-f-]{36}\\trequests\\t1000 per UTC day\\tkey=${keyId}\\tshared\\tlog$`, 'm'));
      // Two requests through the HTTP layer count against the request quota.
      for (let i = 0; i < 2; i++) {
        const res = await rawRequest(t.gateway.mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${apiKey}` }, body: PING });
        assert.equal(res.status, 200);
      }
      const usage = await run('limits', 'usage', 'acme');
      assert.match(usage.stdout, /^requests\tall\t2\/1000\tresets in \d+ s$/m);
      const json = JSON.parse((await run('limits', 'usage', 'acme', '--json')).stdout) as { usage: { limit: string; used: number }[] };
      assert.deepEqual(
        json.usage.map((u) => [u.limit, u.used]),
        [['requests', 2]],
      );
      assert.match((await run('limits', 'delete', 'acme', 'echo')).stdout, /^deleted limit echo$/m);
      assert.doesNotMatch((await run('limits', 'list', 'acme')).stdout, /^echo\t/m);
    });

    it('reports the API 400 for a bad rate (exit 1) and a missing rate or quota as usage (exit 2)', async () => {
      const bad = await run('limits', 'set', 'acme', 'x', '--rate', 'ten/minute');
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /invalid request body \(HTTP 400\)/);
      assert.match(bad.stderr, /rate: rate must look like <count>\/<window>/);
      const none = await run('limits', 'set', 'acme', 'x', '--tool', 'a');
      assert.equal(none.code, 2);
      assert.match(none.stderr, /limits set needs --rate N\/<window> \(e\.g\. 10\/60s\) or --quota N\/day/);
      const verb = await run('limits', 'show', 'acme');
      assert.equal(verb.code, 2);
      assert.match(verb.stderr, /unknown limits verb "show" \(set, list, delete, usage\)/);
    });
  });
});
