/**
 * Scopes on OAuth access tokens (issue 20), through a real gateway and MCP endpoint: `server:` / `tool:`
 * scopes in a JWT narrow the caller exactly as on an API key, and a token issued for a virtual server's own
 * resource URL (RFC 8707 audience `<audience>/<server>`, as its RFC 9728 metadata names it) is accepted
 * there and nowhere else.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { startTestGateway, type TestGateway } from '../../support/platform-gateway.js';
import { call } from '../mcp/support/rpc.js';

describe('virtual servers: scopes on OAuth access tokens', function () {
  this.timeout(60_000);
  let jwks: Server;
  let privateKey: CryptoKey;
  let issuer: string;
  let t: TestGateway;
  const PUBLIC = 'https://mcp.example.com';

  const token = (scope: string | undefined, aud = `${PUBLIC}/mcp`) =>
    new SignJWT({ tenant: 'acme', ...(scope !== undefined && { scope }) })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(issuer)
      .setAudience(aud)
      .setSubject('user-7')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
  const url = (server?: string) => `${t.gateway.mcpUrl}${server ? `/${server}` : ''}`;
  const tools = async (jwt: string, server?: string) => {
    const r = await call(url(server), jwt, 'tools/list');
    assert.equal(r.status, 200, JSON.stringify(r.message));
    return (r.message.result?.tools as { name: string }[]).map((x) => x.name).sort();
  };

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
    t = await startTestGateway({ realEndpoint: true, env: { OAUTH_ISSUER: issuer, OAUTH_JWKS_URL: `${issuer}/jwks.json`, PUBLIC_URL: PUBLIC } });
    await t.gateway.tenants.create({ name: 'acme', toolsets: ['platform', 'diagnostics'] });
    const res = await fetch(`${t.gateway.url}/admin/v1/tenants/acme/servers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'dev', include: ['platform.*'] }),
    });
    assert.equal(res.status, 201, await res.text());
  });
  after(async () => {
    await t?.stop();
    jwks?.close();
  });

  it('a token without server/tool scopes sees the whole tenant (other scopes are ignored)', async () => {
    const all = await tools(await token('openid mcp:call'));
    assert.ok(all.includes('diagnostics.echo') && all.includes('platform.whoami'));
  });

  it('a token scoped to one server is served that server at /mcp and refused elsewhere with 403', async () => {
    const jwt = await token('openid server:dev');
    assert.deepEqual(await tools(jwt), ['platform.deployment', 'platform.whoami']);
    const other = await call(url('ops'), jwt, 'tools/list');
    assert.equal(other.status, 403);
    assert.equal(other.message.error?.code, -32000);
  });

  it('tool scopes narrow the tools, by the name the caller sees', async () => {
    assert.deepEqual(await tools(await token('tool:platform.whoami tool:diagnostics.e*')), ['diagnostics.echo', 'platform.whoami']);
    const hidden = await call(url(), await token('tool:platform.whoami'), 'tools/call', { name: 'diagnostics.echo', arguments: { text: 'x' } });
    assert.equal(hidden.message.error?.code, -32602);
    assert.match(hidden.message.error?.message ?? '', /Tool diagnostics\.echo not found/);
  });

  it("accepts a token issued for the virtual server's own resource there, and only there", async () => {
    const jwt = await token(undefined, `${PUBLIC}/mcp/dev`);
    assert.deepEqual(await tools(jwt, 'dev'), ['platform.deployment', 'platform.whoami']);
    for (const where of [undefined, 'ops']) {
      const r = await call(url(where), jwt, 'tools/list');
      assert.equal(r.status, 401, where ?? '/mcp');
    }
    const unauth = await call(url('dev'), await token(undefined, `${PUBLIC}/mcp/ops`), 'tools/list');
    assert.equal(unauth.status, 401);
    assert.match(
      unauth.res.headers.get('www-authenticate') ?? '',
      /resource_metadata="https:\/\/mcp\.example\.com\/\.well-known\/oauth-protected-resource\/mcp\/dev"/,
    );
  });
});
