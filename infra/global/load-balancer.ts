/**
 * The global load balancer for the MCP hostname plus one pinned hostname per region (the regional
 * stack's own public name, e.g. `us.mcp.example.com`), and the notifications on pool health. Geo steering sends each Cloudflare region's clients to the nearest
 * pool, then to the others in order; dynamic latency steering is a config switch. A proxied load
 * balancer is itself the DNS record of its name (Cloudflare answers with its anycast addresses), so no
 * separate DNS record is created for these hostnames.
 * Leaves out: monitors and pools (region-pool.ts), cache and security rules.
 */
import * as cloudflare from '@pulumi/cloudflare';
import * as pulumi from '@pulumi/pulumi';
import type { GlobalConfig, GlobalRegionConfig } from './config.js';
import type { RegionPool } from './region-pool.js';
import { fallbackIndex, geoMaps, poolWeights } from './steering.js';

/** The header the service uses for sessions; affinity on it only saves a Redis round trip. */
export const SESSION_HEADER = 'Mcp-Session-Id';

export interface LoadBalancedRegion {
  /** The region's entry from config (geo codes, countries, weight). */
  readonly config: GlobalRegionConfig;
  /** Its monitor and pool. */
  readonly pool: RegionPool;
}

export interface GlobalLoadBalancerArgs {
  /** Cloudflare account (notification policies are account-level). */
  readonly accountId: pulumi.Input<string>;
  /** Zone the load balancers answer in. */
  readonly zoneId: pulumi.Input<string>;
  /** Public MCP hostname the load balancer answers for. */
  readonly mcpHostname: string;
  /** Regions in config order (the default-pool order). At least one. */
  readonly regions: readonly LoadBalancedRegion[];
  /** `dynamic_latency` instead of `geo` steering. @defaultValue false */
  readonly latencySteering?: boolean;
  /** Fallback region; default: the primary (see steering.fallbackIndex). */
  readonly fallbackRegion?: string;
  /** Header affinity on Mcp-Session-Id. */
  readonly sessionAffinity: GlobalConfig['sessionAffinity'];
  /** Recipients of pool health and enablement notifications. */
  readonly notificationEmails: readonly string[];
  /** Environment name, used in notification names. */
  readonly environment: string;
}

/** The MCP hostname's load balancer, the pinned regional ones and pool notifications (`unified-mcp:global:GlobalLoadBalancer`). */
export class GlobalLoadBalancer extends pulumi.ComponentResource {
  /** Id of the MCP hostname's load balancer. */
  readonly loadBalancerId: pulumi.Output<string>;
  /** `geo` or `dynamic_latency`. */
  readonly steeringPolicy: string;
  /** Pool used when every pool is unhealthy. */
  readonly fallbackPoolId: pulumi.Output<string>;
  /** AWS region of the fallback pool. */
  readonly fallbackRegion: pulumi.Output<string>;
  /** Pinned hostname per AWS region, e.g. `{ "us-east-1": "us.mcp.example.com" }` (from the regional stacks). */
  readonly regionalHostnames: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: GlobalLoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
    super('unified-mcp:global:GlobalLoadBalancer', name, {}, opts);
    if (args.regions.length === 0) {
      throw new pulumi.ResourceError('GlobalLoadBalancer needs at least one region (config unified-mcp:regions)', this);
    }
    const parent = this;
    const poolIds = pulumi.all(args.regions.map((r) => r.pool.poolId));
    const fallbackAt = pulumi.all(args.regions.map((r) => r.pool.isPrimary)).apply((primary) =>
      fallbackIndex(
        args.regions.map((r) => r.config),
        primary,
        args.fallbackRegion,
      ),
    );
    const fallback = pulumi.all([poolIds, fallbackAt]).apply(([ids, i]) => ids[i]!);
    const maps = poolIds.apply((ids) =>
      geoMaps(
        args.regions.map((r) => r.config),
        ids,
      ),
    );
    const weights = pulumi.all([poolIds, pulumi.all(args.regions.map((r) => r.pool.steeringWeight))]).apply(([ids, reported]) =>
      poolWeights(
        ids,
        args.regions.map((r) => r.config.weight),
        reported,
      ),
    );

