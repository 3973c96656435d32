/**
 * `npm run admin -- upstreams ...` and `keys rotate-master` as a subprocess against a real gateway:
 * the verbs, their human output, secrets never printed, and usage errors (exit 2).
 */
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from './support/gateway.js';
import { startModernUpstream, type UpstreamFixture } from './support/upstream-fixtures.js';
import { runAdminCli } from '../../support/admin-cli.js';

describe('federation: admin CLI', function () {
  this.timeout(60_000);
  let cluster: Cluster;
  let upstream: UpstreamFixture;
  const cli = (...args: string[]) => runAdminCli(args, { ...process.env, ADMIN_URL: cluster.gateways[0]!.url, ADMIN_TOKEN: cluster.adminToken });

  before(async () => {
    [cluster, upstream] = await Promise.all([startCluster(1), startModernUpstream('cli')]);
    await cluster.tenant('acme');
  });
  after(async () => {
    await cluster?.stop();
    await upstream?.close();
  });

  it('adds, lists, tests, updates, shows and removes an upstream', async () => {
    const add = await cli(
      'upstreams',
      'add',
      'acme',
      '--name',
      'weather',
      '--url',
      upstream.url,
      '--bearer',
      'sekret-token',
      '--header',
      'X-Api-Key: hdr-secret-42',
    );
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /registered upstream weather: weather\t.*auth=bearer/);
    assert.doesNotMatch(add.stdout, /sekret-token|hdr-secret-42/);

    const list = await cli('upstreams', 'list', 'acme');
    assert.match(list.stdout, /^weather\thttp:\/\/127\.0\.0\.1:\d+\/mcp\tstreamable-http\tauth=bearer\tv1/m);

    const test = await cli('upstreams', 'test', 'acme', 'weather');
    assert.equal(test.code, 0, test.stderr);
    assert.match(test.stdout, /protocol 2026-07-28 stateless \(2026-07-28\)/);
    // The 2026-07-28 fixture: six tools and forge_meta.
    assert.match(test.stdout, /tools 7, resources 1, templates 1, prompts 1/);
    assert.equal(upstream.seen.authorization, 'Bearer sekret-token');

    const upd = await cli('upstreams', 'update', 'acme', 'weather', '--deny', 'slow', '--timeout-ms', '5000');
    assert.equal(upd.code, 0, upd.stderr);
    const show = await cli('upstreams', 'show', 'acme', 'weather', '--json');
    const shown = JSON.parse(show.stdout) as { upstream: { options: { denyTools: string[]; timeouts: { callMs: number } }; version: number } };
    assert.deepEqual(shown.upstream.options.denyTools, ['slow']);
    assert.equal(shown.upstream.options.timeouts.callMs, 5000);
    assert.equal(shown.upstream.version, 2);
    assert.doesNotMatch(show.stdout, /sekret-token/);

    const rotate = await cli('keys', 'rotate-master');
    assert.equal(rotate.code, 0, rotate.stderr);
    assert.match(rotate.stdout, /re-wrapped 0 data key\(s\) under local:[0-9a-f]{16}; 0 remaining/);

    const rm = await cli('upstreams', 'remove', 'acme', 'weather');
    assert.match(rm.stdout, /removed upstream weather/);
    assert.match((await cli('upstreams', 'list', 'acme')).stdout, /no upstreams/);
  });

  it('reports usage and API errors with the right exit codes', async () => {
    const usage = await cli('upstreams', 'add', 'acme', '--name', 'x');
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /needs --name <namespace> and --url <url>/);
    const refused = await cli('upstreams', 'add', 'acme', '--name', 'meta', '--url', 'http://169.254.169.254/');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /SSRF rule "cloud-metadata".*\(HTTP 400\)/);
  });
});
