/**
 * One region behind the global load balancer: reads the regional stack's outputs through a
 * StackReference, checks them against the config, and creates that region's health monitor (HTTPS GET of
 * the readiness path with the MCP hostname as Host) and its pool (one origin: the regional ingress).
 * Leaves out: steering between pools (load-balancer.ts).
 */
import * as cloudflare from '@pulumi/cloudflare';
import * as pulumi from '@pulumi/pulumi';
import type { GlobalConfig } from './config.js';
import { ORIGIN_AUTH_OUTPUT, type OriginAuth } from './origin-access.js';
import { regionalHostname, regionalMismatches, type RegionalFacts } from './steering.js';

/** Output names every regional stack exports (fixed contract with the regional program). */
export const REGIONAL_OUTPUTS = {
  region: 'region',
  environment: 'environment',
  ingressHostname: 'ingressHostname',
  healthPath: 'healthPath',
  healthUrl: 'healthUrl',
  steeringWeight: 'steeringWeight',
  isPrimary: 'isPrimary',
  /** Optional: the region's public hostname; otherwise taken from the host of `healthUrl`. */
  regionalHostname: 'regionalHostname',
} as const;

export interface RegionPoolArgs {
  /** Regional stack, `<org>/<project>/<stack>`. */
  readonly stack: string;
  /** AWS region the config expects that stack to report. */
  readonly region: string;
  /** Environment the config expects that stack to report (e.g. `prod`). */
  readonly environment: string;
  /** Cloudflare account owning monitors and pools. */
  readonly accountId: pulumi.Input<string>;
  /** Zone apex; the regional hostname must be inside it. */
  readonly domain: string;
  /** Public MCP hostname. */
  readonly mcpHostname: string;
  /** Host header for origin and monitor: the region's own hostname, or the MCP hostname. */
  readonly originHost: GlobalConfig['originHost'];
  /** Probe timing and healthy codes. */
  readonly monitor: GlobalConfig['monitor'];
  /** Cloudflare regions the health checks run from; empty means every data center. */
  readonly checkRegions: readonly string[];
}

/** One region behind the edge: its StackReference, health monitor and pool (`unified-mcp:global:RegionPool`). */
export class RegionPool extends pulumi.ComponentResource {
  /** Cloudflare pool id. */
  readonly poolId: pulumi.Output<string>;
  /** Cloudflare monitor id. */
  readonly monitorId: pulumi.Output<string>;
  /** Pool name in Cloudflare, `<environment>-<region>`. */
  readonly poolName: string;
  /** Whether this region holds the database writer (regional output `isPrimary`). */
  readonly isPrimary: pulumi.Output<boolean>;
  /** Weight the regional stack asks for (regional output `steeringWeight`). */
  readonly steeringWeight: pulumi.Output<number>;
  /** The regional ingress the pool sends traffic to. */
  readonly ingressHostname: pulumi.Output<string>;
  /** Direct health URL of the region (regional output `healthUrl`), for the runbook. */
  readonly healthUrl: pulumi.Output<string>;
  /** The region's public hostname (host of `healthUrl`): the pinned hostname for clients of this region. */
  readonly regionalHostname: pulumi.Output<string>;
  /** The header its ALB requires (regional output `originAuth`, secret); undefined for an origin without one. */
  readonly originAuth: pulumi.Output<OriginAuth | undefined>;

  constructor(name: string, args: RegionPoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super('unified-mcp:global:RegionPool', name, args, opts);
    const parent = this;
    const ref = new pulumi.StackReference(`${name}-ref`, { name: args.stack }, { parent });
    const read = <T>(key: string) => ref.requireOutput(key) as pulumi.Output<T>;

    // Checked facts: every resource below depends on them, so a mismatch fails before anything changes.
    const facts: pulumi.Output<RegionalFacts> = pulumi
      .all([
        read<string>(REGIONAL_OUTPUTS.region),
        read<string>(REGIONAL_OUTPUTS.environment),
        read<string>(REGIONAL_OUTPUTS.ingressHostname),
        read<string>(REGIONAL_OUTPUTS.healthPath),
        read<string>(REGIONAL_OUTPUTS.healthUrl),
        ref.getOutput(REGIONAL_OUTPUTS.regionalHostname) as pulumi.Output<string | undefined>,
      ])
      .apply(([region, environment, ingressHostname, healthPath, healthUrl, regional]) => {
        const f: RegionalFacts = { region, environment, ingressHostname, healthPath, healthUrl, ...(regional ? { regionalHostname: regional } : {}) };
        const problems = regionalMismatches(args.stack, args, f);
        if (problems.length > 0) throw new pulumi.ResourceError(problems.join('; '), parent);
        return f;
      });

    this.poolName = `${args.environment}-${args.region}`;
    this.isPrimary = read<boolean>(REGIONAL_OUTPUTS.isPrimary).apply((v) => v === true);
    this.steeringWeight = read<number>(REGIONAL_OUTPUTS.steeringWeight).apply((v) => (typeof v === 'number' ? v : 1));
    this.ingressHostname = facts.ingressHostname;
    this.healthUrl = facts.healthUrl;
    this.regionalHostname = facts.apply((f) => regionalHostname(f.healthUrl)!);
    // `regional`: the ingress rule and certificate of each region name only its own hostname.
    const hostHeader = args.originHost === 'regional' ? this.regionalHostname : pulumi.output(args.mcpHostname);
    // The origin answers only requests carrying its secret header; monitors do not pass the transform
    // rules, so the monitor sends it itself.
    this.originAuth = (ref.getOutput(ORIGIN_AUTH_OUTPUT) as pulumi.Output<OriginAuth | undefined>).apply((a) => (a && a.header && a.value ? a : undefined));

    const monitor = new cloudflare.LoadBalancerMonitor(
      `${name}-monitor`,
      {
        accountId: args.accountId,
        description: `${this.poolName}: readiness of the MCP gateway`,
        type: 'https',
        method: 'GET',
        path: facts.healthPath,
        // The ingress routes on Host and its certificate names a public hostname, not the ALB's DNS name.
        header: pulumi.all([hostHeader, this.originAuth]).apply(([host, auth]) => ({ Host: [host], ...(auth ? { [auth.header]: [auth.value] } : {}) })),
        expectedCodes: args.monitor.expectedCodes,
        interval: args.monitor.intervalSeconds,
        timeout: args.monitor.timeoutSeconds,
        retries: args.monitor.retries,
        consecutiveUp: args.monitor.consecutiveUp,
        consecutiveDown: args.monitor.consecutiveDown,
        followRedirects: false,
        allowInsecure: false,
      },
      { parent },
    );

    const pool = new cloudflare.LoadBalancerPool(
      `${name}-pool`,
      {
        accountId: args.accountId,
        name: this.poolName,
        description: `MCP gateway in ${args.region} (stack ${args.stack})`,
        enabled: true,
        minimumOrigins: 1,
        monitor: monitor.id,
        checkRegions: args.checkRegions.length > 0 ? [...args.checkRegions] : undefined,
        origins: [
          {
            name: args.region,
            address: facts.ingressHostname,
            enabled: true,
            weight: 1,
            header: { hosts: [hostHeader] },
          },
        ],
      },
      { parent },
    );

    this.poolId = pool.id;
    this.monitorId = monitor.id;
    this.registerOutputs({
      poolId: this.poolId,
      monitorId: this.monitorId,
      poolName: this.poolName,
      isPrimary: this.isPrimary,
      steeringWeight: this.steeringWeight,
      ingressHostname: this.ingressHostname,
      regionalHostname: this.regionalHostname,
    });
  }
}