    const affinity = args.sessionAffinity.enabled
      ? {
          sessionAffinity: 'header',
          sessionAffinityTtl: args.sessionAffinity.ttlSeconds,
          sessionAffinityAttributes: {
            headers: [SESSION_HEADER],
            // Only requests that carry a session id are pinned; initialize and stateless calls are steered freely.
            requireAllHeaders: true,
            // Zero-downtime failover of pinned sessions is incompatible with Tiered Cache (edge-cache.ts);
            // the service needs no stickiness, so a pinned session simply moves when its origin is down.
            zeroDowntimeFailover: 'none',
          },
        }
      : { sessionAffinity: 'none' };

    this.steeringPolicy = args.latencySteering ? 'dynamic_latency' : 'geo';
    const lb = new cloudflare.LoadBalancer(
      `${name}-mcp`,
      {
        zoneId: args.zoneId,
        name: args.mcpHostname,
        description: `${args.environment}: MCP gateway across ${args.regions.map((r) => r.config.region).join(', ')}`,
        proxied: true,
        enabled: true,
        defaultPools: poolIds,
        fallbackPool: fallback,
        steeringPolicy: this.steeringPolicy,
        // Kept under dynamic_latency too, so switching back to geo is a one-key change.
        regionPools: maps.regionPools,
        countryPools: maps.countryPools,
        randomSteering: { defaultWeight: 1, poolWeights: weights },
        // Requests that cannot connect (521/522/523) are retried once on the next pool: safe for POSTs,
        // since such a request never reached an origin.
        adaptiveRouting: { failoverAcrossPools: true },
        ...affinity,
      },
      { parent, deleteBeforeReplace: true },
    );

    this.regionalHostnames = {};
    for (const r of args.regions) {
      const hostname = r.pool.regionalHostname;
      this.regionalHostnames[r.config.region] = hostname;
      new cloudflare.LoadBalancer(
        `${name}-pin-${r.config.region}`,
        {
          zoneId: args.zoneId,
          name: hostname,
          description: `${args.environment}: clients pinned to ${r.config.region} (no cross-region failover)`,
          proxied: true,
          enabled: true,
          defaultPools: [r.pool.poolId],
          fallbackPool: r.pool.poolId,
          steeringPolicy: 'off',
          ...affinity,
        },
        { parent, deleteBeforeReplace: true },
      );
    }

    const allPools = poolIds.apply((ids) => [...ids]);
    const mechanisms = { emails: args.notificationEmails.map((id) => ({ id })) };
    new cloudflare.NotificationPolicy(
      `${name}-pool-health`,
      {
        accountId: args.accountId,
        name: `${args.environment} MCP pool health`,
        description: 'A regional pool or origin changed health: traffic moves to the next pool (docs/operations-edge.md)',
        alertType: 'load_balancing_health_alert',
        enabled: true,
        filters: { poolIds: allPools, newHealths: ['Healthy', 'Unhealthy'] },
        mechanisms,
      },
      { parent },
    );
    new cloudflare.NotificationPolicy(
      `${name}-pool-enablement`,
      {
        accountId: args.accountId,
        name: `${args.environment} MCP pool enabled/disabled`,
        description: 'Someone enabled or disabled a regional pool (planned drain or failover)',
        alertType: 'load_balancing_pool_enablement_alert',
        enabled: true,
        filters: { poolIds: allPools },
        mechanisms,
      },
      { parent },
    );

    this.loadBalancerId = lb.id;
    this.fallbackPoolId = fallback;
    this.fallbackRegion = fallbackAt.apply((i) => args.regions[i]!.config.region);
    this.registerOutputs({
      loadBalancerId: this.loadBalancerId,
      steeringPolicy: this.steeringPolicy,
      fallbackPoolId: this.fallbackPoolId,
      fallbackRegion: this.fallbackRegion,
      regionalHostnames: this.regionalHostnames,
    });
  }
}
