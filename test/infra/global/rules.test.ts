import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { HTTP } from '../../../contract/index.js';
import { cacheRules, EDGE_BYPASS_PATHS } from '../../../infra/global/cache-rules.js';
import { parseGlobalConfig, type GlobalConfigInput } from '../../../infra/global/config.js';
import { and, hasHeader, headerIn, integerAbovePattern, not, pathUnder, quote } from '../../../infra/global/expressions.js';
import {
  firewallRules,
  HEADER_MISMATCH_CODE,
  IP_CHARACTERISTICS,
  KEY_CHARACTERISTICS,
  NAMED_METHODS,
  oversizedBodyExpression,
  rateLimitRules,
} from '../../../infra/global/protection-rules.js';
import { configFor } from './harness.js';

const cfgWith = (overrides: Partial<GlobalConfigInput> = {}) => parseGlobalConfig(configFor(['us-east-1', 'eu-west-1'], overrides) as Record<string, unknown>);
const byRef = <T extends { ref?: unknown }>(rules: T[], ref: string): T => {
  const rule = rules.find((r) => r.ref === ref);
  assert.ok(rule, `no rule with ref ${ref}; have ${rules.map((r) => String(r.ref)).join(', ')}`);
  return rule;
};

describe('edge rule builders', () => {
  describe('expressions', () => {
    it('quotes backslashes and double quotes', () => {
      assert.equal(quote('a"b\\c'), '"a\\"b\\\\c"');
    });

    it('matches a path and what is below it, not a longer sibling', () => {
      assert.equal(pathUnder('/mcp/'), '(http.request.uri.path eq "/mcp" or starts_with(http.request.uri.path, "/mcp/"))');
    });

    it('tests header presence on lower-cased names and values on lower-cased keys', () => {
      assert.equal(hasHeader('Mcp-Method'), 'any(lower(http.request.headers.names[*])[*] eq "mcp-method")');
      assert.equal(headerIn('Mcp-Method', ['tools/call', 'prompts/get']), 'any(http.request.headers["mcp-method"][*] in {"tools/call" "prompts/get"})');
      assert.throws(() => headerIn('x', []), /at least one value/);
    });

    it('parenthesises or-parts inside and, and negates as a whole', () => {
      assert.equal(and('a or b', 'c'), '(a or b) and c');
      assert.equal(and('(a or b)', 'c'), '(a or b) and c');
      assert.equal(and('(a) or (b)', 'c'), '((a) or (b)) and c');
      assert.equal(and('(x eq ")(" or y)', 'c'), '(x eq ")(" or y) and c');
      assert.equal(not('a and b'), 'not (a and b)');
    });

    it('builds a pattern matching exactly the integers above a limit', () => {
      for (const limit of [0, 7, 9, 10, 99, 1000, 1_048_576]) {
        const re = new RegExp(integerAbovePattern(limit));
        for (const n of [0, 1, limit - 1, limit, limit + 1, limit * 10, limit + 100, 99_999_999]) {
          if (n < 0) continue;
          assert.equal(re.test(String(n)), n > limit, `limit ${limit}, value ${n}`);
        }
        assert.equal(re.test(`000${limit + 1}`), true, 'leading zeros');
        assert.equal(re.test('12a'), false);
      }
      assert.throws(() => integerAbovePattern(-1), RangeError);
    });
  });

  describe('cache rules', () => {
    const rules = cacheRules({ assetsEdgeTtlSeconds: 31_536_000 });
    const bypass = byRef(rules, 'bypass_dynamic');

    it('bypasses the cache for every MCP path', () => {
      for (const path of ['/mcp', '/admin', '/metrics', '/.well-known', HTTP.readinessPath, HTTP.livenessPath]) {
        assert.ok(EDGE_BYPASS_PATHS.includes(path), `${path} in bypass list`);
        assert.ok(String(bypass.expression).includes(`http.request.uri.path eq "${path}"`), `${path} in expression`);
        assert.ok(String(bypass.expression).includes(`starts_with(http.request.uri.path, "${path}/")`), `${path}/ in expression`);
      }
      assert.equal(bypass.action, 'set_cache_settings');
      assert.deepEqual(bypass.actionParameters, { cache: false });
    });

    it('derives the admin and well-known prefixes from the shared contract', () => {
      assert.ok(HTTP.adminPrefix.startsWith('/admin/'));
      assert.ok(HTTP.protectedResourceMetadataPath.startsWith('/.well-known/'));
    });

    it('caches /assets/* at the edge for a year and lets browsers follow the origin', () => {
      const assets = byRef(rules, 'cache_versioned_assets');
      assert.equal(assets.expression, pathUnder('/assets'));
      assert.deepEqual(assets.actionParameters, {
        cache: true,
        edgeTtl: { mode: 'override_origin', default: 31_536_000 },
        browserTtl: { mode: 'respect_origin' },
      });
    });
  });

  describe('rate limits', () => {
    const cfg = cfgWith();
    const rules = rateLimitRules(cfg);

    it('has a key-keyed and an IP-keyed rule per budget', () => {
      assert.deepEqual(
        rules.map((r) => r.ref),
        [
          'rl_method_tools_call_key',
          'rl_method_tools_call_ip',
          'rl_other_methods_key',
          'rl_other_methods_ip',
          'rl_unrouted_key',
          'rl_unrouted_ip',
          'rl_ip_ceiling',
        ],
      );
      for (const r of rules) {
        const rl = r.ratelimit as { characteristics: string[]; period: number; mitigationTimeout: number };
        assert.deepEqual(rl.characteristics, String(r.ref).endsWith('_key') ? KEY_CHARACTERISTICS : IP_CHARACTERISTICS, String(r.ref));
        assert.equal(rl.period, 60);
        assert.equal(rl.mitigationTimeout, 60);
        assert.equal(r.action, 'block');
        assert.equal((r.actionParameters as any).response.statusCode, 429);
      }
      assert.deepEqual(KEY_CHARACTERISTICS, ['cf.colo.id', 'http.request.headers["authorization"]']);
      assert.deepEqual(IP_CHARACTERISTICS, ['cf.colo.id', 'ip.src']);
    });

    it('keys on the Authorization header only when present, else on the IP', () => {
      const key = byRef(rules, 'rl_method_tools_call_key');
      const ip = byRef(rules, 'rl_method_tools_call_ip');
      assert.ok(String(key.expression).endsWith(`and ${hasHeader('authorization')}`));
      assert.ok(String(ip.expression).endsWith(`and not (${hasHeader('authorization')})`));
    });

    it('budgets tools/call tighter than other methods, on the Mcp-Method header', () => {
      const tools = byRef(rules, 'rl_method_tools_call_key');
      const other = byRef(rules, 'rl_other_methods_key');
      assert.ok(String(tools.expression).includes(headerIn('mcp-method', ['tools/call'])));
      assert.ok(String(other.expression).includes(`not (${headerIn('mcp-method', ['tools/call'])})`));
      assert.ok((tools.ratelimit as any).requestsPerPeriod < (other.ratelimit as any).requestsPerPeriod);
      assert.ok(
        (byRef(rules, 'rl_method_tools_call_ip').ratelimit as any).requestsPerPeriod < (byRef(rules, 'rl_other_methods_ip').ratelimit as any).requestsPerPeriod,
      );
    });

    it('gives 2025-era requests without Mcp-Method their own budget', () => {
      const legacy = byRef(rules, 'rl_unrouted_key');
      assert.ok(String(legacy.expression).includes(`not (${hasHeader('mcp-method')})`));
      assert.equal((legacy.ratelimit as any).requestsPerPeriod, cfg.rateLimits.legacy.perKey);
    });

    it('caps every MCP request per IP whatever the key, so invented tokens do not multiply budgets', () => {
      const ceiling = byRef(rules, 'rl_ip_ceiling');
      assert.equal(ceiling.expression, pathUnder('/mcp'));
      assert.deepEqual((ceiling.ratelimit as any).characteristics, IP_CHARACTERISTICS);
      assert.equal((ceiling.ratelimit as any).requestsPerPeriod, 3000);
    });

    it('adds a budget per configured method', () => {
      const more = rateLimitRules(
        cfgWith({ rateLimits: { methods: { 'tools/call': { perKey: 10, perIp: 2 }, 'resources/read': { perKey: 50, perIp: 10 } } } }),
      );
      assert.equal(more.length, 9);
      assert.ok(String(byRef(more, 'rl_other_methods_key').expression).includes('{"resources/read" "tools/call"}'));
      assert.equal((byRef(more, 'rl_method_resources_read_ip').ratelimit as any).requestsPerPeriod, 10);
    });
  });

  describe('WAF custom rules', () => {
    it('refuses oversized bodies to /mcp with 413', () => {
      const rule = byRef(firewallRules(cfgWith({ maxBodyBytes: 2_000_000 })), 'refuse_oversized_body');
      assert.equal(rule.expression, `${pathUnder('/mcp')} and http.request.body.size gt 2000000`);
      assert.equal(rule.action, 'block');
      const response = (rule.actionParameters as any).response;
      assert.equal(response.statusCode, 413);
      assert.equal(JSON.parse(response.content).error.code, -32600);
    });

    it('can measure the body by Content-Length instead', () => {
      const expr = oversizedBodyExpression({ maxBodyBytes: 1000, bodySizeSource: 'content-length' });
      assert.ok(expr.includes('any(http.request.headers["content-length"][*] matches "^0*('));
      assert.ok(expr.startsWith(pathUnder('/mcp')));
    });

    it('requires Mcp-Method from 2026-07-28 clients and Mcp-Name on named methods', () => {
      const rules = firewallRules(cfgWith());
      const method = byRef(rules, 'require_mcp_method');
      assert.ok(String(method.expression).includes(headerIn('mcp-protocol-version', ['2026-07-28'])));
      assert.ok(String(method.expression).includes(`not (${hasHeader('mcp-method')})`));
      const name = byRef(rules, 'require_mcp_name');
      assert.ok(String(name.expression).includes(headerIn('mcp-method', NAMED_METHODS)));
      assert.ok(String(name.expression).includes(`not (${hasHeader('mcp-name')})`));
      for (const r of [method, name]) {
        const response = (r.actionParameters as any).response;
        assert.equal(response.statusCode, 400);
        assert.equal(JSON.parse(response.content).error.code, HEADER_MISMATCH_CODE);
      }
    });

    it('lets 2025-era requests through: no rule blocks on a missing header unless a 2026 version is declared', () => {
      for (const r of firewallRules(cfgWith())) {
        if (String(r.expression).includes(`not (${hasHeader('mcp-method')})`)) {
          assert.ok(String(r.expression).includes('mcp-protocol-version'), `${String(r.ref)} must be scoped to 2026-era requests`);
        }
      }
    });

    it('hides /metrics unless configured otherwise, and limits HTTP methods', () => {
      assert.ok(firewallRules(cfgWith()).some((r) => r.ref === 'hide_metrics'));
      assert.ok(!firewallRules(cfgWith({ blockMetricsAtEdge: false })).some((r) => r.ref === 'hide_metrics'));
      const methods = byRef(firewallRules(cfgWith()), 'allowed_http_methods');
      assert.ok(String(methods.expression).includes('not (http.request.method in {"GET" "POST" "DELETE" "OPTIONS"})'));
    });

    it('restricts /admin to the allowed networks only when some are configured', () => {
      assert.ok(!firewallRules(cfgWith()).some((r) => r.ref === 'admin_from_allowed_networks'));
      const rule = byRef(firewallRules(cfgWith({ adminAllowedCidrs: ['203.0.113.0/24', '2001:db8::1'] })), 'admin_from_allowed_networks');
      assert.equal(rule.expression, `${pathUnder('/admin')} and not (ip.src in {203.0.113.0/24 2001:db8::1})`);
      assert.equal((rule.actionParameters as any).response.statusCode, 403);
    });

    it('keeps every expression under the 4096-character limit', () => {
      const cfg = cfgWith();
      for (const r of [...firewallRules(cfg), ...rateLimitRules(cfg), ...cacheRules({ assetsEdgeTtlSeconds: 60 })]) {
        assert.ok(String(r.expression).length < 4096, `${String(r.ref)} is ${String(r.expression).length} characters`);
      }
    });
  });
});
