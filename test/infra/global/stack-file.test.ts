import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'mocha';
import { parse } from 'yaml';
import { parseGlobalConfig } from '../../../infra/global/config.js';
import { regionalOutputsForMocks } from '../../../infra/global/mock-regional-outputs.js';
import { regionalMismatches, type RegionalFacts } from '../../../infra/global/steering.js';
import { regionalOutputs, runUnderMocks, T } from './harness.js';

const STACKS_DIR = 'stacks';
const readConfig = (stack: string): Record<string, unknown> =>
  (parse(readFileSync(`${STACKS_DIR}/Pulumi.${stack}.yaml`, 'utf8')) as { config: Record<string, unknown> }).config;

describe('stacks/Pulumi.prod-global.yaml', function () {
  this.timeout(20_000);
  const raw = readConfig('prod-global');
  const cfg = parseGlobalConfig(raw, 'prod-global');

  it('validates with the global schema and keeps the API token out of the file', () => {
    assert.equal(cfg.role, 'global');
    assert.equal(raw['cloudflare:apiToken'], undefined);
    assert.ok(cfg.regions.length >= 2, 'a global edge across at least two regions');
  });

  it('lists regional stacks that exist, in the same environment and region', () => {
    for (const r of cfg.regions) {
      const stack = r.stack.split('/').pop()!;
      assert.ok(existsSync(`${STACKS_DIR}/Pulumi.${stack}.yaml`), `stacks/Pulumi.${stack}.yaml exists`);
      const regional = readConfig(stack);
      assert.equal(regional['unified-mcp:role'], 'regional');
      assert.equal(regional['unified-mcp:environment'], cfg.environment, `${stack} environment`);
      assert.equal(regional['unified-mcp:region'], r.region, `${stack} region`);
      const hostname = (regional['unified-mcp:app'] as { hostname: string }).hostname;
      assert.ok(hostname.endsWith(`.${cfg.domain}`) && hostname !== cfg.mcpHostname, `${stack} hostname ${hostname} is its own name inside the zone`);
    }
  });

  it('gives the mock runner regional outputs that pass the global checks', () => {
    for (const r of cfg.regions) {
      const outputs = regionalOutputsForMocks(r.stack) as unknown as RegionalFacts;
      assert.deepEqual(regionalMismatches(r.stack, { ...r, environment: cfg.environment, domain: cfg.domain, mcpHostname: cfg.mcpHostname }, outputs), []);
    }
    assert.throws(
      () => regionalOutputsForMocks('acme/unified-mcp/prod-nowhere-1'),
      /StackReference "acme\/unified-mcp\/prod-nowhere-1": no .*Pulumi\.prod-nowhere-1\.yaml/,
    );
  });

  it('runs under mocks with regional outputs shaped like those stacks', async () => {
    const regional = Object.fromEntries(
      cfg.regions.map((r) => {
        const file = readConfig(r.stack.split('/').pop()!);
        const hostname = (file['unified-mcp:app'] as { hostname: string }).hostname;
        return [r.stack, regionalOutputs(r.region, { healthUrl: `https://${hostname}/readyz`, isPrimary: file['unified-mcp:isPrimary'] === true })];
      }),
    );
    const run = await runUnderMocks(raw, regional);
    assert.equal(run.ofType(T.pool).length, cfg.regions.length);
    assert.equal(run.outputs.fallbackRegion, cfg.regions.find((r) => readConfig(r.stack.split('/').pop()!)['unified-mcp:isPrimary'] === true)?.region);
  });
});
