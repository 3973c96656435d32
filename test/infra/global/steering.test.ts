import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { failoverOrder, fallbackIndex, geoMaps, poolWeights, regionalHostname, regionalMismatches } from '../../../infra/global/steering.js';

const regions = [
  { region: 'us-east-1', geoRegions: ['ENAM', 'WNAM'] as const, countries: [] as string[] },
  { region: 'eu-west-1', geoRegions: ['WEU'] as const, countries: ['DE'] },
  { region: 'ap-southeast-1', geoRegions: ['SEAS'] as const, countries: [] as string[] },
].map((r) => ({ ...r, geoRegions: [...r.geoRegions] }));

describe('steering decisions', () => {
  it('orders each region own pool first, then the others in config order', () => {
    assert.deepEqual(failoverOrder(['us', 'eu', 'ap'], 1), ['eu', 'us', 'ap']);
    assert.throws(() => failoverOrder(['us'], 3), RangeError);
  });

  it('maps every claimed steering region and country to its nearest pool', () => {
    const maps = geoMaps(regions, ['p-us', 'p-eu', 'p-ap']);
    assert.deepEqual(maps.regionPools, {
      ENAM: ['p-us', 'p-eu', 'p-ap'],
      WNAM: ['p-us', 'p-eu', 'p-ap'],
      WEU: ['p-eu', 'p-us', 'p-ap'],
      SEAS: ['p-ap', 'p-us', 'p-eu'],
    });
    assert.deepEqual(maps.countryPools, { DE: ['p-eu', 'p-us', 'p-ap'] });
    assert.throws(() => geoMaps(regions, ['p-us']), /3 regions but 1 pools/);
  });

  it('falls back to the configured region, else the primary, else the first', () => {
    assert.equal(fallbackIndex(regions, [false, false, true], 'eu-west-1'), 1);
    assert.equal(fallbackIndex(regions, [false, false, true]), 2);
    assert.equal(fallbackIndex(regions, [false, false, false]), 0);
    assert.throws(() => fallbackIndex(regions, [], 'sa-east-1'), /not one of the configured regions/);
  });

  it('weights pools by config, else by what the stack reports', () => {
    assert.deepEqual(poolWeights(['a', 'b'], [0.2, undefined], [1, 0.5]), { a: 0.2, b: 0.5 });
    assert.throws(() => poolWeights(['a'], [undefined], [3]), /outside 0\.\.1/);
  });

  describe('regional stack checks', () => {
    const expected = { region: 'eu-west-1', environment: 'prod', domain: 'example.com', mcpHostname: 'mcp.example.com' };
    const ok = {
      region: 'eu-west-1',
      environment: 'prod',
      ingressHostname: 'alb-1.eu-west-1.elb.amazonaws.com',
      healthPath: '/readyz',
      healthUrl: 'https://eu.mcp.example.com/readyz',
    };
    const stack = 'acme/p/prod-eu-west-1';

    it('accepts a matching stack and reads its public hostname from healthUrl', () => {
      assert.deepEqual(regionalMismatches(stack, expected, ok), []);
      assert.equal(regionalHostname(ok.healthUrl), 'eu.mcp.example.com');
      assert.equal(regionalHostname('http://eu.mcp.example.com/readyz'), undefined);
      assert.equal(regionalHostname('not a url'), undefined);
    });

    it('reports wrong region, environment, paths and URLs, naming the stack', () => {
      const problems = regionalMismatches(stack, expected, {
        region: 'eu-central-1',
        environment: 'staging',
        ingressHostname: 'https://alb',
        healthPath: 'readyz',
        healthUrl: 'eu.mcp.example.com',
      });
      assert.equal(problems.length, 5);
      for (const p of problems) assert.match(p, /stack "acme\/p\/prod-eu-west-1"/);
      assert.match(problems[0]!, /region "eu-central-1" but config lists it as "eu-west-1"/);
      assert.match(problems[1]!, /environment "staging"/);
    });

    it('cross-checks the optional regionalHostname output and explains an empty ingressHostname', () => {
      assert.deepEqual(regionalMismatches(stack, expected, { ...ok, regionalHostname: 'eu.mcp.example.com' }), []);
      assert.match(
        regionalMismatches(stack, expected, { ...ok, regionalHostname: 'eu2.mcp.example.com' })[0]!,
        /regionalHostname "eu2.mcp.example.com" but healthUrl names "eu.mcp.example.com"/,
      );
      assert.match(regionalMismatches(stack, expected, { ...ok, ingressHostname: '' })[0]!, /no load-balancer address yet/);
    });

    it('refuses hostnames that would loop through Cloudflare or collide', () => {
      const loop = regionalMismatches(stack, expected, { ...ok, ingressHostname: 'eu.mcp.example.com' });
      assert.equal(loop.length, 1);
      assert.match(loop[0]!, /proxy to itself/);
      assert.match(regionalMismatches(stack, expected, { ...ok, healthUrl: 'https://mcp.example.com/readyz' })[0]!, /equal to the global MCP hostname/);
      assert.match(regionalMismatches(stack, expected, { ...ok, healthUrl: 'https://eu.example.org/readyz' })[0]!, /outside the zone "example.com"/);
    });
  });
});
