/**
 * OAuth 2.0 client credentials to upstream MCP servers, end to end on loopback: a real authorization
 * server (RFC 8414 metadata, JWKS, client_credentials token endpoint issuing short-lived jose JWTs) and
 * real upstreams (2026-07-28 and 2025-era) that verify those tokens and point to the AS with RFC 9728
 * metadata, registered through a real gateway's admin API (and CLI) with `credentials.oauth`.
 *
 * Checked: discovery from the 401, one token per connection, the configured scope and the RFC 8707
 * resource in the token request, client authentication per the AS's methods (RFC 6749 §2.3.1 encoding),
 * transparent renewal of an expired token (one token request even for concurrent calls), a wrong secret
 * as a JSON-RPC error naming the upstream (and in `upstreams test`), configured headers never sent to the
 * AS, an AS outside UPSTREAM_ALLOWLIST refused by the SSRF guard, and no secret in admin answers, logs,
 * the console, the audit table, the upstreams table or Redis.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createLogger } from '../../../service/src/log/logger.js';
import { testServiceUrls } from '../../support/platform-db.js';
import { startCluster, type Cluster } from './support/gateway.js';
import {
  startAuthServer,
  startProtectedUpstream,
  type AuthServerFixture,
  type ProtectedUpstreamFixture,
  type TokenRequestRecord,
  rpcError,
} from './support/oauth-fixtures.js';
import { runAdminCli } from '../../support/admin-cli.js';

const text = (r: unknown) => (r as { content: { text: string }[] }).content[0]!.text;

describe('federation: OAuth client credentials to upstreams', function () {
  this.timeout(60_000);
  let cluster: Cluster;
  let apiKey: string;
  const logLines: string[] = [];
  const consoleLines: string[] = [];
  const adminBodies: string[] = [];
  const fixtures: { close(): Promise<void> }[] = [];
  /** Every client secret used (the leak checks look for each). */
  const secrets: string[] = [];
  const original = { warn: console.warn, error: console.error };

  const secretFor = (label: string, special = false) => {
    // `special`: characters that RFC 6749 form-urlencoding changes, as in generated (base64) secrets.
    const s = `${label}${Math.random().toString(36).slice(2)}${special ? 'k+/a=' : 'Zq9'}`;
    secrets.push(s);
    return s;
  };
  const track = <T extends { close(): Promise<void> }>(f: T) => (fixtures.push(f), f);
  const tokenRequestsOf = (as: AuthServerFixture, clientId: string) => as.tokenRequests.filter((t) => t.clientId === clientId);
  const admin = async (method: string, path: string, body?: unknown) => {
    const r = await cluster.admin(method, path, body);
    adminBodies.push(JSON.stringify(r.body ?? null));
    return r;
  };
  const register = (
    tenant: string,
    name: string,
    url: string,
    oauth: { clientId: string; clientSecret: string; scope?: string; issuer?: string },
    extra: Record<string, unknown> = {},
  ) => admin('POST', `/tenants/${tenant}/upstreams`, { name, url, credentials: { oauth, ...extra } });
  const cli = (...args: string[]) => runAdminCli(args, { ...process.env, ADMIN_URL: cluster.gateways[0]!.url, ADMIN_TOKEN: cluster.adminToken });

  before(async () => {
    // The SDK reports some conditions with console.warn, outside pino: the leak checks read those too.
    console.warn = (...args: unknown[]) => void consoleLines.push(args.map(String).join(' '));
    console.error = (...args: unknown[]) => void consoleLines.push(args.map(String).join(' '));
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        cb();
      },
    });
    cluster = await startCluster(1, {}, { logger: createLogger({ level: 'debug', destination }) });
    ({ apiKey } = await cluster.tenant('acme'));
  });
  after(async () => {
    console.warn = original.warn;
    console.error = original.error;
    await cluster?.stop();
    await Promise.all(fixtures.map((f) => f.close()));
  });

  for (const era of ['modern', 'legacy'] as const) {
    describe(`${era === 'modern' ? '2026-07-28' : '2025-era'} upstream`, () => {
      let as: AuthServerFixture;
      let up: ProtectedUpstreamFixture;
      const clientId = `gw-${era}`;
      const ns = `oa-${era}`;
      let secret: string;

      before(async () => {
        secret = secretFor(clientId);
        as = track(await startAuthServer({ clients: { [clientId]: { secret, scopes: ['mcp:tools'] } } }));
        // The resource metadata lists more scopes than this client may have: the configured scope must
        // be what is requested (the SDK alone would ask for all of scopes_supported: invalid_scope).
        up = track(await startProtectedUpstream({ as, era, scopesSupported: ['mcp:tools', 'mcp:admin'], toolScope: 'mcp:tools', label: era }));
      });

      it('registers, `upstreams test` connects; list and calls work with one token per connection', async () => {
        const add = await register('acme', ns, up.url, { clientId, clientSecret: secret, scope: 'mcp:tools' });
        assert.equal(add.status, 201, JSON.stringify(add.body));
        assert.deepEqual(add.body.upstream.auth, { kind: 'oauth-client-credentials', oauthClientId: clientId, oauthScope: 'mcp:tools' });

        const test = await admin('POST', `/tenants/acme/upstreams/${ns}/test`);
        assert.equal(test.status, 200);
        assert.equal(test.body.test.ok, true, JSON.stringify(test.body));
        assert.equal(test.body.test.era, era);
        assert.equal(test.body.test.counts.tools, 2);

        for (const callerEra of ['modern', 'legacy'] as const) {
          const client = await cluster.client(apiKey, callerEra);
          const names = (await client.listTools()).tools.map((t) => t.name);
          assert.ok(names.includes(`${ns}__echo`) && names.includes(`${ns}__whoami`), names.join(','));
          assert.equal(text(await client.callTool({ name: `${ns}__echo`, arguments: { text: 'hi' } })), `${era}:hi`);
          const who = await client.callTool({ name: `${ns}__whoami`, arguments: {} });
          assert.ok(!who.isError, text(who));
          assert.deepEqual(JSON.parse(text(who)), { clientId, scopes: ['mcp:tools'], sub: clientId });
        }

        // Exactly two token requests: the `upstreams test` connection and the pooled one; each a
        // client_credentials grant with the configured scope and the upstream as RFC 8707 resource.
        const reqs = tokenRequestsOf(as, clientId);
        assert.equal(reqs.length, 2, JSON.stringify(reqs));
        for (const r of reqs) {
          assert.deepEqual({ ...r, exp: undefined }, {
            authMethod: 'client_secret_basic',
            clientId,
            secretMatched: true,
            grantType: 'client_credentials',
            scope: 'mcp:tools',
            resource: up.url,
            outcome: 'issued',
            exp: undefined,
          } satisfies TokenRequestRecord);
        }
        // Discovery: one 401 per connection led to the resource metadata, then the AS metadata.
        assert.equal(up.seen.unauthorized, 2);
        assert.equal(up.seen.metadataRequests, 2);
        assert.equal(as.requests.filter((r) => r.path === '/.well-known/oauth-authorization-server').length, 2);
        assert.equal(up.seen.tokens.size, 2, 'one token per connection, reused for every request on it');
        assert.ok([...up.seen.tokens.values()].every((uses) => uses > 1));
        assert.ok(
          up.seen.authorizationHeaders.every((h) => h.startsWith('Bearer ')),
          'only bearer tokens reach the upstream',
        );
      });

      it('renews an expired token transparently: one token request, no caller-visible error', async () => {
        const client = await cluster.client(apiKey, 'legacy');
        as.ttlSeconds = 2;
        const renewNs = `${ns}-ttl`;
        assert.equal((await register('acme', renewNs, up.url, { clientId, clientSecret: secret, scope: 'mcp:tools' })).status, 201);
        const before = tokenRequestsOf(as, clientId).length;
        const sessionsBefore = up.seen.sessions;
        assert.ok(!(await client.callTool({ name: `${renewNs}__whoami`, arguments: {} })).isError);
        assert.equal(tokenRequestsOf(as, clientId).length, before + 1);
        const first = tokenRequestsOf(as, clientId).at(-1)!;
        // Tokens live 1-2 s (whole-second `exp`): wait until the first one is past it.
        await delay(Math.max(0, first.exp! * 1000 - Date.now()) + 1100);
        const expiredBefore = up.seen.expired;
        assert.equal(text(await client.callTool({ name: `${renewNs}__echo`, arguments: { text: 'later' } })), `${era}:later`);
        assert.ok(up.seen.expired - expiredBefore >= 1, 'the upstream refused the expired token');
        assert.equal(tokenRequestsOf(as, clientId).length, before + 2, 'exactly one renewal');
        if (era === 'legacy') assert.equal(up.seen.sessions, sessionsBefore + 1, 'the upstream session survived the renewal');
        as.ttlSeconds = 60;
      });

      it('concurrent calls that meet an expired token share one renewal', async () => {
        // Own tenant: only this upstream in its catalog, so no catalog refresh runs ahead of the calls.
        const tenant = `burst-${era}`;
        const t = await cluster.tenant(tenant);
        const client = await cluster.client(t.apiKey, 'legacy');
        as.ttlSeconds = 2;
        assert.equal((await register(tenant, ns, up.url, { clientId, clientSecret: secret, scope: 'mcp:tools' })).status, 201);
        assert.ok(!(await client.callTool({ name: `${ns}__whoami`, arguments: {} })).isError);
        const first = tokenRequestsOf(as, clientId).at(-1)!;
        await delay(Math.max(0, first.exp! * 1000 - Date.now()) + 1100);
        const before = tokenRequestsOf(as, clientId).length;
        const refused = up.seen.unauthorized;
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) => client.callTool({ name: `${ns}__echo`, arguments: { text: String(i) } })));
        assert.deepEqual(
          results.map(text),
          Array.from({ length: 8 }, (_, i) => `${era}:${i}`),
        );
        const renewals = tokenRequestsOf(as, clientId).length - before;
        assert.equal(renewals, 1, `token requests for 8 concurrent calls (${up.seen.unauthorized - refused} of them got a 401)`);
        as.ttlSeconds = 60;
      });
    });
  }

  describe('client authentication at the token endpoint', () => {
    const cases: { name: string; special: boolean; methods: ('client_secret_basic' | 'client_secret_post')[]; expect: TokenRequestRecord['authMethod'] }[] = [
      { name: 'plain secret, AS offers basic and post', special: false, methods: ['client_secret_basic', 'client_secret_post'], expect: 'client_secret_basic' },
      {
        name: 'secret with + / =, AS offers basic and post',
        special: true,
        methods: ['client_secret_basic', 'client_secret_post'],
        expect: 'client_secret_post',
      },
      {
        name: 'secret with + / =, AS offers only basic (decodes per RFC 6749)',
        special: true,
        methods: ['client_secret_basic'],
        expect: 'client_secret_basic',
      },
      { name: 'plain secret, AS offers only post', special: false, methods: ['client_secret_post'], expect: 'client_secret_post' },
    ];
    cases.forEach((c, i) => {
      it(`${c.name}: ${c.expect}, accepted`, async () => {
        const clientId = `auth-case-${i}`;
        const secret = secretFor(clientId, c.special);
        const as = track(await startAuthServer({ clients: { [clientId]: { secret, scopes: ['mcp:tools'] } }, authMethods: c.methods }));
        const up = track(await startProtectedUpstream({ as, era: 'modern', label: `case${i}` }));
        assert.equal((await register('acme', `case-${i}`, up.url, { clientId, clientSecret: secret })).status, 201);
        const test = await admin('POST', `/tenants/acme/upstreams/case-${i}/test`);
        assert.equal(test.body.test.ok, true, JSON.stringify(test.body));
        assert.deepEqual(
          as.tokenRequests.map((r) => [r.authMethod, r.secretMatched, r.outcome, r.scope]),
          // No scope configured: the SDK's choice (here: none in the challenge or the metadata, so none).
          [[c.expect, true, 'issued', undefined]],
        );
      });
    });

    it('an AS that offers neither method: a clear error, no token request', async () => {
      const clientId = 'auth-none';
      const secret = secretFor(clientId);
      const as = track(await startAuthServer({ clients: { [clientId]: { secret, scopes: [] } }, authMethods: ['private_key_jwt' as never] }));
      const up = track(await startProtectedUpstream({ as, era: 'modern', label: 'none' }));
      assert.equal((await register('acme', 'auth-none', up.url, { clientId, clientSecret: secret })).status, 201);
      const test = await admin('POST', '/tenants/acme/upstreams/auth-none/test');
      assert.equal(test.body.test.ok, false);
      assert.match(
        test.body.test.error,
        /^upstream "auth-none": OAuth client-credentials authentication failed: the authorization server accepts neither client_secret_basic nor client_secret_post \(it lists private_key_jwt\)/,
      );
      assert.equal(as.tokenRequests.length, 0);
      await admin('DELETE', '/tenants/acme/upstreams/auth-none');
    });
  });

  describe('wrong client secret', () => {
    let as: AuthServerFixture;
    let up: ProtectedUpstreamFixture;
    let client: Awaited<ReturnType<Cluster['client']>>;
    const clientId = 'gw-wrong';
    let wrong: string;

    before(async () => {
      const right = secretFor(clientId);
      wrong = secretFor(`${clientId}-bad`);
      as = track(await startAuthServer({ clients: { [clientId]: { secret: right, scopes: ['mcp:tools'] } } }));
      up = track(await startProtectedUpstream({ as, era: 'modern', label: 'wrong' }));
      const t = await cluster.tenant('wrongco');
      client = await cluster.client(t.apiKey, 'modern');
      assert.equal((await register('wrongco', 'bad', up.url, { clientId, clientSecret: wrong })).status, 201);
    });

    it('`upstreams test` reports the refusal naming the upstream and the OAuth error', async () => {
      const test = await admin('POST', '/tenants/wrongco/upstreams/bad/test');
      assert.equal(test.body.test.ok, false);
      assert.equal(test.body.test.error, 'upstream "bad": OAuth client-credentials authentication failed (invalid_client): client authentication failed');
      // One connection attempt (no reconnect retry for an auth failure); the SDK itself retries once
      // after invalid_client.
      assert.equal(as.tokenRequests.length, 2);
      assert.ok(as.tokenRequests.every((r) => r.clientId === clientId && !r.secretMatched && r.outcome === 'invalid_client'));
      assert.equal(up.seen.tokens.size, 0, 'no token ever reached the upstream');
    });

    it('a call gets JSON-RPC -32050 naming the upstream, reason auth', async () => {
      const err = await rpcError(client.callTool({ name: 'bad__whoami', arguments: {} }));
      assert.equal(err.code, -32050);
      assert.equal(err.message, 'upstream "bad": OAuth client-credentials authentication failed (invalid_client): client authentication failed');
      assert.deepEqual(err.data, { upstream: 'bad', reason: 'auth' });
    });

    it('the CLI: add with --oauth-* flags and `upstreams test` (exit 1 with the wrong secret, 0 after update)', async () => {
      const right = secretFor('cli');
      const cliAs = track(await startAuthServer({ clients: { 'gw-cli': { secret: right, scopes: ['mcp:tools', 'mcp:read'] } } }));
      const cliUp = track(await startProtectedUpstream({ as: cliAs, era: 'legacy', label: 'cli' }));
      const add = await cli(
        'upstreams',
        'add',
        'wrongco',
        '--name',
        'viacli',
        '--url',
        cliUp.url,
        '--oauth-client-id',
        'gw-cli',
        '--oauth-client-secret',
        wrong,
        '--oauth-scope',
        'mcp:read',
      );
      assert.equal(add.code, 0, add.stderr);
      assert.match(add.stdout, /auth=oauth-client-credentials/);
      const failed = await cli('upstreams', 'test', 'wrongco', 'viacli');
      assert.equal(failed.code, 1);
      assert.match(failed.stdout + failed.stderr, /upstream "viacli": OAuth client-credentials authentication failed \(invalid_client\)/);
      const upd = await cli(
        'upstreams',
        'update',
        'wrongco',
        'viacli',
        '--oauth-client-id',
        'gw-cli',
        '--oauth-client-secret',
        right,
        '--oauth-scope',
        'mcp:read',
        '--oauth-issuer',
        cliAs.issuer,
      );
      assert.equal(upd.code, 0, upd.stderr);
      const ok = await cli('upstreams', 'test', 'wrongco', 'viacli');
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.match(ok.stdout, /2025/);
      assert.deepEqual(cliAs.tokenRequests.at(-1)!.scope, 'mcp:read');
      const shown = JSON.parse((await cli('upstreams', 'show', 'wrongco', 'viacli', '--json')).stdout) as { upstream: { auth: Record<string, unknown> } };
      assert.deepEqual(shown.upstream.auth, { kind: 'oauth-client-credentials', oauthClientId: 'gw-cli', oauthScope: 'mcp:read', oauthIssuer: cliAs.issuer });
      const usage = await cli('upstreams', 'update', 'wrongco', 'viacli', '--oauth-issuer', cliAs.issuer);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /--oauth-scope and --oauth-issuer need --oauth-client-id and --oauth-client-secret/);
      for (const out of [add, failed, upd, ok])
        for (const s of [wrong, right]) assert.ok(!(out.stdout + out.stderr).includes(s), 'the CLI never prints a secret');
    });
  });

  describe('issuer pinning (credentials.oauth.issuer)', () => {
    let as: AuthServerFixture;
    let up: ProtectedUpstreamFixture;
    const clientId = 'gw-issuer';
    let secret: string;
    const unpinnedWarning = (lines: string[]) => lines.filter((l) => l.includes('Omitting `expectedIssuer` is deprecated')).length;

    before(async () => {
      secret = secretFor(clientId);
      as = track(await startAuthServer({ clients: { [clientId]: { secret, scopes: ['mcp:tools'] } } }));
      up = track(await startProtectedUpstream({ as, era: 'modern', label: 'iss' }));
    });

    it('the configured issuer (trailing slash tolerated) is used, without the SDK warning an unpinned client gets', async () => {
      const add = await register('acme', 'pinned', up.url, { clientId, clientSecret: secret, issuer: `${as.issuer}/` });
      assert.equal(add.status, 201, JSON.stringify(add.body));
      assert.equal(add.body.upstream.auth.oauthIssuer, `${as.issuer}/`);
      const warned = unpinnedWarning(consoleLines);
      const test = await admin('POST', '/tenants/acme/upstreams/pinned/test');
      assert.equal(test.body.test.ok, true, JSON.stringify(test.body));
      assert.equal(unpinnedWarning(consoleLines), warned, 'no deprecation warning for a pinned client');
      assert.equal(tokenRequestsOf(as, clientId).length, 1);
      // The same credentials without an issuer: the SDK warns on the console for the connection.
      assert.equal((await register('acme', 'unpinned', up.url, { clientId, clientSecret: secret })).status, 201);
      assert.equal((await admin('POST', '/tenants/acme/upstreams/unpinned/test')).body.test.ok, true);
      assert.equal(unpinnedWarning(consoleLines), warned + 1);
    });

    it('an upstream that names another AS never gets the credentials presented there', async () => {
      const add = await register('acme', 'misdirected', up.url, { clientId, clientSecret: secret, issuer: 'https://login.example.com' });
      assert.equal(add.status, 201, JSON.stringify(add.body));
      const before = as.tokenRequests.length;
      const test = await admin('POST', '/tenants/acme/upstreams/misdirected/test');
      assert.equal(test.body.test.ok, false);
      assert.match(
        test.body.test.error,
        new RegExp(
          `^upstream "misdirected": OAuth client-credentials authentication failed: Authorization server mismatch: credentials are bound to "https://login\.example\.com" but this call resolved "${as.issuer.replace(/\./g, '\\.')}"`,
        ),
      );
      assert.equal(as.tokenRequests.length, before, 'no token request reached the AS the upstream named');
    });

    it('refuses an issuer that is not an http(s) URL with 400 naming the field', async () => {
      const r = await register('acme', 'bad-issuer', up.url, { clientId, clientSecret: secret, issuer: 'ftp://login.example.com' });
      assert.equal(r.status, 400);
      assert.match(JSON.stringify(r.body.error), /credentials\.oauth\.issuer.*the authorization server's issuer URL \(http or https\)/);
    });
  });

  describe('other credentials beside OAuth', () => {
    it('configured headers and bearer go to the upstream only, never to the authorization server', async () => {
      const clientId = 'gw-headers';
      const secret = secretFor(clientId);
      const headerValue = secretFor('hdr');
      const bearer = secretFor('bearer');
      const as = track(await startAuthServer({ clients: { [clientId]: { secret, scopes: ['mcp:tools'] } } }));
      const up = track(await startProtectedUpstream({ as, era: 'legacy', label: 'hdr' }));
      const add = await register('acme', 'hdr', up.url, { clientId, clientSecret: secret }, { headers: { 'X-Upstream-Key': headerValue }, bearer });
      assert.equal(add.status, 201, JSON.stringify(add.body));
      const test = await admin('POST', '/tenants/acme/upstreams/hdr/test');
      assert.equal(test.body.test.ok, true, JSON.stringify(test.body));
      assert.ok(up.seen.headerValues.has(headerValue), 'the upstream got its configured header');
      assert.ok(as.requests.length >= 2, 'the AS was used (metadata + token)');
      for (const r of as.requests) {
        assert.ok(!r.headerValues.some((v) => v.includes(headerValue) || v.includes(bearer)), `configured credential sent to the AS: ${r.method} ${r.path}`);
      }
      assert.equal(as.tokenRequests.at(-1)!.authMethod, 'client_secret_basic', 'the Basic client authentication itself still reaches the token endpoint');
    });
  });

  // Last (mocha runs a suite's own tests before its child suites): reads what every test above left.
  describe('secrets', () => {
    it('no secret in admin answers, logs, console, audit log, upstreams table or Redis', async () => {
      const listed = await admin('GET', '/tenants/acme/upstreams');
      assert.ok(listed.body.upstreams.some((u: { auth: { kind: string } }) => u.auth.kind === 'oauth-client-credentials'));
      await admin('GET', '/tenants/acme/upstreams/oa-modern');
      await admin('GET', '/tenants/wrongco/upstreams/bad');
      assert.ok(
        logLines.some((l) => l.includes('client authentication failed')),
        'the auth failures were logged (the capture works)',
      );
      const db = new pg.Client({ connectionString: cluster.db.url });
      await db.connect();
      const redis = new Redis(testServiceUrls().redisUrl);
      try {
        const audit = (await db.query('SELECT row_to_json(a)::text AS t FROM audit_log a')).rows.map((r: { t: string }) => r.t);
        assert.ok(audit.length > 0, 'calls were audited');
        const rows = (await db.query('SELECT credentials, row_to_json(u)::text AS t FROM upstreams u')).rows as { credentials: Buffer | null; t: string }[];
        const keys: string[] = [];
        let cursor = '0';
        do {
          const [next, batch] = await redis.scan(cursor, 'MATCH', `${cluster.prefix}*`, 'COUNT', 500);
          cursor = next;
          keys.push(...batch);
        } while (cursor !== '0');
        const redisValues = await Promise.all(keys.map(async (k) => ((await redis.type(k)) === 'string' ? ((await redis.get(k)) ?? '') : '')));
        assert.ok(secrets.length >= 10);
        for (const s of secrets) {
          const where = [
            ['admin API', adminBodies],
            ['logs', logLines],
            ['console', consoleLines],
            ['audit_log', audit],
            ['upstreams rows', rows.map((r) => r.t)],
            ['redis', redisValues],
          ] as const;
          for (const [name, texts] of where) assert.ok(!texts.some((t) => t.includes(s)), `a client secret appears in the ${name}`);
          assert.ok(!rows.some((r) => r.credentials?.includes(s)), 'credentials are stored sealed');
        }
      } finally {
        await db.end();
        redis.disconnect();
      }
    });
  });
});

