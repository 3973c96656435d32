import assert from 'node:assert/strict';
import { before, describe, it } from 'mocha';
import { HTTP } from '../../../contract/index.js';
import { configFor, type MockRun, REGIONS, regionalHost, regionalOutputs, runUnderMocks, stackOf, T, type TestRegion } from './harness.js';

const poolId = (region: string) => `region-${region}-pool-id`;
const names = (run: MockRun, type: string) =>
  run
    .ofType(type)
    .map((r) => r.name)
    .sort();

/** Checks the resources every region count must produce. */
function assertEdgeFor(run: MockRun, regions: readonly TestRegion[]): void {
  assert.deepEqual(names(run, T.stackRef), regions.map((r) => `region-${r}-ref`).sort());
  assert.deepEqual(
    run
      .ofType(T.stackRef)
      .map((r) => r.inputs.name)
      .sort(),
    regions.map(stackOf).sort(),
  );
  assert.deepEqual(names(run, T.monitor), regions.map((r) => `region-${r}-monitor`).sort());
  assert.deepEqual(names(run, T.pool), regions.map((r) => `region-${r}-pool`).sort());

  for (const region of regions) {
    const monitor = run.one(T.monitor, `region-${region}-monitor`).inputs;
    assert.equal(monitor.type, 'https');
    assert.equal(monitor.path, HTTP.readinessPath);
    assert.deepEqual(monitor.header, { Host: [regionalHost(region)] }, "the region's own hostname, which its ingress serves");
    assert.equal(monitor.expectedCodes, '200');
    assert.equal(monitor.interval, 60);
    assert.equal(monitor.retries, 2);

    const pool = run.one(T.pool, `region-${region}-pool`).inputs;
    assert.equal(pool.name, `prod-${region}`);
    assert.equal(pool.monitor, `region-${region}-monitor-id`);
    assert.equal(pool.origins.length, 1);
    assert.equal(pool.origins[0].address, regionalOutputs(region).ingressHostname);
    assert.deepEqual(pool.origins[0].header, { hosts: [regionalHost(region)] });
  }

  const lb = run.one(T.lb, 'edge-lb-mcp').inputs;
  assert.equal(lb.name, 'mcp.example.com');
  assert.equal(lb.proxied, true);
  assert.equal(lb.steeringPolicy, 'geo');
  assert.deepEqual(lb.defaultPools, regions.map(poolId));
  assert.equal(lb.fallbackPool, poolId('us-east-1'), 'fallback is the primary region');
  // geo steering: every claimed Cloudflare region goes to its own region's pool first
  for (const region of regions) {
    for (const code of REGIONS[region].geoRegions) {
      assert.equal(lb.regionPools[code][0], poolId(region), `${code} → ${region}`);
      assert.deepEqual([...lb.regionPools[code]].sort(), regions.map(poolId).sort(), `${code} fails over to every other pool`);
    }
  }
  assert.equal(
    Object.keys(lb.regionPools).length,
    regions.reduce((n, r) => n + REGIONS[r].geoRegions.length, 0),
  );
  assert.equal(lb.sessionAffinity, 'header');
  assert.deepEqual(lb.sessionAffinityAttributes.headers, ['Mcp-Session-Id']);
  assert.equal(lb.sessionAffinityTtl, 1800);

  // pinned regional hostnames: one single-pool load balancer each
  for (const region of regions) {
    const pin = run.one(T.lb, `edge-lb-pin-${region}`).inputs;
    assert.equal(pin.name, regionalHost(region));
    assert.deepEqual(pin.defaultPools, [poolId(region)]);
    assert.equal(pin.fallbackPool, poolId(region));
    assert.equal(pin.proxied, true);
  }
  assert.equal(run.ofType(T.lb).length, regions.length + 1);

  const health = run.one(T.notification, 'edge-lb-pool-health').inputs;
  assert.equal(health.alertType, 'load_balancing_health_alert');
  assert.deepEqual([...health.filters.poolIds].sort(), regions.map(poolId).sort());
  assert.deepEqual(health.mechanisms, { emails: [{ id: 'oncall@example.com' }] });

  const phases = run
    .ofType(T.ruleset)
    .map((r) => r.inputs.phase)
    .sort();
  assert.deepEqual(phases, ['http_ratelimit', 'http_request_cache_settings', 'http_request_firewall_custom', 'http_request_late_transform']);
}

