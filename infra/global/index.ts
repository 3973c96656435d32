/**
 * The global edge program (stack `<env>-global`, config `role: global`): Cloudflare load balancing across
 * the regional stacks, CDN rules, zone TLS and edge protection for the MCP hostname. infra/index.ts calls
 * `runGlobal` with the validated config and exports what it returns.
 * Leaves out: anything regional (infra/regional/), the Cloudflare API token (`cloudflare:apiToken`, a
 * secret the default provider reads), and the status page (service/).
 */
import { HTTP } from '../../contract/index.js';
import { checkRegionFor, type GlobalConfig } from './config.js';
import { EdgeCache } from './edge-cache.js';
import { EdgeProtection } from './edge-protection.js';
import { GlobalLoadBalancer } from './load-balancer.js';
import { OriginAuthHeaders } from './origin-auth.js';
import { RegionPool } from './region-pool.js';
import { ZoneTls } from './zone-tls.js';

export { globalConfigSchema, parseGlobalConfig, GlobalConfigError, type GlobalConfig, type GlobalConfigInput } from './config.js';

/** Health checks run from the Cloudflare regions whose clients the regions serve. */
export function checkRegionsFor(cfg: Pick<GlobalConfig, 'regions'>): string[] {
  return [...new Set(cfg.regions.flatMap((r) => r.geoRegions.map(checkRegionFor)))].sort();
}

/** Builds the global stack's resources and returns its stack outputs. */
export async function runGlobal(cfg: GlobalConfig): Promise<Record<string, unknown>> {
  const checkRegions = checkRegionsFor(cfg);
  // Resource names carry the AWS region, never a list index, so removing one region touches only its own.
  const regions = cfg.regions.map((r) => ({
    config: r,
    pool: new RegionPool(`region-${r.region}`, {
      stack: r.stack,
      region: r.region,
      environment: cfg.environment,
      accountId: cfg.accountId,
      domain: cfg.domain,
      mcpHostname: cfg.mcpHostname,
      originHost: cfg.originHost,
      monitor: cfg.monitor,
      checkRegions,
    }),
  }));

  const lb = new GlobalLoadBalancer('edge-lb', {
    accountId: cfg.accountId,
    zoneId: cfg.zoneId,
    mcpHostname: cfg.mcpHostname,
    regions,
    latencySteering: cfg.latencySteering,
    fallbackRegion: cfg.fallbackRegion,
    sessionAffinity: cfg.sessionAffinity,
    notificationEmails: cfg.notificationEmails,
    environment: cfg.environment,
  });
  const cache = new EdgeCache('edge-cache', { zoneId: cfg.zoneId, assetsEdgeTtlSeconds: cfg.assetsEdgeTtlSeconds });
  const tls = new ZoneTls('edge-tls', { zoneId: cfg.zoneId, minTlsVersion: cfg.minTlsVersion, hsts: cfg.hsts });
  const protection = new EdgeProtection('edge-protection', { zoneId: cfg.zoneId, config: cfg });
  // Origins accept only requests carrying their secret header (docs/edge.md, "Origin access").
  const originAuth = new OriginAuthHeaders('edge-origin-auth', {
    zoneId: cfg.zoneId,
    hostnames: [cfg.mcpHostname, ...Object.values(lb.regionalHostnames)],
    origins: regions.map(({ pool }) => pool.originAuth),
  });

  return {
    mcpUrl: `https://${cfg.mcpHostname}${HTTP.mcpPath}`,
    loadBalancerId: lb.loadBalancerId,
    steeringPolicy: lb.steeringPolicy,
    fallbackRegion: lb.fallbackRegion,
    fallbackPoolId: lb.fallbackPoolId,
    regionalHostnames: lb.regionalHostnames,
    regions: Object.fromEntries(
      regions.map(({ config, pool }) => [
        config.region,
        {
          stack: config.stack,
          poolName: pool.poolName,
          poolId: pool.poolId,
          monitorId: pool.monitorId,
          hostname: lb.regionalHostnames[config.region],
          ingressHostname: pool.ingressHostname,
          healthUrl: pool.healthUrl,
        },
      ]),
    ),
    cacheRulesetId: cache.cacheRulesetId,
    rateLimitRulesetId: protection.rateLimitRulesetId,
    firewallRulesetId: protection.firewallRulesetId,
    originAuthRulesetId: originAuth.rulesetId,
    zoneSettings: tls.settings,
  };
}