describe('federation: OAuth authorization server outside UPSTREAM_ALLOWLIST', function () {
  this.timeout(60_000);
  let cluster: Cluster;
  let as: AuthServerFixture;
  let up: ProtectedUpstreamFixture;

  before(async () => {
    // The upstream is on 127.0.0.1 (allowlisted); its AS on 127.0.0.2 is not.
    cluster = await startCluster(1, { UPSTREAM_ALLOWLIST: '127.0.0.1' });
    await cluster.tenant('acme');
    as = await startAuthServer({ host: '127.0.0.2', clients: { gw: { secret: 'never-sent-1', scopes: ['mcp:tools'] } } });
    up = await startProtectedUpstream({ as, era: 'modern', label: 'ssrf' });
  });
  after(async () => {
    await cluster?.stop();
    await Promise.all([as?.close(), up?.close()]);
  });

  it('is refused by the SSRF guard before any request reaches it; the error names the endpoint and rule', async () => {
    const add = await cluster.admin('POST', '/tenants/acme/upstreams', {
      name: 'ext',
      url: up.url,
      credentials: { oauth: { clientId: 'gw', clientSecret: 'never-sent-1' } },
    });
    assert.equal(add.status, 201, JSON.stringify(add.body));
    const test = await cluster.admin('POST', '/tenants/acme/upstreams/ext/test');
    assert.equal(test.body.test.ok, false);
    assert.match(
      test.body.test.error,
      new RegExp(
        `^upstream "ext": OAuth client-credentials authentication failed: OAuth endpoint http://127\\.0\\.0\\.2:${as.port} refused by the SSRF guard: .*SSRF rule "loopback"`,
      ),
    );
    assert.ok(up.seen.metadataRequests >= 1, 'the resource metadata (on the allowlisted upstream) was read');
    assert.deepEqual(as.requests, [], 'nothing reached the authorization server');
  });
});
