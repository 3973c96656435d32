/**
 * Pure steering decisions, kept apart from Pulumi so they can be tested as plain functions: the geo maps
 * (each region's clients to its own pool first, then the others as failover), the fallback pool, the
 * pool weights, and the sanity checks on what a regional stack reports.
 */
import type { GlobalRegionConfig } from './config.js';

/** Pool ids per steering region / country, ordered by failover priority. */
export interface GeoMaps {
  readonly regionPools: Record<string, string[]>;
  readonly countryPools: Record<string, string[]>;
}

/** Pool order for clients of region `i`: its own pool, then the others in config order. */
export function failoverOrder(poolIds: readonly string[], i: number): string[] {
  const own = poolIds[i];
  if (own === undefined) throw new RangeError(`no pool at index ${i} (have ${poolIds.length})`);
  return [own, ...poolIds.filter((_, j) => j !== i)];
}

/**
 * Geo steering maps. `regions[i]` owns `poolIds[i]`. Steering regions or countries nobody claims are left
 * out, so Cloudflare sends those clients to `defaultPools`.
 */
export function geoMaps(regions: readonly Pick<GlobalRegionConfig, 'geoRegions' | 'countries'>[], poolIds: readonly string[]): GeoMaps {
  if (regions.length !== poolIds.length) {
    throw new Error(`geoMaps: ${regions.length} regions but ${poolIds.length} pools`);
  }
  const regionPools: Record<string, string[]> = {};
  const countryPools: Record<string, string[]> = {};
  regions.forEach((r, i) => {
    const order = failoverOrder(poolIds, i);
    for (const code of r.geoRegions) regionPools[code] = order;
    for (const country of r.countries) countryPools[country] = order;
  });
  return { regionPools, countryPools };
}

/**
 * Index of the fallback region: the configured `fallbackRegion`, else the first stack reporting
 * `isPrimary` (the database writer lives there, so writes stay local), else the first region.
 */
export function fallbackIndex(regions: readonly Pick<GlobalRegionConfig, 'region'>[], isPrimary: readonly boolean[], fallbackRegion?: string): number {
  if (fallbackRegion !== undefined) {
    const i = regions.findIndex((r) => r.region === fallbackRegion);
    if (i < 0) throw new Error(`fallbackRegion "${fallbackRegion}" is not one of the configured regions`);
    return i;
  }
  const primary = isPrimary.indexOf(true);
  return primary >= 0 ? primary : 0;
}

/** Pool weights for random steering: the configured weight, else the stack's `steeringWeight` output. */
export function poolWeights(poolIds: readonly string[], configured: readonly (number | undefined)[], reported: readonly number[]): Record<string, number> {
  const weights: Record<string, number> = {};
  poolIds.forEach((id, i) => {
    const w = configured[i] ?? reported[i] ?? 1;
    if (!(w >= 0 && w <= 1)) throw new RangeError(`pool ${id}: weight ${w} is outside 0..1`);
    weights[id] = w;
  });
  return weights;
}

/** What a regional stack reports about itself (its fixed output names). */
export interface RegionalFacts {
  readonly region: string;
  readonly environment: string;
  /** The regional load balancer's own DNS name (or IP): where Cloudflare connects. */
  readonly ingressHostname: string;
  readonly healthPath: string;
  /** `https://<regional public hostname><healthPath>`; its host is the name the ingress and certificate serve. */
  readonly healthUrl: string;
  /** Optional output `regionalHostname`; when present it must equal the host of `healthUrl`. */
  readonly regionalHostname?: string;
}

/** What the global stack expects of every regional stack. */
export interface RegionalExpectations {
  readonly region: string;
  readonly environment: string;
  /** Zone apex every regional hostname must be inside. */
  readonly domain: string;
  /** Public MCP hostname (a regional hostname must differ from it). */
  readonly mcpHostname: string;
}

/** The regional public hostname: the host of `healthUrl`, or undefined when that is not an https URL. */
export function regionalHostname(healthUrl: string): string | undefined {
  try {
    const url = new URL(healthUrl);
    return url.protocol === 'https:' ? url.hostname.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Problems with a regional stack's outputs, as messages naming the stack; empty when it matches the
 * config. Catches a stack listed under the wrong region or environment (a prod edge pointing at staging)
 * and hostnames that would make Cloudflare proxy to itself.
 */
export function regionalMismatches(stack: string, expected: RegionalExpectations, facts: RegionalFacts): string[] {
  const problems: string[] = [];
  const at = `stack "${stack}" reports`;
  if (facts.region !== expected.region) {
    problems.push(`${at} region "${facts.region}" but config lists it as "${expected.region}"`);
  }
  if (facts.environment !== expected.environment) {
    problems.push(`${at} environment "${facts.environment}" but this global stack is "${expected.environment}"`);
  }
  if (facts.ingressHostname === '') {
    problems.push(`${at} an empty ingressHostname: its ingress has no load-balancer address yet; wait for it, run \`pulumi up\` on that stack, then retry`);
  } else if (!/^[a-z0-9.:-]+$/i.test(facts.ingressHostname)) {
    problems.push(`${at} ingressHostname "${facts.ingressHostname}", expected a DNS name or IP`);
  }
  if (!facts.healthPath.startsWith('/')) {
    problems.push(`${at} healthPath "${facts.healthPath}", expected an absolute path`);
  }
  const host = regionalHostname(facts.healthUrl);
  if (host === undefined) {
    problems.push(`${at} healthUrl "${facts.healthUrl}", expected https://<regional hostname>${facts.healthPath}`);
  } else {
    if (facts.regionalHostname !== undefined && facts.regionalHostname.toLowerCase() !== host) {
      problems.push(`${at} regionalHostname "${facts.regionalHostname}" but healthUrl names "${host}"`);
    }
    if (!host.endsWith(`.${expected.domain}`)) {
      problems.push(`${at} regional hostname "${host}" outside the zone "${expected.domain}"`);
    }
    if (host === expected.mcpHostname) {
      problems.push(`${at} regional hostname "${host}" equal to the global MCP hostname; give the region its own name`);
    }
    if (host === facts.ingressHostname.toLowerCase()) {
      problems.push(
        `${at} ingressHostname equal to its public hostname "${host}"; export the load balancer's own DNS name, or Cloudflare would proxy to itself`,
      );
    }
  }
  return problems;
}
