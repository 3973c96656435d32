/**
 * Per-user upstream credentials (`auth: per-user-oauth`), end to end on loopback with no mock of the flow:
 * a real authorization server (oidc-provider: authorization code + PKCE, refresh tokens, RFC 8707 resource
 * indicators, ES256 JWT access tokens, revocation), real protected MCP upstreams (2026-07-28 and 2025-era)
 * that verify each token and report its subject, two gateway replicas on one PostgreSQL and Redis, and the
 * user's browser as plain HTTP requests (login and consent forms posted, redirects followed).
 *
 * Checked: the first call answers with URL-mode elicitation (2025-era: -32042 URLElicitationRequired;
 * 2026-07-28: input_required, which the SDK client answers and retries); consent started on one replica
 * and finished on the other; two users get their own tokens (the upstream sees two subjects); refresh
 * before expiry, one refresh for concurrent calls on two replicas (rotating refresh tokens would fail a
 * second one); revocation by the user (endpoint) and by the admin (API and CLI, audited, sent to the AS);
 * wrong / replayed / expired state and access_denied as error pages, reported with the next elicitation;
 * a refresh that fails asks for consent again; token exchange refused for API-key callers; no token or
 * secret in logs, Redis, the audit log, the token table or admin answers.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createLogger } from '../../../service/src/log/logger.js';
import { testServiceUrls } from '../../support/platform-db.js';
import { startCluster, type Cluster } from './support/gateway.js';
import { rpcError, startProtectedUpstream, type ProtectedUpstreamFixture } from './support/oauth-fixtures.js';
import { Browser, startOidcAs, type OidcAs } from './support/oidc-as.js';
import { runAdminCli } from '../../support/admin-cli.js';

const text = (r: unknown) => (r as { content: { text: string }[] }).content[0]!.text;
const CONSENT_TTL_MS = 8_000;

describe('federation: per-user upstream credentials (OAuth authorization code)', function () {
  this.timeout(90_000);
  let cluster: Cluster;
  let as: OidcAs;
  const ups: Record<'modern' | 'legacy', ProtectedUpstreamFixture> = {} as never;
  const keys: Record<'alice' | 'bob', { apiKey: string; subject: string }> = {} as never;
  const logLines: string[] = [];
  const consoleLines: string[] = [];
  const adminBodies: string[] = [];
  const clients: Client[] = [];
  const clientSecret = `pu-secret-${Math.random().toString(36).slice(2)}`;
  const original = { warn: console.warn, error: console.error };
  /** Every consent link the gateway handed out. */
  const links: string[] = [];
  /** Tokens the upstreams answer with 401 (a revocation the resource learnt of). */
  const rejected = new Set<string>();
  /** /metrics of the replicas (the leak check reads them too). */
  const metricsTexts: string[] = [];

  const admin = async (method: string, path: string, body?: unknown, i = 0) => {
    const r = await cluster.admin(method, path, body, i);
    adminBodies.push(JSON.stringify(r.body ?? null));
    return r;
  };
  const cli = (...args: string[]) => runAdminCli(args, { ...process.env, ADMIN_URL: cluster.gateways[0]!.url, ADMIN_TOKEN: cluster.adminToken });
  const isCallback = (u: URL) => u.pathname === '/oauth/upstreams/callback';
  /** The callback URL moved to replica `i` (a load balancer may send the browser to any replica). */
  const onReplica = (callback: string, i: number) => {
    const u = new URL(callback);
    const g = new URL(cluster.gateways[i]!.url);
    u.host = g.host;
    return u.href;
  };
  /** The user's browser: consent at `link` as `login`; the callback lands on replica `finishOn`. */
  const consent = async (link: string, login: string, finishOn = 1) => {
    const browser = new Browser();
    const callback = await browser.signInAndConsent(link, login, isCallback);
    const done = await browser.open(onReplica(callback, finishOn));
    assert.equal(done.status, 200, done.text);
    assert.match(done.text, /Connected/);
    assert.match(done.text, /Return to your client/);
  };
  /** An SDK client of user `who` on replica `i`; with `onUrl` it answers URL-mode elicitations (2026-07-28 rounds). */
  const connect = async (who: 'alice' | 'bob', era: 'modern' | 'legacy', i = 0, onUrl?: (url: string) => Promise<void>) => {
    const client = new Client(
      { name: 'per-user-test', version: '1' },
      { versionNegotiation: { mode: era === 'modern' ? { pin: '2026-07-28' } : 'legacy' }, ...(onUrl && { capabilities: { elicitation: { url: {} } } }) },
    );
    if (onUrl)
      client.setRequestHandler('elicitation/create', async (req) => {
        const p = req.params as { mode?: string; url?: string };
        assert.equal(p.mode, 'url');
        links.push(p.url!);
        await onUrl(p.url!);
        return { action: 'accept' };
      });
    const transport = new StreamableHTTPClientTransport(new URL(cluster.gateways[i]!.mcpUrl), {
      requestInit: { headers: { authorization: `Bearer ${keys[who].apiKey}` } },
    });
    await client.connect(transport);
    clients.push(client);
    return client;
  };
  /** The elicitation of a 2025-era call: its URL (asserting the -32042 shape). */
  const elicitationOf = async (p: Promise<unknown>) => {
    const err = await rpcError(p);
    assert.equal(err.code, -32042, err.message);
    const data = err.data as { elicitations: { mode: string; url: string; elicitationId: string; message: string }[] };
    assert.equal(data.elicitations.length, 1);
    const e = data.elicitations[0]!;
    assert.equal(e.mode, 'url');
    assert.ok(e.elicitationId);
    links.push(e.url);
    return e;
  };
  const whoami = async (c: Client, ns: string) =>
    JSON.parse(text(await c.callTool({ name: `${ns}__whoami`, arguments: {} }))) as { sub: string; clientId: string };

  before(async () => {
    console.warn = (...args: unknown[]) => void consoleLines.push(args.map(String).join(' '));
    console.error = (...args: unknown[]) => void consoleLines.push(args.map(String).join(' '));
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        cb();
      },
    });
    cluster = await startCluster(2, { UPSTREAM_CONSENT_TTL_MS: String(CONSENT_TTL_MS) }, { logger: createLogger({ level: 'debug', destination }) });
    const tenant = await cluster.tenant('acme');
    const second = await admin('POST', '/tenants/acme/keys', { name: 'bob' });
    assert.equal(second.status, 201);
    const subjectOf = async (apiKey: string) => {
      const listed = await admin('GET', '/tenants/acme/keys');
      const prefix = apiKey.split('_')[1];
      const key = (listed.body.keys as { id: string; prefix: string }[]).find((k) => k.prefix === prefix);
      assert.ok(key, JSON.stringify(listed.body));
      return `key:${key.id}`;
    };
    keys.alice = { apiKey: tenant.apiKey, subject: await subjectOf(tenant.apiKey) };
    keys.bob = { apiKey: second.body.apiKey, subject: await subjectOf(second.body.apiKey) };
    as = await startOidcAs({
      clients: [
        { client_id: 'umcp-gateway', client_secret: clientSecret, redirect_uris: cluster.gateways.map((g) => `${g.url}/oauth/upstreams/callback`) },
        { client_id: 'umcp-public', redirect_uris: cluster.gateways.map((g) => `${g.url}/oauth/upstreams/callback`) },
      ],
    });
    for (const era of ['modern', 'legacy'] as const) {
      ups[era] = await startProtectedUpstream({ as, era, label: `pu-${era}`, rejected });
      const r = await admin('POST', '/tenants/acme/upstreams', {
        name: `pu-${era}`,
        url: ups[era].url,
        auth: 'per-user-oauth',
        credentials: { userOAuth: { clientId: 'umcp-gateway', clientSecret, scope: 'mcp:tools', issuer: as.issuer } },
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.upstream.auth.kind, 'per-user-oauth');
      assert.equal(r.body.upstream.auth.userOAuthClient, 'umcp-gateway');
    }
  });
  after(async () => {
    console.warn = original.warn;
    console.error = original.error;
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await cluster?.stop();
    await Promise.all(Object.values(ups).map((u) => u.close()));
    await as?.close();
  });

  describe('registration', () => {
    it('refuses a root mount, a shared bearer and a token-exchange upstream without its endpoint', async () => {
      const url = ups.modern.url;
      const root = await admin('POST', '/tenants/acme/upstreams', { name: 'bad1', url, root: true, auth: 'per-user-oauth' });
      assert.equal(root.status, 400);
      assert.match(root.body.error.message, /cannot be root-mounted/);
      const bearer = await admin('POST', '/tenants/acme/upstreams', { name: 'bad2', url, auth: 'per-user-oauth', credentials: { bearer: 'x' } });
      assert.equal(bearer.status, 400);
      assert.match(bearer.body.error.message, /each caller's own token/);
      const te = await admin('POST', '/tenants/acme/upstreams', { name: 'bad3', url, auth: 'token-exchange' });
      assert.equal(te.status, 400);
      assert.match(te.body.error.message, /needs credentials.tokenExchange/);
    });

    it('the CLI registers one with --auth per-user-oauth (secret never printed)', async () => {
      const r = await cli(
        'upstreams',
        'add',
        'acme',
        '--name',
        'pu-cli',
        '--url',
        ups.modern.url,
        '--auth',
        'per-user-oauth',
        '--user-oauth-client-id',
        'umcp-gateway',
        '--user-oauth-client-secret',
        clientSecret,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /per-user-oauth/);
      assert.ok(!r.stdout.includes(clientSecret));
      const shown = await admin('GET', '/tenants/acme/upstreams/pu-cli');
      assert.equal(shown.body.upstream.auth.kind, 'per-user-oauth');
      assert.equal(shown.body.upstream.auth.userOAuthConfidential, true);
      assert.equal((await admin('DELETE', '/tenants/acme/upstreams/pu-cli')).status, 204);
    });
  });

  describe('2025-era caller, 2025-era upstream', () => {
    it('first call: -32042 URL elicitation pointing at the consent endpoint; consent on replica 0, finished on replica 1; retry works', async () => {
      const c = await connect('alice', 'legacy', 0);
      const e = await elicitationOf(c.callTool({ name: 'pu-legacy__whoami', arguments: {} }));
      const link = new URL(e.url);
      assert.equal(link.origin, new URL(cluster.gateways[0]!.url).origin);
      assert.equal(link.pathname, '/oauth/upstreams/pu-legacy/connect');
      assert.ok(link.searchParams.get('state'));
      assert.match(e.message, /pu-legacy/);
      await consent(e.url, 'alice', 1);
      const me = await whoami(c, 'pu-legacy');
      assert.equal(me.sub, 'alice');
      assert.equal(me.clientId, 'umcp-gateway');
      // The other replica uses the same stored token.
      const c1 = await connect('alice', 'legacy', 1);
      assert.equal((await whoami(c1, 'pu-legacy')).sub, 'alice');
    });

    it('a second user gets the elicitation too and a token of their own (the upstream sees two subjects)', async () => {
      const c = await connect('bob', 'legacy', 1);
      const e = await elicitationOf(c.callTool({ name: 'pu-legacy__whoami', arguments: {} }));
      await consent(e.url, 'bob', 0);
      assert.equal((await whoami(c, 'pu-legacy')).sub, 'bob');
      const a = await connect('alice', 'legacy', 1);
      assert.equal((await whoami(a, 'pu-legacy')).sub, 'alice');
      // Interleaved on one replica: each call carries its own user's token.
      const results = await Promise.all([whoami(a, 'pu-legacy'), whoami(c, 'pu-legacy'), whoami(a, 'pu-legacy'), whoami(c, 'pu-legacy')]);
      assert.deepEqual(
        results.map((r) => r.sub),
        ['alice', 'bob', 'alice', 'bob'],
      );
    });
  });

  describe('listing', () => {
    it("tools/list shows a per-user upstream's tools to the users connected to it, listed with their own token", async () => {
      const names = async (c: Client) => (await c.listTools()).tools.map((t) => t.name);
      const alice = await connect('alice', 'legacy', 1);
      const listed = await names(alice);
      assert.ok(listed.includes('pu-legacy__whoami') && listed.includes('pu-legacy__echo'), listed.join(','));
      assert.ok(!listed.includes('pu-modern__whoami'), 'alice has not connected the 2026-07-28 upstream yet');
      const fresh = await admin('POST', '/tenants/acme/keys', { name: 'nobody' });
      const c = new Client({ name: 'nobody', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
      await c.connect(
        new StreamableHTTPClientTransport(new URL(cluster.gateways[0]!.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${fresh.body.apiKey}` } } }),
      );
      clients.push(c);
      assert.ok(!(await names(c)).some((n) => n.startsWith('pu-')), 'a user without tokens lists none of them');
    });
  });

  describe('what a per-user upstream does not serve', () => {
    it('prompts and resources answer a clear error; `upstreams test` explains why it cannot connect', async () => {
      const c = await connect('alice', 'legacy', 0);
      const prompt = await rpcError(c.getPrompt({ name: 'pu-legacy__anything' }));
      assert.match(prompt.message, /upstream "pu-legacy" takes each caller's own credentials: only its tools are served/);
      const resource = await rpcError(c.readResource({ uri: 'pu-legacy+file:///x' }));
      assert.match(resource.message, /only its tools are served/);
      const test = await admin('POST', '/tenants/acme/upstreams/pu-legacy/test');
      assert.equal(test.status, 200);
      assert.equal(test.body.test.ok, false);
      assert.match(test.body.test.error, /answers only with a user's own token/);
    });
  });

  describe('2026-07-28 caller, 2026-07-28 upstream', () => {
    it('first call: input_required with a URL-mode elicitation; the client opens it, the SDK retries, the call works', async () => {
      let asked = 0;
      const c = await connect('alice', 'modern', 1, async (url) => {
        asked++;
        const u = new URL(url);
        assert.equal(u.pathname, '/oauth/upstreams/pu-modern/connect');
        await consent(url, 'alice', 0);
      });
      const me = await whoami(c, 'pu-modern');
      assert.equal(asked, 1);
      assert.equal(me.sub, 'alice');
      // Connected now: no more rounds.
      assert.equal((await whoami(c, 'pu-modern')).sub, 'alice');
      assert.equal(asked, 1);
    });

    it('bob on the 2026-07-28 upstream gets his own token', async () => {
      const c = await connect('bob', 'modern', 0, (url) => consent(url, 'bob', 1));
      assert.equal((await whoami(c, 'pu-modern')).sub, 'bob');
      const subjects = new Set<string>();
      for (const token of ups.modern.seen.tokens.keys()) subjects.add(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sub);
      assert.deepEqual([...subjects].sort(), ['alice', 'bob']);
    });

    for (const declared of [true, false]) {
      it(`raw 2026-07-28 request ${declared ? 'declaring elicitation.url: the input_required round' : 'without elicitation.url: -32021 (missing capability) with the link'}`, async () => {
        const carol = await admin('POST', '/tenants/acme/keys', { name: `carol-${declared}` });
        const res = await fetch(cluster.gateways[0]!.mcpUrl, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${carol.body.apiKey}`,
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            'mcp-protocol-version': '2026-07-28',
            'mcp-method': 'tools/call',
            'mcp-name': 'pu-legacy__whoami',
          },
          body: JSON.stringify({
            jsonrpc: '2.0',
            id: 7,
            method: 'tools/call',
            params: {
              name: 'pu-legacy__whoami',
              arguments: {},
              _meta: {
                'io.modelcontextprotocol/protocolVersion': '2026-07-28',
                'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
                'io.modelcontextprotocol/clientCapabilities': declared ? { elicitation: { url: {} } } : {},
              },
            },
          }),
        });
        const body = await res.text();
        const message = JSON.parse(
          body.startsWith('{')
            ? body
            : body
                .split('\n')
                .find((l) => l.startsWith('data: '))!
                .slice(6),
        ) as {
          result?: { resultType: string; inputRequests: Record<string, { method: string; params: { mode: string; url: string } }> };
          error?: { code: number; message: string; data: { elicitations: { url: string }[] } };
        };
        if (!declared) {
          assert.equal(message.error?.code, -32021, body);
          assert.match(message.error.message, /open the link yourself: http:\/\/127\.0\.0\.1:\d+\/oauth\/upstreams\/pu-legacy\/connect\?state=/);
          assert.match(message.error.data.elicitations[0]!.url, /\/oauth\/upstreams\/pu-legacy\/connect\?state=/);
          return;
        }
        assert.ok(message.result, body);
        assert.equal(message.result.resultType, 'input_required');
        const asks = Object.entries(message.result.inputRequests);
        assert.equal(asks.length, 1);
        assert.equal(asks[0]![0], 'connect:pu-legacy');
        assert.equal(asks[0]![1].method, 'elicitation/create');
        assert.equal(asks[0]![1].params.mode, 'url');
        assert.match(asks[0]![1].params.url, /\/oauth\/upstreams\/pu-legacy\/connect\?state=/);
      });
    }
  });

  describe('refresh', () => {
    it('refreshes a token about to expire once, for concurrent calls on two replicas', async () => {
      // Bob connects again with a short-lived token (the gateway refreshes within a minute of expiry).
      as.ttlSeconds = 30;
      await admin('DELETE', `/tenants/acme/upstreams/pu-legacy/tokens/${encodeURIComponent(keys.bob.subject)}`);
      const c0 = await connect('bob', 'legacy', 0);
      const c1 = await connect('bob', 'legacy', 1);
      const e = await elicitationOf(c0.callTool({ name: 'pu-legacy__whoami', arguments: {} }));
      await consent(e.url, 'bob', 1);
      as.ttlSeconds = 300;
      const before = as.counts.refresh_token;
      const results = await Promise.all([
        whoami(c0, 'pu-legacy'),
        whoami(c1, 'pu-legacy'),
        whoami(c0, 'pu-legacy'),
        whoami(c1, 'pu-legacy'),
        whoami(c0, 'pu-legacy'),
      ]);
      assert.ok(results.every((r) => r.sub === 'bob'));
      // Rotating refresh tokens: a second refresh with the old one would have failed and deleted the tokens.
      assert.equal(as.counts.refresh_token - before, 1, 'one refresh across both replicas');
      assert.equal((await whoami(c1, 'pu-legacy')).sub, 'bob');
      assert.equal(as.counts.refresh_token - before, 1, 'the refreshed token lasts');
    });
  });

  describe('401 from the upstream', () => {
    it('refreshes the refused token once and retries the call with the new one', async () => {
      const subOf = (t: string) => JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()).sub as string;
      const c = await connect('bob', 'legacy', 1);
      assert.equal((await whoami(c, 'pu-legacy')).sub, 'bob');
      const current = [...ups.legacy.seen.tokens.keys()].filter((t) => subOf(t) === 'bob').pop()!;
      rejected.add(current);
      const before = as.counts.refresh_token;
      const unauthorized = ups.legacy.seen.unauthorized;
      assert.equal((await whoami(c, 'pu-legacy')).sub, 'bob');
      assert.ok(ups.legacy.seen.unauthorized > unauthorized, 'the upstream refused the token');
      assert.equal(as.counts.refresh_token - before, 1, 'one refresh');
      const next = [...ups.legacy.seen.tokens.keys()].filter((t) => subOf(t) === 'bob').pop()!;
      assert.notEqual(next, current);
      // The other replica picks up the refreshed token from the store.
      const c0 = await connect('bob', 'legacy', 0);
      assert.equal((await whoami(c0, 'pu-legacy')).sub, 'bob');
      assert.equal(as.counts.refresh_token - before, 1, 'still one refresh');
    });
  });

  describe('revocation', () => {
    it('the user revokes their own token (endpoint authenticated as the user); the AS is told; the next call asks again', async () => {
      const url = `${cluster.gateways[1]!.url}/oauth/upstreams/pu-modern/token`;
      const auth = { authorization: `Bearer ${keys.alice.apiKey}` };
      const status = await (await fetch(url, { headers: auth })).json();
      assert.equal(status.connected, true);
      const revocations = as.counts.revocation;
      const res = await fetch(url, { method: 'DELETE', headers: auth });
      assert.equal(res.status, 204);
      assert.ok(as.counts.revocation > revocations, 'revoked at the authorization server');
      assert.equal((await (await fetch(url, { headers: auth })).json()).connected, false);
      const again = await fetch(url, { method: 'DELETE', headers: auth });
      assert.equal(again.status, 404);
      const anonymous = await fetch(url, { method: 'DELETE' });
      assert.equal(anonymous.status, 401);
      // 2025-era caller of the 2026-07-28 upstream: the elicitation again.
      const c = await connect('alice', 'legacy', 0);
      await elicitationOf(c.callTool({ name: 'pu-modern__whoami', arguments: {} }));
      // Bob's token is untouched.
      const b = await connect('bob', 'legacy', 0);
      assert.equal((await whoami(b, 'pu-modern')).sub, 'bob');
    });

    it('the admin lists and revokes (API and CLI, audited, no token in the answers)', async () => {
      const listed = await admin('GET', '/tenants/acme/upstreams/pu-legacy/tokens');
      assert.equal(listed.status, 200);
      const users = (listed.body.tokens as { user: string }[]).map((t) => t.user).sort();
      assert.deepEqual(users, [keys.alice.subject, keys.bob.subject].sort());
      const cliList = await cli('upstreams', 'tokens', 'list', 'acme', 'pu-legacy');
      assert.equal(cliList.code, 0, cliList.stderr);
      assert.ok(cliList.stdout.includes(keys.alice.subject) && cliList.stdout.includes(keys.bob.subject), cliList.stdout);
      const cliRevoke = await cli('upstreams', 'tokens', 'revoke', 'acme', 'pu-legacy', keys.alice.subject);
      assert.equal(cliRevoke.code, 0, cliRevoke.stderr);
      assert.match(cliRevoke.stdout, /revoked 1/);
      const missing = await admin('DELETE', `/tenants/acme/upstreams/pu-legacy/tokens/${encodeURIComponent(keys.alice.subject)}`);
      assert.equal(missing.status, 404);
      const notPerUser = await admin('GET', '/tenants/acme/upstreams/nope/tokens');
      assert.equal(notPerUser.status, 404);
      const all = await admin('DELETE', '/tenants/acme/upstreams/pu-legacy/tokens');
      assert.deepEqual(all.body.revoked, [keys.bob.subject]);
      const c = await connect('bob', 'legacy', 1);
      await elicitationOf(c.callTool({ name: 'pu-legacy__whoami', arguments: {} }));
    });
  });

  describe('client identity', () => {
    it('a public client (no secret): PKCE only', async () => {
      const r = await admin('POST', '/tenants/acme/upstreams', {
        name: 'pu-public',
        url: ups.legacy.url,
        auth: 'per-user-oauth',
        credentials: { userOAuth: { clientId: 'umcp-public', scope: 'mcp:tools' } },
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.upstream.auth.userOAuthClient, 'umcp-public');
      const c = await connect('bob', 'legacy', 1);
      const e = await elicitationOf(c.callTool({ name: 'pu-public__whoami', arguments: {} }));
      await consent(e.url, 'bob', 0);
      const me = await whoami(c, 'pu-public');
      assert.deepEqual([me.sub, me.clientId], ['bob', 'umcp-public']);
    });

    it('no client configured: the Client ID Metadata Document, refused with a clear page when the AS does not support it', async () => {
      const doc = await (await fetch(`${cluster.gateways[1]!.url}/oauth/client-metadata.json`)).json();
      assert.equal(doc.client_id, `${cluster.gateways[1]!.url}/oauth/client-metadata.json`);
      assert.deepEqual(doc.redirect_uris, [`${cluster.gateways[1]!.url}/oauth/upstreams/callback`]);
      assert.equal(doc.token_endpoint_auth_method, 'none');
      const r = await admin('POST', '/tenants/acme/upstreams', { name: 'pu-cimd', url: ups.legacy.url, auth: 'per-user-oauth' });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.upstream.auth.kind, 'per-user-oauth');
      const c = await connect('bob', 'legacy', 0);
      const e = await elicitationOf(c.callTool({ name: 'pu-cimd__whoami', arguments: {} }));
      const res = await fetch(e.url, { redirect: 'manual' });
      assert.equal(res.status, 502);
      assert.match(await res.text(), /no pre-registered OAuth client.*does not advertise Client ID Metadata Documents/);
      const next = await elicitationOf(c.callTool({ name: 'pu-cimd__whoami', arguments: {} }));
      assert.match(next.message, /last attempt failed: upstream "pu-cimd" has no pre-registered OAuth client/);
    });
  });

  describe('removal', () => {
    it("removing a per-user upstream revokes every user's token (here and at the AS)", async () => {
      const r = await admin('POST', '/tenants/acme/upstreams', {
        name: 'pu-gone',
        url: ups.modern.url,
        auth: 'per-user-oauth',
        credentials: { userOAuth: { clientId: 'umcp-gateway', clientSecret, scope: 'mcp:tools' } },
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const c = await connect('alice', 'legacy', 0);
      const e = await elicitationOf(c.callTool({ name: 'pu-gone__whoami', arguments: {} }));
      await consent(e.url, 'alice', 1);
      assert.equal((await whoami(c, 'pu-gone')).sub, 'alice');
      const db = new pg.Client({ connectionString: cluster.db.url });
      await db.connect();
      try {
        const count = async () =>
          (await db.query("SELECT count(*)::int AS n FROM upstream_user_tokens t JOIN upstreams u ON u.id = t.upstream_id WHERE u.namespace = 'pu-gone'"))
            .rows[0].n as number;
        assert.equal(await count(), 1);
        const id = (await db.query("SELECT id FROM upstreams WHERE namespace = 'pu-gone'")).rows[0].id as string;
        const revocations = as.counts.revocation;
        assert.equal((await admin('DELETE', '/tenants/acme/upstreams/pu-gone')).status, 204);
        assert.equal((await db.query('SELECT count(*)::int AS n FROM upstream_user_tokens WHERE upstream_id = $1', [id])).rows[0].n, 0);
        assert.ok(as.counts.revocation > revocations, 'revoked at the authorization server');
      } finally {
        await db.end();
      }
    });
  });

  describe('re-pointing', () => {
    it("an update that changes a per-user upstream's URL drops every user's token (here and at the AS); one that changes a timeout keeps them", async () => {
      const r = await admin('POST', '/tenants/acme/upstreams', {
        name: 'pu-moved',
        url: ups.modern.url,
        auth: 'per-user-oauth',
        credentials: { userOAuth: { clientId: 'umcp-gateway', clientSecret, scope: 'mcp:tools' } },
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const c = await connect('alice', 'legacy', 0);
      await consent((await elicitationOf(c.callTool({ name: 'pu-moved__whoami', arguments: {} }))).url, 'alice', 1);
      assert.equal((await whoami(c, 'pu-moved')).sub, 'alice');
      const db = new pg.Client({ connectionString: cluster.db.url });
      await db.connect();
      try {
        const count = async () =>
          (await db.query("SELECT count(*)::int AS n FROM upstream_user_tokens t JOIN upstreams u ON u.id = t.upstream_id WHERE u.namespace = 'pu-moved'"))
            .rows[0].n as number;
        assert.equal((await admin('PATCH', '/tenants/acme/upstreams/pu-moved', { timeouts: { callMs: 30_000 } })).status, 200);
        assert.equal(await count(), 1, 'a timeout change keeps the tokens');
        const revocations = as.counts.revocation;
        assert.equal((await admin('PATCH', '/tenants/acme/upstreams/pu-moved', { url: ups.legacy.url })).status, 200);
        assert.equal(await count(), 0, 'a new URL drops them');
        assert.ok(as.counts.revocation > revocations, 'revoked at the authorization server');
        const again = await elicitationOf(c.callTool({ name: 'pu-moved__whoami', arguments: {} }));
        assert.match(again.url, /\/oauth\/upstreams\/pu-moved\/connect\?/);
      } finally {
        await db.end();
      }
    });
  });

  describe('consent failures: an error page, and the reason with the next elicitation', () => {
    const connectUrl = (i = 0, state = 'x') => `${cluster.gateways[i]!.url}/oauth/upstreams/pu-legacy/connect?state=${encodeURIComponent(state)}`;

    it('a malformed path', async () => {
      const connect = await fetch(`${cluster.gateways[0]!.url}/oauth/upstreams/%ZZ/connect?state=x`, { redirect: 'manual' });
      assert.equal(connect.status, 400);
      assert.match(await connect.text(), /no valid upstream/);
      const token = await fetch(`${cluster.gateways[0]!.url}/oauth/upstreams/%ZZ/token`, { headers: { authorization: `Bearer ${keys.alice.apiKey}` } });
      assert.equal(token.status, 400);
      const unknown = await fetch(`${cluster.gateways[0]!.url}/oauth/upstreams/nope/token`, { headers: { authorization: `Bearer ${keys.alice.apiKey}` } });
      assert.equal(unknown.status, 404);
    });

    it('a wrong state', async () => {
      for (const state of ['garbage', `${cluster.gateways.length}.AAAA`, '']) {
        const res = await fetch(connectUrl(0, state), { redirect: 'manual' });
        assert.equal(res.status, 400);
        const page = await res.text();
        assert.match(page, /Not connected/);
        assert.match(page, /invalid_state/);
      }
    });

    it('a replayed link and a replayed callback', async () => {
      const c = await connect('alice', 'legacy', 0);
      const e = await elicitationOf(c.callTool({ name: 'pu-legacy__whoami', arguments: {} }));
      const first = await fetch(e.url, { redirect: 'manual' });
      assert.equal(first.status, 302);
      const replay = await fetch(onReplica(e.url, 1), { redirect: 'manual' });
      assert.equal(replay.status, 400);
      assert.match(await replay.text(), /already used/);
      // A link for one upstream used on another's path.
      const other = await elicitationOf(c.callTool({ name: 'pu-legacy__echo', arguments: { text: 'x' } }));
      const moved = new URL(other.url);
      moved.pathname = '/oauth/upstreams/pu-modern/connect';
      const wrongPath = await fetch(moved, { redirect: 'manual' });
      assert.equal(wrongPath.status, 400);
      assert.match(await wrongPath.text(), /another upstream/);
      // The whole flow, then its callback a second time.
      const e2 = await elicitationOf(c.callTool({ name: 'pu-legacy__whoami', arguments: {} }));
      const browser = new Browser();
      const callback = await browser.signInAndConsent(e2.url, 'alice', isCallback);
      assert.equal((await browser.open(callback)).status, 200);
      const again = await browser.open(onReplica(callback, 1));
      assert.equal(again.status, 400);
      assert.match(again.text, /already used or expired/);
      assert.equal((await whoami(c, 'pu-legacy')).sub, 'alice');
    });

    it('access_denied at the authorization server', async () => {
      const c = await connect('bob', 'legacy', 0);
      const e = await elicitationOf(c.callTool({ name: 'pu-legacy__whoami', arguments: {} }));
      const browser = new Browser();
      const callback = await browser.signInAndConsent(e.url, 'bob', isCallback, 'deny');
      assert.equal(new URL(callback).searchParams.get('error'), 'access_denied');
      const page = await browser.open(onReplica(callback, 1));
      assert.equal(page.status, 400);
      assert.match(page.text, /access_denied/);
      const next = await elicitationOf(c.callTool({ name: 'pu-legacy__whoami', arguments: {} }));
      assert.match(next.message, /last attempt failed: the authorization server answered access_denied/);
    });

    it('an expired link', async () => {
      const c = await connect('bob', 'legacy', 1);
      const e = await elicitationOf(c.callTool({ name: 'pu-legacy__whoami', arguments: {} }));
      await delay(CONSENT_TTL_MS + 300);
      const res = await fetch(e.url, { redirect: 'manual' });
      assert.equal(res.status, 400);
      assert.match(await res.text(), /expired/);
    });
  });

  describe('token exchange', () => {
    it('an API-key caller gets a clear error (no subject token to exchange)', async () => {
      const r = await admin('POST', '/tenants/acme/upstreams', {
        name: 'te',
        url: ups.modern.url,
        auth: 'token-exchange',
        credentials: { tokenExchange: { tokenEndpoint: `${as.issuer}/token`, clientId: 'umcp-gateway', clientSecret } },
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const c = await connect('alice', 'legacy', 0);
      const err = await rpcError(c.callTool({ name: 'te__whoami', arguments: {} }));
      assert.match(err.message, /token exchange \(RFC 8693\).*API key has none/);
    });
  });

  describe('a refresh that fails', () => {
    it('asks for consent again', async () => {
      // Alice connects with a token that needs a refresh at once; the AS is then gone.
      as.ttlSeconds = 30;
      const c = await connect('alice', 'legacy', 0);
      await admin('DELETE', '/tenants/acme/upstreams/pu-legacy/tokens');
      const e = await elicitationOf(c.callTool({ name: 'pu-legacy__whoami', arguments: {} }));
      await consent(e.url, 'alice', 0);
      await as.close();
      const again = await elicitationOf(c.callTool({ name: 'pu-legacy__whoami', arguments: {} }));
      assert.match(again.url, /\/oauth\/upstreams\/pu-legacy\/connect/);
    });
  });

  describe('metrics', () => {
    it('count consent outcomes and refreshes (both replicas)', async () => {
      const texts = await Promise.all(cluster.gateways.map(async (g) => (await fetch(`${g.url}/metrics`)).text()));
      const sum = (name: string, outcome: string) =>
        texts
          .flatMap((t) => t.split('\n'))
          .filter((l) => l.startsWith(`${name}{outcome="${outcome}"`))
          .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
      for (const outcome of ['connected', 'access_denied', 'used_state', 'expired_state', 'invalid_state'])
        assert.ok(sum('umcp_upstream_user_consents_total', outcome) >= 1, `consents ${outcome}`);
      assert.ok(sum('umcp_upstream_user_consents_total', 'connected') >= 6);
      assert.ok(sum('umcp_upstream_user_token_refreshes_total', 'ok') >= 1, 'refreshes ok');
      assert.ok(sum('umcp_upstream_user_token_refreshes_total', 'failed') >= 1, 'refreshes failed');
      metricsTexts.push(...texts);
    });
  });

  describe('secrets', () => {
    it('no access token, refresh token or client secret in logs, console, Redis, the audit log, the token table or admin answers', async () => {
      const tokens = [...new Set([...ups.modern.seen.tokens.keys(), ...ups.legacy.seen.tokens.keys(), ...as.issued])];
      assert.ok(tokens.length >= 4, 'tokens were used');
      assert.ok(as.issued.length >= 10, 'the AS issued access and refresh tokens (the capture works)');
      const db = new pg.Client({ connectionString: cluster.db.url });
      await db.connect();
      const redis = new Redis(testServiceUrls().redisUrl);
      try {
        const audit = (await db.query('SELECT row_to_json(a)::text AS t FROM audit_log a')).rows.map((r: { t: string }) => r.t);
        assert.ok(
          audit.some((t) => t.includes('upstream.user-token.revoke')),
          'revocations are audited',
        );
        assert.ok(
          audit.some((t) => t.includes('upstream.user-token.connect')),
          'connections are audited',
        );
        const rows = (await db.query('SELECT sealed, row_to_json(u)::text AS t FROM upstream_user_tokens u')).rows as { sealed: Buffer; t: string }[];
        const ups_ = (await db.query('SELECT credentials, row_to_json(u)::text AS t FROM upstreams u')).rows as { credentials: Buffer | null; t: string }[];
        const redisKeys: string[] = [];
        let cursor = '0';
        do {
          const [next, batch] = await redis.scan(cursor, 'MATCH', `${cluster.prefix}*`, 'COUNT', 500);
          cursor = next;
          redisKeys.push(...batch);
        } while (cursor !== '0');
        const redisValues = await Promise.all(redisKeys.map(async (k) => ((await redis.type(k)) === 'string' ? ((await redis.get(k)) ?? '') : '')));
        for (const s of [...tokens, clientSecret]) {
          const where = [
            ['admin API', adminBodies],
            ['logs', logLines],
            ['console', consoleLines],
            ['audit_log', audit],
            ['token rows', rows.map((r) => r.t)],
            ['upstream rows', ups_.map((r) => r.t)],
            ['redis', redisValues],
            ['consent links', links],
            ['metrics', metricsTexts],
          ] as const;
          for (const [name, texts] of where) assert.ok(!texts.some((t) => t.includes(s)), `a token or secret appears in the ${name}`);
          assert.ok(!rows.some((r) => r.sealed.includes(s)), 'tokens are stored sealed');
        }
      } finally {
        await db.end();
        redis.disconnect();
      }
    });
  });
});

describe('federation: per-caller credentials by token exchange (RFC 8693)', function () {
  this.timeout(60_000);
  const GATEWAY_AUDIENCE = 'https://gateway.example/mcp';
  const CLI_REDIRECT = 'http://127.0.0.1:9/cb';
  let cluster: Cluster;
  let as: OidcAs;
  let up: ProtectedUpstreamFixture;
  let apiKey: string;
  const clients: Client[] = [];
  const secret = `te-secret-${Math.random().toString(36).slice(2)}`;

  /** The caller's own OAuth access token for the gateway: authorization code + PKCE as a public client. */
  const callerToken = async (login: string) => {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const auth = new URL(`${as.issuer}/auth`);
    for (const [k, v] of Object.entries({
      response_type: 'code',
      client_id: 'test-cli',
      redirect_uri: CLI_REDIRECT,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      scope: 'mcp:tools',
      resource: GATEWAY_AUDIENCE,
      state: 'x',
    }))
      auth.searchParams.set(k, v);
    const callback = await new Browser().signInAndConsent(auth.href, login, (u) => u.href.startsWith(CLI_REDIRECT));
    const code = new URL(callback).searchParams.get('code')!;
    const res = await fetch(`${as.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: CLI_REDIRECT,
        client_id: 'test-cli',
        code_verifier: verifier,
        resource: GATEWAY_AUDIENCE,
      }),
    });
    const body = (await res.json()) as { access_token: string };
    assert.equal(res.status, 200, JSON.stringify(body));
    return body.access_token;
  };
  const connectWith = async (bearer: string, era: 'modern' | 'legacy') => {
    const client = new Client({ name: 'te-test', version: '1' }, { versionNegotiation: { mode: era === 'modern' ? { pin: '2026-07-28' } : 'legacy' } });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(cluster.gateways[0]!.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${bearer}` } } }),
    );
    clients.push(client);
    return client;
  };
  const register = (name: string, clientSecret: string) =>
    cluster.admin('POST', '/tenants/acme/upstreams', {
      name,
      url: up.url,
      auth: 'token-exchange',
      credentials: { tokenExchange: { tokenEndpoint: `${as.issuer}/token`, clientId: 'umcp-gateway', clientSecret } },
    });

  before(async () => {
    as = await startOidcAs({
      clients: [
        { client_id: 'umcp-gateway', client_secret: secret, redirect_uris: [CLI_REDIRECT], token_exchange: true },
        { client_id: 'test-cli', redirect_uris: [CLI_REDIRECT] },
      ],
      extraClaims: { tenant: 'acme' },
      tokenExchange: { subjectAudience: GATEWAY_AUDIENCE },
    });
    cluster = await startCluster(1, { OAUTH_ISSUER: as.issuer, OAUTH_JWKS_URL: as.jwksUri, OAUTH_AUDIENCE: GATEWAY_AUDIENCE });
    ({ apiKey } = await cluster.tenant('acme'));
    up = await startProtectedUpstream({ as, era: 'modern', label: 'te' });
    const r = await register('te', secret);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.upstream.auth.kind, 'token-exchange');
    assert.ok(!JSON.stringify(r.body).includes(secret));
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await cluster?.stop();
    await up?.close();
    await as?.close();
  });

  it("exchanges each OAuth caller's own token for one whose audience is the upstream (both eras), cached until expiry", async () => {
    const carol = await callerToken('carol');
    const dave = await callerToken('dave');
    const c = await connectWith(carol, 'modern');
    const d = await connectWith(dave, 'legacy');
    const whoami = async (client: Client) =>
      JSON.parse(text(await client.callTool({ name: 'te__whoami', arguments: {} }))) as { sub: string; clientId: string };
    const before = as.counts.token_exchange;
    assert.deepEqual(await whoami(c), { sub: 'carol', clientId: 'umcp-gateway', scopes: ['mcp:tools'] });
    assert.equal((await whoami(d)).sub, 'dave');
    assert.equal((await whoami(c)).sub, 'carol');
    assert.equal((await whoami(d)).sub, 'dave');
    assert.equal(as.counts.token_exchange - before, 2, 'one exchange per caller, then the cached token');
    assert.ok(
      (await c.listTools()).tools.some((t) => t.name === 'te__whoami'),
      "an OAuth caller lists the upstream's tools (exchanged token)",
    );
    assert.equal(as.counts.token_exchange - before, 2, 'the listing used the cached exchanged token');
    // The upstream never saw the callers' own tokens.
    assert.ok(!up.seen.authorizationHeaders.some((h) => h.includes(carol) || h.includes(dave)));
  });

  it('an API-key caller gets a clear error', async () => {
    const c = await connectWith(apiKey, 'legacy');
    const err = await rpcError(c.callTool({ name: 'te__whoami', arguments: {} }));
    assert.match(err.message, /token exchange \(RFC 8693\).*API key has none/);
  });

  it('a token endpoint that refuses the exchange gives a JSON-RPC error naming the upstream and the reason', async () => {
    const r = await register('te-bad', 'wrong-secret');
    assert.equal(r.status, 201);
    const c = await connectWith(await callerToken('carol'), 'modern');
    const err = await rpcError(c.callTool({ name: 'te-bad__whoami', arguments: {} }));
    assert.match(err.message, /upstream "te-bad".*refused to exchange the caller's token.*invalid_client/);
    const metrics = await (await fetch(`${cluster.gateways[0]!.url}/metrics`)).text();
    const count = (outcome: string) =>
      Number(
        metrics
          .split('\n')
          .find((l) => l.startsWith(`umcp_upstream_token_exchanges_total{outcome="${outcome}"`))
          ?.split(' ')
          .pop() ?? 0,
      );
    assert.ok(
      count('ok') >= 2 && count('failed') >= 1,
      metrics
        .split('\n')
        .filter((l) => l.includes('exchanges'))
        .join('\n'),
    );
  });
});
