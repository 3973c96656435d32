import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { failoverOrder, fallbackIndex, geoMaps, poolWeights, regionalMismatches } from '../../../infra/global/steering.js';

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

  it('reports regional stacks that do not match the config, naming the stack', () => {
    const ok = { region: 'eu-west-1', environment: 'prod', ingressHostname: 'alb.example.net', healthPath: '/readyz' };
    assert.deepEqual(regionalMismatches('acme/p/prod-eu-west-1', { region: 'eu-west-1', environment: 'prod' }, ok), []);
    const problems = regionalMismatches('acme/p/prod-eu-west-1', { region: 'eu-west-1', environment: 'prod' }, {
      region: 'eu-central-1', environment: 'staging', ingressHostname: 'https://alb', healthPath: 'readyz',
    });
    assert.equal(problems.length, 4);
    for (const p of problems) assert.match(p, /stack "acme\/p\/prod-eu-west-1"/);
    assert.match(problems[0]!, /region "eu-central-1" but config lists it as "eu-west-1"/);
  });
});
