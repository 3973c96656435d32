/**
 * `npm run admin -- servers ...` and `keys create --scope` as a subprocess against a real gateway (real
 * PostgreSQL, Redis and upstream): the verbs and their output, the `API_KEY=` line, the scoped key then
 * used at /mcp, and every bad input (usage errors exit 2, API refusals exit 1 naming the HTTP status).
 */
import assert from 'node:assert/strict';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startCluster, type Cluster } from '../federation/support/gateway.js';
import { startModernUpstream, type UpstreamFixture } from '../federation/support/upstream-fixtures.js';
import { runAdminCli } from '../../support/admin-cli.js';

describe('virtual servers: admin CLI', function () {
  this.timeout(120_000);
  let cluster: Cluster;
  let upstream: UpstreamFixture;
  const cli = (...args: string[]) => runAdminCli(args, { ...process.env, ADMIN_URL: cluster.gateways[0]!.url, ADMIN_TOKEN: cluster.adminToken });

  before(async () => {
    [cluster, upstream] = await Promise.all([startCluster(1), startModernUpstream('gh')]);
    await cluster.tenant('acme', ['platform']);
    assert.equal((await cluster.admin('POST', '/tenants/acme/upstreams', { name: 'gh', url: upstream.url })).status, 201);
  });
  after(async () => {
    await cluster?.stop();
    await upstream?.close();
  });

  it('creates, lists, shows and deletes a virtual server; a key scoped to it is served at /mcp', async () => {
    const create = await cli(
      'servers',
      'create',
      'acme',
      'dev',
      '--include',
      'gh__*,platform.*',
      '--exclude',
      'gh__slow',
      '--rename',
      'gh__echo=echo',
      '--description',
      'platform.whoami=who am I on dev',
    );
    assert.equal(create.code, 0, create.stderr);
    assert.match(create.stdout, /created virtual server dev, served at \/mcp\/dev/);
    assert.match(create.stdout, /rename gh__echo -> echo/);

    const list = await cli('servers', 'list', 'acme');
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^dev\tinclude gh__\*,platform\.\*\texclude gh__slow\ttools all$/m);
    const show = await cli('servers', 'show', 'acme', 'dev', '--json');
    assert.equal(show.code, 0, show.stderr);
    assert.deepEqual(JSON.parse(show.stdout).server.descriptions, { 'platform.whoami': 'who am I on dev' });

    const key = await cli('keys', 'create', 'acme', '--name', 'dev-echo', '--scope', 'server:dev', '--scope', 'tool:echo');
    assert.equal(key.code, 0, key.stderr);
    assert.match(key.stdout, /^created key [0-9a-f-]+ \(dev-echo\)$/m);
    assert.match(key.stdout, /^scopes: server:dev tool:echo$/m);
    const apiKey = /^API_KEY=(\S+)$/m.exec(key.stdout)?.[1];
    assert.ok(apiKey, key.stdout);
    const client = new Client({ name: 'cli-test', version: '1' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(cluster.gateways[0]!.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${apiKey}` } } }),
    );
    try {
      assert.deepEqual(
        (await client.listTools()).tools.map((t) => t.name),
        ['echo'],
      );
    } finally {
      await client.close();
    }

    const keys = await cli('keys', 'list', 'acme');
    assert.match(keys.stdout, /\tdev-echo\tactive\tlast used [^\t]+\tscopes server:dev tool:echo$/m);

    const unscoped = await cli('keys', 'create', 'acme');
    assert.equal(unscoped.code, 0);
    assert.match(unscoped.stdout, /^API_KEY=umcp_/m);
    assert.doesNotMatch(unscoped.stdout, /scopes:/);

    const del = await cli('servers', 'delete', 'acme', 'dev');
    assert.equal(del.code, 0, del.stderr);
    assert.match(del.stdout, /deleted virtual server dev/);
    assert.match((await cli('servers', 'list', 'acme')).stdout, /no virtual servers/);
    const audit = await cli('audit', '--tenant', 'acme');
    assert.match(audit.stdout, /server\.create\tdev/);
    assert.match(audit.stdout, /server\.delete\tdev/);
  });

  const refusals: [string, string[], number, RegExp][] = [
    ['create without --include', ['servers', 'create', 'acme', 'x'], 2, /needs --include/],
    ['create without a name', ['servers', 'create', 'acme', '--include', '*'], 2, /expected servers create <tenant> <name>/],
    ['a malformed --rename', ['servers', 'create', 'acme', 'x', '--include', '*', '--rename', 'nothing'], 2, /--rename must look like from=to/],
    ['a malformed --description', ['servers', 'create', 'acme', 'x', '--include', '*', '--description', '=text'], 2, /--description must look like tool=text/],
    ['an unknown servers verb', ['servers', 'frob', 'acme'], 2, /unknown command "servers frob"/],
    ['a bad server name', ['servers', 'create', 'acme', 'Bad_Name', '--include', '*'], 1, /HTTP 400[\s\S]*virtual server name/],
    ['a bad glob', ['servers', 'create', 'acme', 'x', '--include', '[oops'], 1, /HTTP 400[\s\S]*not a valid glob/],
    ['a bad --tool-listing', ['servers', 'create', 'acme', 'x', '--include', '*', '--tool-listing', 'few'], 1, /HTTP 400[\s\S]*toolListing/],
    ['a colliding rename', ['servers', 'create', 'acme', 'x', '--include', 'gh__*', '--rename', 'gh__echo=gh__slow'], 1, /collides.*HTTP 409/],
    ['an unknown tenant', ['servers', 'list', 'nobody'], 1, /tenant "nobody" not found.*HTTP 404/],
    ['an unknown server', ['servers', 'show', 'acme', 'nope'], 1, /no virtual server "nope".*HTTP 404/],
    ['deleting an unknown server', ['servers', 'delete', 'acme', 'nope'], 1, /HTTP 404/],
    ['a scope naming an unknown server', ['keys', 'create', 'acme', '--scope', 'server:nope'], 1, /HTTP 400[\s\S]*no virtual server "nope"/],
    ['a scope outside the grammar', ['keys', 'create', 'acme', '--scope', 'admin'], 1, /HTTP 400[\s\S]*neither server:<name> nor tool:<name>/],
  ];
  for (const [what, args, code, message] of refusals) {
    it(`refuses ${what} (exit ${code})`, async () => {
      const r = await cli(...args);
      assert.equal(r.code, code, `${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stdout, /API_KEY=/);
    });
  }
});
