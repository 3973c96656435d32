/**
 * Edge protection for the MCP endpoint: the zone's rate-limiting ruleset (per `Mcp-Method` budgets keyed
 * on the API key or the client IP, a separate one for 2025-era requests) and its custom WAF ruleset
 * (oversized bodies, missing routing headers, wrong methods, /metrics). Rules are built as data in
 * protection-rules.ts. Plan note: header-keyed counting and `http.request.body.size` need Enterprise
 * (Advanced Rate Limiting, body-size add-on); `bodySizeSource: content-length` avoids the latter.
 */
import * as cloudflare from '@pulumi/cloudflare';
import * as pulumi from '@pulumi/pulumi';
import type { GlobalConfig } from './config.js';
import { firewallRules, rateLimitRules } from './protection-rules.js';

export interface EdgeProtectionArgs {
  /** Cloudflare zone of the MCP hostname. */
  readonly zoneId: pulumi.Input<string>;
  /** Validated global config: rate limits, body limit, routing-header versions, /metrics blocking. */
  readonly config: GlobalConfig;
}

/** Rate-limit and custom WAF rulesets of the zone (`unified-mcp:global:EdgeProtection`). */
export class EdgeProtection extends pulumi.ComponentResource {
  /** Id of the rate-limiting entry-point ruleset. */
  readonly rateLimitRulesetId: pulumi.Output<string>;
  /** Id of the custom WAF entry-point ruleset. */
  readonly firewallRulesetId: pulumi.Output<string>;

  constructor(name: string, args: EdgeProtectionArgs, opts?: pulumi.ComponentResourceOptions) {
    super('unified-mcp:global:EdgeProtection', name, {}, opts);
    const parent = this;
    const rateLimits = new cloudflare.Ruleset(
      `${name}-rate-limits`,
      {
        zoneId: args.zoneId,
        kind: 'zone',
        phase: 'http_ratelimit',
        name: 'unified-mcp rate limits',
        description: 'Per Mcp-Method budgets (tight tools/call), per API key or client IP',
        rules: rateLimitRules(args.config),
      },
      { parent },
    );
    const firewall = new cloudflare.Ruleset(
      `${name}-waf-custom`,
      {
        zoneId: args.zoneId,
        kind: 'zone',
        phase: 'http_request_firewall_custom',
        name: 'unified-mcp custom WAF rules',
        description: 'Body size, routing headers, methods and /metrics on the MCP endpoint',
        rules: firewallRules(args.config),
      },
      { parent },
    );
    this.rateLimitRulesetId = rateLimits.id;
    this.firewallRulesetId = firewall.id;
    this.registerOutputs({ rateLimitRulesetId: this.rateLimitRulesetId, firewallRulesetId: this.firewallRulesetId });
  }
}
