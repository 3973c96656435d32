/**
 * Fixtures and a mock runner for the global stack tests: canned regional stack outputs, config builders,
 * and `runUnderMocks`, which installs fresh Pulumi mocks, runs `runGlobal`, waits until every resource
 * has been registered, and returns what was registered plus the resolved stack outputs.
 */
import * as pulumi from '@pulumi/pulumi';
import type { GlobalConfigInput } from '../../../infra/global/config.js';

export const ACCOUNT_ID = '0123456789abcdef0123456789abcdef';
export const ZONE_ID = 'fedcba9876543210fedcba9876543210';
export const ORG = 'acme/unified-mcp';

/** Regions the tests use: label of their public hostname, geo codes whose clients each serves first. */
export const REGIONS = {
  'us-east-1': { hostnameLabel: 'us', geoRegions: ['ENAM', 'WNAM', 'NSAM', 'SSAM'], countries: [] as string[] },
  'eu-west-1': { hostnameLabel: 'eu', geoRegions: ['WEU', 'EEU', 'ME', 'NAF', 'SAF'], countries: ['DE'] },
  'ap-southeast-1': { hostnameLabel: 'ap', geoRegions: ['SEAS', 'NEAS', 'SAS', 'OC'], countries: [] as string[] },
} as const;
export type TestRegion = keyof typeof REGIONS;

export const stackOf = (region: string) => `${ORG}/prod-${region}`;
/** The public hostname a regional stack serves (its ingress rule and certificate), e.g. `us.mcp.example.com`. */
export const regionalHost = (region: string) => `${REGIONS[region as TestRegion]?.hostnameLabel ?? region}.mcp.example.com`;

/** What a regional stack exports (the fixed output names), for one region. */
export function regionalOutputs(region: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    region,
    environment: 'prod',
    ingressHostname: `k8s-ingress-${region}.elb.amazonaws.com`,
    healthPath: '/readyz',
    healthUrl: `https://${regionalHost(region)}/readyz`,
    regionalHostname: regionalHost(region),
    steeringWeight: 1,
    isPrimary: region === 'us-east-1',
    endpoints: { postgres: 'secret' },
    ...overrides,
  };
}

/** A valid global config for the given regions (in that order), plus overrides. */
export function configFor(regions: readonly TestRegion[], overrides: Partial<GlobalConfigInput> = {}): GlobalConfigInput {
  return {
    role: 'global',
    environment: 'prod',
    accountId: ACCOUNT_ID,
    zoneId: ZONE_ID,
    domain: 'example.com',
    mcpHostname: 'mcp.example.com',
    notificationEmails: ['oncall@example.com'],
    regions: regions.map((region) => ({
      stack: stackOf(region),
      region,
      geoRegions: [...REGIONS[region].geoRegions],
      countries: [...REGIONS[region].countries],
    })),
    ...overrides,
  };
}

export interface RegisteredResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
}

export interface MockRun {
  readonly resources: RegisteredResource[];
  readonly outputs: Record<string, any>;
  ofType(type: string): RegisteredResource[];
  one(type: string, name: string): RegisteredResource;
}

/** Resolves a value with nested Outputs (pulumi.output unwraps deeply). */
export function resolve<T>(value: T): Promise<pulumi.Unwrap<T>> {
  return new Promise((res) => pulumi.output(value).apply((v) => res(v as pulumi.Unwrap<T>)));
}

/** Waits until no resource has been registered for a few ticks. */
async function settle(resources: readonly unknown[]): Promise<void> {
  let quiet = 0;
  let seen = resources.length;
  while (quiet < 3) {
    await new Promise((r) => setTimeout(r, 15));
    if (resources.length === seen) quiet++;
    else {
      seen = resources.length;
      quiet = 0;
    }
  }
}

/**
 * Runs the global program under mocks. `regional` maps stack name → its outputs; by default every stack
 * listed in the config gets {@link regionalOutputs} of its region.
 */
export async function runUnderMocks(input: GlobalConfigInput | Record<string, unknown>, regional?: Record<string, Record<string, unknown>>): Promise<MockRun> {
  const resources: RegisteredResource[] = [];
  const { parseGlobalConfig } = await import('../../../infra/global/config.js');
  const cfg = parseGlobalConfig(input as Record<string, unknown>);
  const canned = regional ?? Object.fromEntries(cfg.regions.map((r) => [r.stack, regionalOutputs(r.region)]));
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        resources.push({ type: args.type, name: args.name, inputs: args.inputs });
        if (args.type === 'pulumi:pulumi:StackReference') {
          const stack = String(args.inputs.name);
          const outputs = canned[stack];
          if (outputs === undefined) throw new Error(`test has no canned outputs for stack ${stack}`);
          return { id: stack, state: { name: stack, outputs, secretOutputNames: ['endpoints'] } };
        }
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        return args.inputs;
      },
    },
    'unified-mcp',
    'prod-global',
    false,
  );
  const { runGlobal } = await import('../../../infra/global/index.js');
  const outputs = (await resolve(await runGlobal(cfg))) as Record<string, any>;
  await settle(resources);
  return {
    resources,
    outputs,
    ofType: (type) => resources.filter((r) => r.type === type),
    one(type, name) {
      const found = resources.filter((r) => r.type === type && r.name === name);
      if (found.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
      return found[0]!;
    },
  };
}

export const T = {
  monitor: 'cloudflare:index/loadBalancerMonitor:LoadBalancerMonitor',
  pool: 'cloudflare:index/loadBalancerPool:LoadBalancerPool',
  lb: 'cloudflare:index/loadBalancer:LoadBalancer',
  ruleset: 'cloudflare:index/ruleset:Ruleset',
  zoneSetting: 'cloudflare:index/zoneSetting:ZoneSetting',
  tieredCache: 'cloudflare:index/tieredCache:TieredCache',
  argoTiered: 'cloudflare:index/argoTieredCaching:ArgoTieredCaching',
  notification: 'cloudflare:index/notificationPolicy:NotificationPolicy',
  stackRef: 'pulumi:pulumi:StackReference',
} as const;
