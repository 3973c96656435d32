import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { GlobalConfigError, globalConfigSchema, parseGlobalConfig } from '../../../infra/global/config.js';
import { configFor } from './harness.js';

/** Parses and returns the failing keys (empty when valid). */
function failingKeys(raw: Record<string, unknown>): string[] {
  try {
    parseGlobalConfig(raw, 'acme/unified-mcp/prod-global');
    return [];
  } catch (err) {
    assert.ok(err instanceof GlobalConfigError, `expected GlobalConfigError, got ${String(err)}`);
    assert.match(err.message, /stack "acme\/unified-mcp\/prod-global"/);
    return err.issues.map((i) => i.key);
  }
}

describe('global config', () => {
  describe('valid input', () => {
    it('resolves defaults for everything optional', () => {
      const cfg = parseGlobalConfig(configFor(['us-east-1', 'eu-west-1']) as Record<string, unknown>);
      assert.equal(cfg.latencySteering, false);
      assert.deepEqual(cfg.sessionAffinity, { enabled: true, ttlSeconds: 1800 });
      assert.equal(cfg.monitor.intervalSeconds, 60);
      assert.equal(cfg.monitor.expectedCodes, '200');
      assert.deepEqual(cfg.rateLimits.methods, { 'tools/call': { perKey: 120, perIp: 30 } });
      assert.ok(cfg.rateLimits.methods['tools/call']!.perKey < cfg.rateLimits.otherMethods.perKey);
      assert.equal(cfg.maxBodyBytes, 1_048_576);
      assert.equal(cfg.minTlsVersion, '1.2');
      assert.equal(cfg.hsts.maxAgeSeconds, 31_536_000);
      assert.equal(cfg.assetsEdgeTtlSeconds, 31_536_000);
      assert.deepEqual(cfg.routingHeaderVersions, ['2026-07-28']);
      assert.equal(cfg.originHost, 'regional');
    });

    it('accepts the raw strings of pulumi.runtime.allConfig() and namespaced keys', () => {
      const base = configFor(['us-east-1']);
      const raw: Record<string, unknown> = {
        'unified-mcp:role': 'global',
        'unified-mcp:environment': 'prod',
        'unified-mcp:accountId': base.accountId,
        'unified-mcp:zoneId': base.zoneId,
        'unified-mcp:domain': 'example.com',
        'unified-mcp:mcpHostname': 'mcp.example.com',
        'unified-mcp:regions': JSON.stringify(base.regions),
        'unified-mcp:latencySteering': 'true',
        'unified-mcp:maxBodyBytes': '2097152',
        'unified-mcp:notificationEmails': 'oncall@example.com',
        'unified-mcp:rateLimits': '{"periodSeconds": 10, "methods": {"tools/call": {"perKey": 20, "perIp": 5}}}',
        'unified-mcp:minTlsVersion': 1.3, // what JSON-decoding "1.3" yields
        'cloudflare:apiToken': 'ignored: another namespace',
      };
      const cfg = parseGlobalConfig(raw);
      assert.equal(cfg.latencySteering, true);
      assert.equal(cfg.maxBodyBytes, 2_097_152);
      assert.deepEqual(cfg.notificationEmails, ['oncall@example.com']);
      assert.equal(cfg.rateLimits.periodSeconds, 10);
      assert.equal(cfg.minTlsVersion, '1.3');
      assert.equal(cfg.regions[0]!.region, 'us-east-1');
    });

    it('is exported as a zod schema C can parse with directly', () => {
      assert.equal(globalConfigSchema.safeParse(configFor(['us-east-1'])).success, true);
    });
  });

  describe('errors name the key', () => {
    it('a missing required key', () => {
      const { zoneId: _omit, ...rest } = configFor(['us-east-1']);
      assert.deepEqual(failingKeys(rest), ['unified-mcp:zoneId']);
    });

    it('an unknown key (typo)', () => {
      assert.deepEqual(failingKeys({ ...configFor(['us-east-1']), latencySteerin: true }), ['unified-mcp:latencySteerin']);
    });

    it('a bad steering region code, with its index', () => {
      const cfg = configFor(['us-east-1', 'eu-west-1']);
      (cfg.regions as any)[1].geoRegions = ['WEU', 'EUROPE'];
      assert.deepEqual(failingKeys(cfg), ['unified-mcp:regions[1].geoRegions[1]']);
    });

    it('a steering region claimed by two regions', () => {
      const cfg = configFor(['us-east-1', 'eu-west-1']);
      (cfg.regions as any)[1].geoRegions = ['WEU', 'ENAM'];
      assert.deepEqual(failingKeys(cfg), ['unified-mcp:regions[1].geoRegions[1]']);
    });

    it('a region listed twice', () => {
      const cfg = configFor(['us-east-1', 'eu-west-1']);
      (cfg.regions as any)[1] = { ...(cfg.regions as any)[0], stack: 'acme/unified-mcp/other', geoRegions: ['WEU'] };
      assert.deepEqual(failingKeys(cfg), ['unified-mcp:regions[1].region']);
    });

    it('an MCP hostname outside the zone', () => {
      assert.deepEqual(failingKeys({ ...configFor(['us-east-1']), mcpHostname: 'mcp.example.org' }), ['unified-mcp:mcpHostname']);
    });

    it('a fallback region that is not configured', () => {
      assert.deepEqual(failingKeys({ ...configFor(['us-east-1']), fallbackRegion: 'eu-west-1' }), ['unified-mcp:fallbackRegion']);
    });

    it('nested values: monitor retries, rate-limit period, affinity TTL', () => {
      const keys = failingKeys({
        ...configFor(['us-east-1']),
        monitor: { retries: 9 },
        rateLimits: { periodSeconds: 7 },
        sessionAffinity: { ttlSeconds: 5 },
      });
      assert.deepEqual(keys.sort(), ['unified-mcp:monitor.retries', 'unified-mcp:rateLimits.periodSeconds', 'unified-mcp:sessionAffinity.ttlSeconds']);
    });

    it('an empty region list and a bad email', () => {
      const keys = failingKeys({ ...configFor(['us-east-1']), regions: [], notificationEmails: ['not-an-email'] });
      assert.deepEqual(keys.sort(), ['unified-mcp:notificationEmails[0]', 'unified-mcp:regions']);
    });

    it('an admin network that is not an IP or CIDR', () => {
      assert.deepEqual(failingKeys({ ...configFor(['us-east-1']), adminAllowedCidrs: ['10.0.0.0/8', '10.0.0.0/33', 'office'] }), [
        'unified-mcp:adminAllowedCidrs[1]',
        'unified-mcp:adminAllowedCidrs[2]',
      ]);
      assert.deepEqual(failingKeys({ ...configFor(['us-east-1']), adminAllowedCidrs: ['2001:db8::/32', '192.0.2.7'] }), []);
    });

    it('a role other than global', () => {
      assert.deepEqual(failingKeys({ ...configFor(['us-east-1']), role: 'regional' }), ['unified-mcp:role']);
    });
  });
});
