/**
 * The edge half of origin access: a request header transform rule (phase `http_request_late_transform`)
 * that sets every region's secret origin header on each request to the MCP hostname and the pinned
 * regional hostnames. The load balancer picks the pool after this phase, so every region's header is set
 * and each ALB checks only its own (infra/global/origin-access.ts). `set` overwrites any value a client
 * sends. Leaves out: the ALB side (infra/regional/origin-access.ts) and the health monitors (region-pool.ts).
 */
import * as cloudflare from '@pulumi/cloudflare';
import * as pulumi from '@pulumi/pulumi';
import { quote } from './expressions.js';
import type { OriginAuth } from './origin-access.js';

export interface OriginAuthArgs {
  readonly zoneId: pulumi.Input<string>;
  /** Hostnames the edge proxies to the regional origins (the MCP hostname, the pinned regional ones). */
  readonly hostnames: pulumi.Input<string>[];
  /** Each region's header (regional output `originAuth`); regions without one are left out. */
  readonly origins: pulumi.Input<OriginAuth | undefined>[];
}

/** The rule set's rules: one rule setting every known origin header on requests to the proxied hostnames. */
export function originAuthRules(hostnames: readonly string[], origins: readonly (OriginAuth | undefined)[]): cloudflare.types.input.RulesetRule[] {
  const known = origins.filter((o): o is OriginAuth => o !== undefined);
  if (known.length === 0) return [];
  return [
    {
      ref: 'origin_auth_headers',
      description: 'Secret origin headers: each regional ALB routes only requests that carry its own',
      expression: `http.host in {${[...new Set(hostnames)].sort().map(quote).join(' ')}}`,
      action: 'rewrite',
      actionParameters: { headers: Object.fromEntries(known.map((o) => [o.header, { operation: 'set', value: o.value }])) },
      enabled: true,
    },
  ];
}

/** The zone's late request transform ruleset with the origin headers (`unified-mcp:global:OriginAuth`). */
export class OriginAuthHeaders extends pulumi.ComponentResource {
  /** Ruleset id. */
  readonly rulesetId: pulumi.Output<string>;

  constructor(name: string, args: OriginAuthArgs, opts?: pulumi.ComponentResourceOptions) {
    super('unified-mcp:global:OriginAuth', name, {}, opts);
    const rules = pulumi.all([pulumi.all(args.hostnames), pulumi.all(args.origins)]).apply(([hosts, origins]) => originAuthRules(hosts, origins));
    const ruleset = new cloudflare.Ruleset(
      `${name}-transform`,
      {
        zoneId: args.zoneId,
        kind: 'zone',
        phase: 'http_request_late_transform',
        name: 'unified-mcp origin headers',
        description: 'Adds the secret header each regional origin requires (origin reachable only from the edge)',
        // The rules carry the secrets: keep them encrypted in the state.
        rules: pulumi.secret(rules),
      },
      { parent: this },
    );
    this.rulesetId = ruleset.id;
    this.registerOutputs({ rulesetId: this.rulesetId });
  }
}
