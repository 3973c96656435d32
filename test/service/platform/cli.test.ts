import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '../../../service/src/local/free-port.js';
import { runAdminCli } from '../../support/admin-cli.js';
import { startTestGateway, type TestGateway } from '../../support/platform-gateway.js';
import { MCP_HEADERS, PING, rawRequest } from '../../support/platform-http.js';

/** The admin CLI with only PATH and `env` in its environment. */
const admin = (args: string[], env: Record<string, string | undefined>) => runAdminCli(args, { PATH: process.env.PATH, ...env });

describe('admin CLI (npm run admin)', function () {
  this.timeout(60_000);
  let t: TestGateway;
  let env: Record<string, string>;
  const run = (...args: string[]) => admin(args, env);

  before(async () => {
    t = await startTestGateway();
    env = { ADMIN_URL: t.gateway.url, ADMIN_TOKEN: t.adminToken };
  });
  after(async () => t.stop());

  it('tenants create prints an API_KEY= line whose key works on /mcp', async () => {
    const r = await run('tenants', 'create', 'acme', '--toolsets', 'platform,diagnostics');
    assert.equal(r.code, 0, r.stderr);
    const key = /^API_KEY=(umcp_\S+)$/m.exec(r.stdout)?.[1];
    assert.ok(key, r.stdout);
    const res = await rawRequest(t.gateway.mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${key}` }, body: PING });
    assert.equal(res.status, 200);
    assert.deepEqual(t.calls.at(-1)!.principal.toolsets, ['platform', 'diagnostics']);
  });

  it('lists tenants as text and as JSON', async () => {
    const text = await run('tenants', 'list');
    assert.match(text.stdout, /^acme\t[0-9a-f-]{36}\tactive\tplatform,diagnostics$/m);
    const json = JSON.parse((await run('tenants', 'list', '--json')).stdout) as { tenants: { name: string }[] };
    assert.ok(json.tenants.some((x) => x.name === 'acme'));
  });

  it('creates, lists and revokes keys; disables and enables tenants', async () => {
    const created = await run('keys', 'create', 'acme', '--name', 'ci', '--json');
    assert.equal(created.code, 0, created.stderr);
    const { key, apiKey } = JSON.parse(created.stdout) as { key: { id: string }; apiKey: string };
    assert.match(apiKey, /^umcp_/);
    assert.match((await run('keys', 'list', 'acme')).stdout, new RegExp(`^${key.id}\\t.*\\tci\\tactive`, 'm'));
    assert.equal((await run('keys', 'revoke', 'acme', key.id)).code, 0);
    assert.match((await run('keys', 'list', 'acme')).stdout, new RegExp(`^${key.id}\\t.*revoked`, 'm'));
    assert.match((await run('tenants', 'disable', 'acme')).stdout, /acme is now disabled/);
    assert.match((await run('tenants', 'enable', 'acme')).stdout, /acme is now active/);
    const audit = await run('audit', '--tenant', 'acme');
    assert.match(audit.stdout, /\tadmin\tkey\.revoke\t/);
    assert.match(audit.stdout, /\tadmin\ttenant\.disable\t/);
  });

  it('reports API errors clearly with exit code 1', async () => {
    const dup = await run('tenants', 'create', 'acme');
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /^error: tenant "acme" already exists \(HTTP 409\)/);
    const bad = await run('tenants', 'create', 'Bad Name');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /HTTP 400\)\n {2}- name: a tenant name/);
    const missing = await run('keys', 'list', 'nobody');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /tenant "nobody" not found \(HTTP 404\)/);
    const wrongToken = await admin(['tenants', 'list'], { ...env, ADMIN_TOKEN: 'wrong-token-value' });
    assert.equal(wrongToken.code, 1);
    assert.match(wrongToken.stderr, /wrong admin token: the Bearer token does not match this server's ADMIN_TOKEN \(HTTP 401\)/);
    // An unreachable ADMIN_URL says why: refused, a port fetch refuses to use, not a URL, unknown host.
    const closed = await freePort();
    const down = await admin(['tenants', 'list'], { ...env, ADMIN_URL: `http://127.0.0.1:${closed}` });
    assert.equal(down.code, 1);
    assert.match(down.stderr, new RegExp(`cannot reach the admin API at http://127\\.0\\.0\\.1:${closed}: connection refused: nothing listens there`));
    const badPort = await admin(['tenants', 'list'], { ...env, ADMIN_URL: 'http://127.0.0.1:1' });
    assert.match(badPort.stderr, /cannot reach the admin API at http:\/\/127\.0\.0\.1:1: bad port: fetch refuses to connect to this port/);
    const notUrl = await admin(['tenants', 'list'], { ...env, ADMIN_URL: '127.0.0.1:8080' });
    assert.match(notUrl.stderr, /ADMIN_URL is not a valid URL/);
    // Something else answers at ADMIN_URL (another service, a proxy): said so, with what it answered.
    const other = createServer((req, res) => {
      if (req.url?.includes('/json/')) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}');
      res
        .writeHead(req.url?.includes('/html/') ? 502 : 404, { 'content-type': 'text/html' })
        .end(req.url?.includes('/html/') ? '<html><body>Bad Gateway</body></html>' : '');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const at = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    try {
      const empty = await admin(['tenants', 'list'], { ...env, ADMIN_URL: at });
      assert.equal(empty.code, 1);
      assert.match(
        empty.stderr,
        new RegExp(
          `^error: ${at} does not answer as the platform's admin API \\(GET ${at}/admin/v1/tenants got HTTP 404 with an empty body\\): is ADMIN_URL the address npm start printed`,
        ),
      );
      const json = await admin(['tenants', 'list'], { ...env, ADMIN_URL: `${at}/json/` });
      assert.match(json.stderr, /does not answer as the platform's admin API \(GET .*got HTTP 404: "\{\\"message\\":\\"Not Found\\"\}"\)/);
      const html = await admin(['tenants', 'list'], { ...env, ADMIN_URL: `${at}/html/` });
      assert.match(html.stderr, /got HTTP 502: "<html><body>Bad Gateway<\/body><\/html>"\)/);
    } finally {
      other.close();
    }
  });

  it('reports usage errors with exit code 2', async () => {
    const noEnv = await admin(['tenants', 'list'], {});
    assert.equal(noEnv.code, 2);
    assert.match(noEnv.stderr, /set ADMIN_URL and ADMIN_TOKEN/);
    const unknown = await run('frobnicate');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    // A command group without its verb names the verbs (it said 'unknown command "tenants"').
    for (const [group, verbs] of [
      ['tenants', 'create, list, show, disable, enable, move, shard'],
      ['dlq', 'list, show, replay, purge'],
      ['tasks', 'redrive'],
      ['keys', 'create, list, revoke, rotate-master'],
    ] as const) {
      const bare = await run(group);
      assert.equal(bare.code, 2, group);
      assert.match(bare.stderr, new RegExp(`^error: ${group} needs a verb: ${verbs}\n`), group);
    }
    const badFlag = await run('tenants', 'list', '--bogus');
    assert.equal(badFlag.code, 2);
    const help = await run('--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /tenants create <name> \[--toolsets a,b\]/);
  });
});