describe('global stack under mocks', function () {
  this.timeout(20_000);
  let two: MockRun;
  let three: MockRun;

  before(async () => {
    two = await runUnderMocks(configFor(['us-east-1', 'eu-west-1']));
    three = await runUnderMocks(configFor(['us-east-1', 'eu-west-1', 'ap-southeast-1']));
  });

  describe('load balancing', () => {
    it('creates monitors, pools, the load balancer and rules for 2 regions', () => {
      assertEdgeFor(two, ['us-east-1', 'eu-west-1']);
    });

    it('creates monitors, pools, the load balancer and rules for 3 regions', () => {
      assertEdgeFor(three, ['us-east-1', 'eu-west-1', 'ap-southeast-1']);
    });

    it('removing a region from config removes its pool, monitor and pinned hostname, and keeps the others', () => {
      const removed = 'ap-southeast-1';
      for (const type of [T.pool, T.monitor, T.stackRef, T.lb]) {
        const before = names(three, type);
        const after = names(two, type);
        assert.ok(
          before.some((n) => n.includes(removed)),
          `${type} had ${removed}`,
        );
        assert.deepEqual(
          after,
          before.filter((n) => !n.includes(removed)),
          `${type} keeps the same names for the others`,
        );
      }
      const lb = two.one(T.lb, 'edge-lb-mcp').inputs;
      assert.ok(!JSON.stringify(lb).includes(poolId(removed)), 'no reference to the removed pool');
      assert.equal(lb.regionPools.SEAS, undefined, 'its clients go to the default pools');
    });

    it('health-checks from the Cloudflare regions the pools serve (India stands for SAS)', async () => {
      const { checkRegionsFor } = await import('../../../infra/global/index.js');
      const { parseGlobalConfig } = await import('../../../infra/global/config.js');
      const cfg = parseGlobalConfig(configFor(['us-east-1', 'ap-southeast-1']) as Record<string, unknown>);
      assert.deepEqual(checkRegionsFor(cfg), ['ENAM', 'IN', 'NEAS', 'NSAM', 'OC', 'SEAS', 'SSAM', 'WNAM']);
      const pool = three.one(T.pool, 'region-eu-west-1-pool').inputs;
      assert.equal(pool.checkRegions.length, 13, 'three regions claim every steering region');
      assert.ok(pool.checkRegions.includes('IN') && !pool.checkRegions.includes('SAS'));
    });

    it('exports pools, hostnames and the fallback region', () => {
      assert.equal(three.outputs.mcpUrl, 'https://mcp.example.com/mcp');
      assert.equal(three.outputs.fallbackRegion, 'us-east-1');
      assert.deepEqual(three.outputs.regionalHostnames, {
        'us-east-1': 'us.mcp.example.com',
        'eu-west-1': 'eu.mcp.example.com',
        'ap-southeast-1': 'ap.mcp.example.com',
      });
      assert.equal(three.outputs.regions['eu-west-1'].poolId, poolId('eu-west-1'));
      assert.equal(three.outputs.regions['eu-west-1'].ingressHostname, 'k8s-ingress-eu-west-1.elb.amazonaws.com');
    });

    it('switches to dynamic latency steering, honours a configured fallback, and can drop affinity', async () => {
      const run = await runUnderMocks(
        configFor(['us-east-1', 'eu-west-1'], { latencySteering: true, fallbackRegion: 'eu-west-1', sessionAffinity: { enabled: false } }),
      );
      const lb = run.one(T.lb, 'edge-lb-mcp').inputs;
      assert.equal(lb.steeringPolicy, 'dynamic_latency');
      assert.equal(lb.fallbackPool, poolId('eu-west-1'));
      assert.equal(lb.sessionAffinity, 'none');
      assert.equal(lb.sessionAffinityAttributes, undefined);
      assert.ok(lb.regionPools.WEU, 'geo map kept for switching back');
    });

    it('sends the MCP hostname to the origins when originHost is public', async () => {
      const run = await runUnderMocks(configFor(['us-east-1'], { originHost: 'public' }));
      assert.deepEqual(run.one(T.monitor, 'region-us-east-1-monitor').inputs.header, { Host: ['mcp.example.com'] });
      assert.deepEqual(run.one(T.pool, 'region-us-east-1-pool').inputs.origins[0].header, { hosts: ['mcp.example.com'] });
      assert.equal(run.one(T.lb, 'edge-lb-pin-us-east-1').inputs.name, 'us.mcp.example.com');
    });

    it('follows the stacks: a different primary becomes the fallback, reported weights are used', async () => {
      const run = await runUnderMocks(configFor(['us-east-1', 'eu-west-1']), {
        [stackOf('us-east-1')]: regionalOutputs('us-east-1', { isPrimary: false, steeringWeight: 0.25 }),
        [stackOf('eu-west-1')]: regionalOutputs('eu-west-1', { isPrimary: true, healthPath: '/ready' }),
      });
      const lb = run.one(T.lb, 'edge-lb-mcp').inputs;
      assert.equal(lb.fallbackPool, poolId('eu-west-1'));
      assert.deepEqual(lb.randomSteering.poolWeights, { [poolId('us-east-1')]: 0.25, [poolId('eu-west-1')]: 1 });
      assert.equal(run.one(T.monitor, 'region-eu-west-1-monitor').inputs.path, '/ready');
    });
  });

  describe('CDN and TLS', () => {
    it('bypasses the cache for every MCP path and caches /assets/* for a year', () => {
      const rules = three.ofType(T.ruleset).find((r) => r.inputs.phase === 'http_request_cache_settings')!.inputs.rules as any[];
      const bypass = rules.find((r) => r.actionParameters.cache === false);
      for (const path of [HTTP.mcpPath, '/admin', HTTP.metricsPath, '/.well-known']) {
        assert.ok(bypass.expression.includes(`http.request.uri.path eq "${path}"`), `${path} bypasses the cache`);
      }
      const assets = rules.find((r) => r.actionParameters.cache === true);
      assert.ok(assets.expression.includes('starts_with(http.request.uri.path, "/assets/")'));
      assert.equal(assets.actionParameters.edgeTtl.default, 31_536_000);
    });

    it('turns on tiered caching', () => {
      assert.equal(three.one(T.argoTiered, 'edge-cache-tiered-caching').inputs.value, 'on');
      assert.equal(three.one(T.tieredCache, 'edge-cache-smart-topology').inputs.value, 'on');
    });

    it('sets TLS 1.2 minimum, always HTTPS, strict origin TLS and HSTS', () => {
      const settings = Object.fromEntries(three.ofType(T.zoneSetting).map((r) => [r.inputs.settingId, r.inputs.value]));
      assert.equal(settings.min_tls_version, '1.2');
      assert.equal(settings.always_use_https, 'on');
      assert.equal(settings.ssl, 'strict');
      assert.deepEqual(settings.security_header, {
        strict_transport_security: { enabled: true, max_age: 31_536_000, include_subdomains: true, preload: false, nosniff: true },
      });
    });
  });

  describe('edge protection', () => {
    it('rate-limits per API key or IP with a tighter tools/call rule', () => {
      const rules = three.ofType(T.ruleset).find((r) => r.inputs.phase === 'http_ratelimit')!.inputs.rules as any[];
      const tools = rules.filter((r) => r.expression.includes('"tools/call"') && !r.expression.includes('not (any(http.request.headers["mcp-method"]'));
      assert.equal(tools.length, 2);
      assert.deepEqual(tools.map((r) => r.ratelimit.characteristics[1]).sort(), ['http.request.headers["authorization"]', 'ip.src']);
      const other = rules.find((r) => r.ref === 'rl_other_methods_key');
      assert.ok(tools.every((r) => r.ratelimit.requestsPerPeriod < other.ratelimit.requestsPerPeriod));
    });

    it('refuses oversized bodies to /mcp', () => {
      const rules = three.ofType(T.ruleset).find((r) => r.inputs.phase === 'http_request_firewall_custom')!.inputs.rules as any[];
      const oversized = rules.find((r) => r.ref === 'refuse_oversized_body');
      assert.ok(oversized.expression.includes('http.request.body.size gt 1048576'));
      assert.equal(oversized.action, 'block');
      assert.equal(oversized.actionParameters.response.statusCode, 413);
    });
  });
});
