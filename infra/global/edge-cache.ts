/**
 * CDN behaviour of the zone: the cache-settings entry-point ruleset (dynamic MCP paths bypass the cache,
 * versioned /assets/* are cached a year at the edge) and tiered caching (Argo tiered caching plus smart
 * topology), so a miss in one data center is filled from an upper tier instead of the regional origin.
 * Leaves out: TLS and HSTS (zone-tls.ts), security rules (edge-protection.ts).
 */
import * as cloudflare from '@pulumi/cloudflare';
import * as pulumi from '@pulumi/pulumi';
import { cacheRules } from './cache-rules.js';

export interface EdgeCacheArgs {
  /** Cloudflare zone of the MCP hostname. */
  readonly zoneId: pulumi.Input<string>;
  /** Edge TTL of /assets/*, seconds. @defaultValue 31536000 */
  readonly assetsEdgeTtlSeconds?: number;
  /** Enable tiered caching. @defaultValue true */
  readonly tieredCaching?: boolean;
}

/** Cache rules and tiered caching of the zone (`unified-mcp:global:EdgeCache`). */
export class EdgeCache extends pulumi.ComponentResource {
  /** Id of the cache-settings entry-point ruleset. */
  readonly cacheRulesetId: pulumi.Output<string>;

  constructor(name: string, args: EdgeCacheArgs, opts?: pulumi.ComponentResourceOptions) {
    super('unified-mcp:global:EdgeCache', name, {}, opts);
    const parent = this;
    const ttl = args.assetsEdgeTtlSeconds ?? 31_536_000;
    if (!Number.isInteger(ttl) || ttl <= 0) {
      throw new pulumi.ResourceError(`EdgeCache: assetsEdgeTtlSeconds must be a positive integer, got ${ttl}`, this);
    }

    // A zone has one entry-point ruleset per phase; this program owns the cache-settings one.
    const ruleset = new cloudflare.Ruleset(
      `${name}-cache-rules`,
      {
        zoneId: args.zoneId,
        kind: 'zone',
        phase: 'http_request_cache_settings',
        name: 'unified-mcp cache rules',
        description: 'Bypass dynamic MCP paths; cache versioned assets for a year',
        rules: cacheRules({ assetsEdgeTtlSeconds: ttl }),
      },
      { parent },
    );

    if (args.tieredCaching ?? true) {
      const tiered = new cloudflare.ArgoTieredCaching(`${name}-tiered-caching`, { zoneId: args.zoneId, value: 'on' }, { parent });
      // Smart topology picks the upper tier closest to the origin; it builds on tiered caching being on.
      new cloudflare.TieredCache(`${name}-smart-topology`, { zoneId: args.zoneId, value: 'on' }, { parent, dependsOn: [tiered] });
    }

    this.cacheRulesetId = ruleset.id;
    this.registerOutputs({ cacheRulesetId: this.cacheRulesetId });
  }
}
