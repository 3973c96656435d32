import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { startTestGateway, type TestGateway } from '../../support/platform-gateway.js';
import { MCP_HEADERS, PING, rawRequest } from '../../support/platform-http.js';

async function createTenant(t: TestGateway, name: string, toolsets: string[] = ['platform']): Promise<{ id: string; apiKey: string; keyId: string }> {
  const res = await rawRequest(`${t.gateway.url}/admin/v1/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name, toolsets }),
  });
  assert.equal(res.status, 201, res.body);
  const j = res.json<{ tenant: { id: string }; apiKey: string; key: { id: string } }>();
  return { id: j.tenant.id, apiKey: j.apiKey, keyId: j.key.id };
}

const mcp = (t: TestGateway, headers: Record<string, string> = {}, body = PING) =>
  rawRequest(t.gateway.mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, ...headers }, body });

describe('HTTP edge: authentication of /mcp', () => {
  let t: TestGateway;
  afterEach(async () => t?.stop());

  describe('API keys', () => {
    beforeEach(async () => {
      t = await startTestGateway();
    });

    it('answers 401 with a JSON-RPC error and a WWW-Authenticate challenge naming the metadata', async () => {
      const res = await mcp(t);
      assert.equal(res.status, 401);
      const body = res.json<{ jsonrpc: string; error: { code: number; message: string }; id: null }>();
      assert.equal(body.jsonrpc, '2.0');
      assert.equal(body.id, null);
      assert.match(body.error.message, /Unauthorized/);
      assert.equal(res.headers['www-authenticate'], `Bearer resource_metadata="${t.gateway.url}/.well-known/oauth-protected-resource"`);
      assert.equal(t.calls.length, 0, 'the endpoint never saw the request');
    });

    it('marks a bad credential as invalid_token', async () => {
      for (const auth of ['Bearer umcp_000000000000_' + 'A'.repeat(43), 'Bearer garbage', 'Basic dXNlcjpwdw==']) {
        const res = await mcp(t, { authorization: auth });
        assert.equal(res.status, 401, auth);
        assert.match(String(res.headers['www-authenticate']), /^Bearer error="invalid_token", error_description="[^"]+", resource_metadata="/);
      }
    });

    it('serves the RFC 9728 protected-resource metadata', async () => {
      for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
        const res = await rawRequest(`${t.gateway.url}${path}`);
        assert.equal(res.status, 200);
        const doc = res.json<{ resource: string; authorization_servers: string[]; bearer_methods_supported: string[] }>();
        assert.equal(doc.resource, t.gateway.mcpUrl);
        assert.deepEqual(doc.bearer_methods_supported, ['header']);
        assert.deepEqual(doc.authorization_servers, []);
      }
    });

    it('hands the tenant principal and the request id to the endpoint', async () => {
      const acme = await createTenant(t, 'acme', ['platform', 'diagnostics']);
      const res = await mcp(t, { authorization: `Bearer ${acme.apiKey}`, 'x-request-id': 'trace-123' });
      assert.equal(res.status, 200, res.body);
      assert.equal(res.headers['x-request-id'], 'trace-123');
      assert.equal(t.calls.length, 1);
      assert.deepEqual(t.calls[0]!.principal, {
        tenantId: acme.id,
        tenantName: 'acme',
        subject: `key:${acme.keyId}`,
        kind: 'api-key',
        toolsets: ['platform', 'diagnostics'],
        scopes: [],
      });
      assert.equal(t.calls[0]!.requestId, 'trace-123');
      assert.equal(t.calls[0]!.body, PING);
    });

    it('generates a request id when none (or an unsafe one) is sent', async () => {
      const res = await rawRequest(`${t.gateway.url}/healthz`, { headers: { 'x-request-id': 'bad id\twith spaces' } });
      assert.match(String(res.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    });

    it('refuses a revoked key and a disabled tenant at once on the replica that changed them', async () => {
      const acme = await createTenant(t, 'acme');
      assert.equal((await mcp(t, { authorization: `Bearer ${acme.apiKey}` })).status, 200);
      const admin = { authorization: `Bearer ${t.adminToken}` };
      assert.equal((await rawRequest(`${t.gateway.url}/admin/v1/tenants/acme/disable`, { method: 'POST', headers: admin })).status, 200);
      const disabled = await mcp(t, { authorization: `Bearer ${acme.apiKey}` });
      assert.equal(disabled.status, 401);
      // The refusal says what really happened (issue 18: it said "unknown or revoked API key").
      assert.match(disabled.json<{ error: { message: string } }>().error.message, /tenant "acme" is disabled/);
      assert.match(String(disabled.headers['www-authenticate']), /error_description="tenant acme is disabled/);
      assert.equal((await rawRequest(`${t.gateway.url}/admin/v1/tenants/acme/enable`, { method: 'POST', headers: admin })).status, 200);
      assert.equal((await mcp(t, { authorization: `Bearer ${acme.apiKey}` })).status, 200);
      const del = await rawRequest(`${t.gateway.url}/admin/v1/tenants/acme/keys/${acme.keyId}`, { method: 'DELETE', headers: admin });
      assert.equal(del.status, 204);
      const revoked = await mcp(t, { authorization: `Bearer ${acme.apiKey}` });
      assert.equal(revoked.status, 401);
      assert.match(revoked.json<{ error: { message: string } }>().error.message, /this API key was revoked/);
      // A key nobody issued, and an issued key's prefix with a wrong secret, learn only "unknown".
      const forged = acme.apiKey.slice(0, -4) + (acme.apiKey.endsWith('AAAA') ? 'BBBB' : 'AAAA');
      for (const key of ['umcp_000000000000_' + 'A'.repeat(43), forged]) {
        const res = await mcp(t, { authorization: `Bearer ${key}` });
        assert.equal(res.status, 401);
        assert.match(res.json<{ error: { message: string } }>().error.message, /unknown API key/);
      }
    });
  });

  describe('anonymous mode', () => {
    it('lets requests without credentials act as ANONYMOUS_TENANT, but still checks given credentials', async () => {
      t = await startTestGateway({ env: { ANONYMOUS_TENANT: 'demo' } });
      assert.equal((await mcp(t)).status, 401, 'the tenant does not exist yet');
      const demo = await createTenant(t, 'demo');
      const res = await mcp(t);
      assert.equal(res.status, 200, res.body);
      assert.equal(t.calls[0]!.principal.kind, 'anonymous');
      assert.equal(t.calls[0]!.principal.subject, 'anonymous');
      assert.equal(t.calls[0]!.principal.tenantId, demo.id);
      assert.equal((await mcp(t, { authorization: 'Bearer wrong' })).status, 401);
    });
  });

  describe('OAuth 2.1 access tokens (JWT)', () => {
    let jwks: Server;
    let privateKey: CryptoKey;
    let issuer: string;

    before(async () => {
      const pair = await generateKeyPair('ES256');
      privateKey = pair.privateKey;
      const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
      jwks = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ keys: [jwk] }));
      }).listen(0, '127.0.0.1');
      await new Promise((r) => jwks.once('listening', r));
      issuer = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}`;
    });
    after(() => jwks.close());

    const token = (claims: Record<string, unknown>, opts: { aud?: string; exp?: string; iss?: string } = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(opts.iss ?? issuer)
        .setAudience(opts.aud ?? 'https://mcp.example.com/mcp')
        .setSubject('user-42')
        .setIssuedAt()
        .setExpirationTime(opts.exp ?? '5m')
        .sign(privateKey);

    beforeEach(async () => {
      t = await startTestGateway({
        env: { OAUTH_ISSUER: issuer, OAUTH_JWKS_URL: `${issuer}/jwks.json`, PUBLIC_URL: 'https://mcp.example.com', ALLOWED_HOSTS: '127.0.0.1' },
      });
    });

    it('accepts a valid token: tenant from the `tenant` claim, subject oauth:<sub>, scopes', async () => {
      const acme = await createTenant(t, 'acme');
      const res = await mcp(t, { authorization: `Bearer ${await token({ tenant: 'acme', scope: 'mcp:read mcp:call' })}` });
      assert.equal(res.status, 200, res.body);
      assert.deepEqual(t.calls[0]!.principal, {
        tenantId: acme.id,
        tenantName: 'acme',
        subject: 'oauth:user-42',
        kind: 'oauth',
        toolsets: ['platform'],
        scopes: ['mcp:read', 'mcp:call'],
      });
    });

    it('refuses wrong audience, wrong issuer, expired tokens and unknown tenants', async () => {
      await createTenant(t, 'acme');
      const bad = [
        await token({ tenant: 'acme' }, { aud: 'https://other.example/mcp' }),
        await token({ tenant: 'acme' }, { iss: 'http://127.0.0.1:1' }),
        await token({ tenant: 'acme' }, { exp: '-1m' }),
        await token({ tenant: 'nobody' }),
        await token({}),
      ];
      for (const jwt of bad) {
        const res = await mcp(t, { authorization: `Bearer ${jwt}` });
        assert.equal(res.status, 401, res.body);
        assert.match(
          String(res.headers['www-authenticate']),
          /error="invalid_token".*resource_metadata="https:\/\/mcp\.example\.com\/\.well-known\/oauth-protected-resource"/,
        );
      }
      assert.equal(t.calls.length, 0);
    });

    it('advertises the issuer in the protected-resource metadata', async () => {
      const doc = (await rawRequest(`${t.gateway.url}/.well-known/oauth-protected-resource`)).json<{ resource: string; authorization_servers: string[] }>();
      assert.equal(doc.resource, 'https://mcp.example.com/mcp');
      assert.deepEqual(doc.authorization_servers, [issuer]);
    });
  });
});
