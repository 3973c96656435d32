import assert from 'node:assert/strict';
import { startTestGateway, type TestGateway } from '../../support/platform-gateway.js';
import { rawRequest, type RawResponse } from '../../support/platform-http.js';

describe('admin API (/admin/v1)', () => {
  let t: TestGateway;
  let api: (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<RawResponse>;

  before(async () => {
    t = await startTestGateway();
    api = (method, path, body, headers) =>
      rawRequest(`${t.gateway.url}/admin/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${t.adminToken}`, ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
        ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
  });
  after(async () => t.stop());

  describe('authentication', () => {
    it('answers 401 without or with a wrong admin token, saying which', async () => {
      const cases: [string | undefined, RegExp][] = [
        [undefined, /^admin token required: send Authorization: Bearer <ADMIN_TOKEN>$/],
        ['Bearer wrong', /^wrong admin token: /],
        [`Bearer ${t.adminToken}x`, /^wrong admin token: /],
        [t.adminToken, /^malformed Authorization header: expected "Bearer <ADMIN_TOKEN>"$/],
      ];
      for (const [authorization, message] of cases) {
        const res = await rawRequest(`${t.gateway.url}/admin/v1/tenants`, { headers: authorization ? { authorization } : {} });
        assert.equal(res.status, 401, String(authorization));
        const error = res.json<{ error: { code: string; message: string } }>().error;
        assert.equal(error.code, 'unauthorized');
        assert.match(error.message, message);
      }
    });

    it('is switched off (404) when ADMIN_TOKEN is not configured', async () => {
      const other = await startTestGateway({ env: { ADMIN_TOKEN: undefined } });
      try {
        assert.equal((await rawRequest(`${other.gateway.url}/admin/v1/tenants`, { headers: { authorization: 'Bearer x' } })).status, 404);
      } finally {
        await other.stop();
      }
    });
  });

  describe('tenants', () => {
    it('creates a tenant with its first key (201), shown once', async () => {
      const res = await api('POST', '/tenants', { name: 'acme', toolsets: ['platform', 'diagnostics'] });
      assert.equal(res.status, 201);
      const j = res.json<{ tenant: { id: string; name: string; status: string; toolsets: string[] }; apiKey: string; key: { prefix: string } }>();
      assert.equal(j.tenant.name, 'acme');
      assert.equal(j.tenant.status, 'active');
      assert.deepEqual(j.tenant.toolsets, ['platform', 'diagnostics']);
      assert.match(j.apiKey, new RegExp(`^umcp_${j.key.prefix}_`));
      const keys = (await api('GET', '/tenants/acme/keys')).body;
      // The secret is everything after `umcp_<prefix>_` (base64url: it may itself contain `_`).
      const secret = j.apiKey.slice(`umcp_${j.key.prefix}_`.length);
      assert.equal(secret.length, 43);
      assert.ok(!keys.includes(secret), 'the secret is never listed');
    });

    it('lists and shows tenants by id or by name', async () => {
      const created = (await api('POST', '/tenants', { name: 'listed', createKey: false })).json<{ tenant: { id: string }; apiKey?: string }>();
      assert.equal(created.apiKey, undefined);
      const names = (await api('GET', '/tenants')).json<{ tenants: { name: string }[] }>().tenants.map((x) => x.name);
      assert.ok(names.includes('listed'));
      assert.equal((await api('GET', `/tenants/${created.tenant.id}`)).json<{ tenant: { name: string } }>().tenant.name, 'listed');
      assert.equal((await api('GET', '/tenants/listed')).json<{ tenant: { id: string } }>().tenant.id, created.tenant.id);
    });

    it('disables, enables and updates toolsets', async () => {
      await api('POST', '/tenants', { name: 'toggle' });
      assert.equal((await api('POST', '/tenants/toggle/disable')).json<{ tenant: { status: string } }>().tenant.status, 'disabled');
      assert.equal((await api('POST', '/tenants/toggle/enable')).json<{ tenant: { status: string } }>().tenant.status, 'active');
      assert.equal((await api('PATCH', '/tenants/toggle', { toolsets: ['typo'] })).status, 400);
      const patched = await api('PATCH', '/tenants/toggle', { toolsets: ['conformance'] });
      assert.deepEqual(patched.json<{ tenant: { toolsets: string[] } }>().tenant.toolsets, ['conformance']);
    });

    it('answers 409 for a duplicate name', async () => {
      await api('POST', '/tenants', { name: 'dup' });
      const res = await api('POST', '/tenants', { name: 'dup' });
      assert.equal(res.status, 409);
      assert.deepEqual(res.json<{ error: { code: string } }>().error.code, 'conflict');
    });

    it('answers 400 with the offending fields for invalid bodies', async () => {
      const cases: [unknown, RegExp][] = [
        [{ name: 'Bad Name' }, /^name: a tenant name/],
        [{}, /^name: /],
        [{ name: 'ok', toolsets: ['UPPER'] }, /^toolsets\.0: a toolset name/],
        [{ name: 'ok', extra: 1 }, /extra/],
        [{ name: 'ok', toolsets: ['nope'] }, /^toolsets: unknown toolset\(s\): nope \(known: .*platform/],
        ['{"name":', /not valid JSON/],
      ];
      for (const [body, pattern] of cases) {
        const res = await api('POST', '/tenants', body);
        assert.equal(res.status, 400, JSON.stringify(body));
        const err = res.json<{ error: { code: string; message: string; issues?: string[] } }>().error;
        assert.equal(err.code, 'bad_request');
        assert.ok(pattern.test(err.message) || (err.issues ?? []).some((i) => pattern.test(i)), `${JSON.stringify(body)} -> ${JSON.stringify(err)}`);
      }
      const wrongType = await api('POST', '/tenants', 'name=x', { 'content-type': 'text/plain' });
      assert.equal(wrongType.status, 400);
      assert.match(wrongType.json<{ error: { message: string } }>().error.message, /application\/json/);
    });

    it('answers 404 for unknown tenants and routes, 405 for wrong methods', async () => {
      assert.equal((await api('GET', '/tenants/nobody')).status, 404);
      assert.equal((await api('POST', '/tenants/nobody/disable')).status, 404);
      assert.equal((await api('GET', '/tenants/00000000-0000-4000-8000-000000000000')).status, 404);
      assert.equal((await api('GET', '/nothing')).status, 404);
      assert.equal((await api('DELETE', '/tenants')).status, 405);
      assert.equal((await api('GET', '/tenants/acme/disable')).status, 405);
    });
  });

  describe('keys', () => {
    it('creates, lists and revokes keys; revoking an unknown key is 404', async () => {
      await api('POST', '/tenants', { name: 'keyed', createKey: false });
      const created = await api('POST', '/tenants/keyed/keys', { name: 'ci' });
      assert.equal(created.status, 201);
      const { key } = created.json<{ key: { id: string; name: string }; apiKey: string }>();
      assert.equal(key.name, 'ci');
      const listed = (await api('GET', '/tenants/keyed/keys')).json<{ keys: { id: string; revokedAt: string | null }[] }>().keys;
      assert.deepEqual(
        listed.map((k) => [k.id, k.revokedAt]),
        [[key.id, null]],
      );
      assert.equal((await api('DELETE', `/tenants/keyed/keys/${key.id}`)).status, 204);
      assert.equal((await api('DELETE', `/tenants/keyed/keys/${key.id}`)).status, 204, 'idempotent');
      assert.ok((await api('GET', '/tenants/keyed/keys')).json<{ keys: { revokedAt: string | null }[] }>().keys[0]!.revokedAt);
      assert.equal((await api('DELETE', '/tenants/keyed/keys/00000000-0000-4000-8000-000000000000')).status, 404);
      assert.equal((await api('DELETE', '/tenants/acme/keys/' + key.id)).status, 404, "another tenant's key");
      assert.equal((await api('POST', '/tenants/keyed/keys', { name: '' })).status, 400);
    });
  });

  describe('audit', () => {
    it('records every admin change with actor, target, outcome, duration and request id', async () => {
      await api('POST', '/tenants', { name: 'audited' }, { 'x-request-id': 'audit-req-1' });
      await api('POST', '/tenants/audited/disable');
      const entries = (await api('GET', '/audit?tenant=audited')).json<{
        entries: { actor: string; action: string; target?: string; outcome: string; durationMs?: number; requestId?: string }[];
      }>().entries;
      assert.deepEqual(
        entries.map((e) => e.action),
        ['tenant.disable', 'key.create', 'tenant.create'],
      );
      const create = entries.find((e) => e.action === 'tenant.create')!;
      assert.equal(create.actor, 'admin');
      assert.equal(create.target, 'audited');
      assert.equal(create.outcome, 'ok');
      assert.equal(create.requestId, 'audit-req-1');
      assert.equal(typeof create.durationMs, 'number');
      assert.equal((await api('GET', '/audit?limit=0')).status, 400);
      assert.equal((await api('GET', '/audit?limit=2')).json<{ entries: unknown[] }>().entries.length, 2);
    });
  });
});
