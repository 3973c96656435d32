/**
 * SSRF guard: refused ranges with the rule named, DNS names resolving to loopback, the allowlist, the
 * admin API refusing such URLs without UPSTREAM_ALLOWLIST, and the rebinding pin (a second, different DNS
 * answer is never used: connections go to the checked address).
 */
import assert from 'node:assert/strict';
import { fetch as undiciFetch } from 'undici';
import { classifyAddress, pinnedAgent, SsrfError, SsrfGuard, type Resolver } from '../../../service/src/gateway/ssrf-guard.js';
import { startCluster, type Cluster } from './support/gateway.js';
import { startModernUpstream, type UpstreamFixture } from './support/upstream-fixtures.js';

const refusedRule = async (guard: SsrfGuard, url: string) => {
  try {
    await guard.check(url);
  } catch (err) {
    assert.ok(err instanceof SsrfError, String(err));
    return { rule: err.rule, message: err.message };
  }
  return undefined;
};

describe('federation: SSRF guard', function () {
  this.timeout(30_000);

  describe('address rules', () => {
    const cases: [string, string][] = [
      ['http://127.0.0.1/', 'loopback'],
      ['http://[::1]/', 'loopback'],
      ['http://169.254.169.254/latest/meta-data', 'cloud-metadata'],
      ['http://[fd00:ec2::254]/', 'cloud-metadata'],
      ['http://10.1.2.3/', 'private'],
      ['http://172.20.0.1/', 'private'],
      ['http://192.168.1.1/', 'private'],
      ['http://100.64.0.1/', 'private'],
      ['http://169.254.10.10/', 'link-local'],
      ['http://[fe80::1]/', 'link-local'],
      ['http://0.0.0.0/', 'unspecified'],
      ['http://[::ffff:127.0.0.1]/', 'loopback'],
      ['http://224.0.0.1/', 'multicast'],
    ];
    const guard = new SsrfGuard([]);
    for (const [url, rule] of cases) {
      it(`refuses ${url} (${rule})`, async () => {
        const r = await refusedRule(guard, url);
        assert.equal(r?.rule, rule);
        assert.match(r!.message, new RegExp(`SSRF rule "${rule}"`));
        assert.match(r!.message, /UPSTREAM_ALLOWLIST/);
      });
    }

    it('accepts public addresses and refuses other schemes and userinfo', async () => {
      assert.equal(classifyAddress('8.8.8.8', 4), undefined);
      assert.equal(classifyAddress('2606:4700::1111', 6), undefined);
      assert.equal((await refusedRule(guard, 'gopher://8.8.8.8/'))?.rule, 'scheme');
      assert.equal((await refusedRule(guard, 'http://user:pw@8.8.8.8/'))?.rule, 'userinfo');
      assert.equal((await guard.check('https://8.8.8.8/mcp')).address, '8.8.8.8');
    });

    it('refuses a DNS name that resolves to loopback, naming the answer', async () => {
      const r = await refusedRule(new SsrfGuard([]), 'http://localhost:8080/mcp');
      assert.equal(r?.rule, 'loopback');
      assert.match(r!.message, /localhost resolves to (127\.0\.0\.1|::1)/);
    });

    it('refuses a name if any of its answers is internal', async () => {
      const resolver: Resolver = async () => [
        { address: '93.184.216.34', family: 4 },
        { address: '10.0.0.5', family: 4 },
      ];
      assert.equal((await refusedRule(new SsrfGuard([], resolver), 'https://mixed.example/'))?.rule, 'private');
    });

    it('allows allowlisted hosts, wildcards and CIDRs', async () => {
      const resolver: Resolver = async () => [{ address: '10.0.0.5', family: 4 }];
      assert.equal((await new SsrfGuard(['10.0.0.0/8'], resolver).check('http://svc.internal/')).address, '10.0.0.5');
      assert.equal((await new SsrfGuard(['svc.internal'], resolver).check('http://svc.internal/')).address, '10.0.0.5');
      assert.equal((await new SsrfGuard(['*.corp.example'], resolver).check('http://a.corp.example/')).address, '10.0.0.5');
      assert.equal((await refusedRule(new SsrfGuard(['*.corp.example'], resolver), 'http://corp.evil/'))?.rule, 'private');
    });
  });

  describe('DNS rebinding pin', () => {
    let upstream: UpstreamFixture;
    before(async () => {
      upstream = await startModernUpstream('pin');
    });
    after(() => upstream.close());

    it('connects to the checked address even when DNS later answers differently', async () => {
      let lookups = 0;
      // First answer passes the allowlist; every later answer points at a metadata endpoint.
      const resolver: Resolver = async () => (lookups++ === 0 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '169.254.169.254', family: 4 }]);
      const guard = new SsrfGuard(['127.0.0.0/8'], resolver);
      const target = await guard.check(`http://rebind.test:${upstream.port}/mcp`);
      const agent = pinnedAgent(target);
      try {
        const before = upstream.seen.requests;
        for (let i = 0; i < 3; i++) {
          const res = await undiciFetch(`http://rebind.test:${upstream.port}/mcp`, {
            method: 'POST',
            dispatcher: agent,
            headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
            body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: {} } }),
          });
          await res.text();
        }
        assert.equal(upstream.seen.requests - before, 3, 'every request reached the pinned upstream');
        assert.equal(lookups, 1, 'the name was resolved exactly once');
      } finally {
        await agent.close();
      }
    });
  });

  describe('admin API without UPSTREAM_ALLOWLIST', () => {
    let cluster: Cluster;
    before(async () => {
      cluster = await startCluster(1, { UPSTREAM_ALLOWLIST: '' });
      await cluster.tenant('acme');
    });
    after(() => cluster.stop());

    for (const [url, rule] of [
      ['http://127.0.0.1:8080/mcp', 'loopback'],
      ['http://localhost:8080/mcp', 'loopback'],
      ['http://169.254.169.254/mcp', 'cloud-metadata'],
      ['http://10.0.0.1/mcp', 'private'],
    ] as const) {
      it(`refuses ${url} with 400 naming rule ${rule}`, async () => {
        const r = await cluster.admin('POST', '/tenants/acme/upstreams', { name: 'x', url });
        assert.equal(r.status, 400, JSON.stringify(r.body));
        assert.equal(r.body.error.code, rule);
        assert.match(r.body.error.message, new RegExp(`SSRF rule "${rule}"`));
      });
    }
  });
});
