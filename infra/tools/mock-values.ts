/**
 * Canned provider answers for the Pulumi mocks: plausible ids, ARNs, endpoints and invoke results, so the
 * program's applies see realistic shapes. Keyed by resource type / invoke token; unknown ones echo inputs.
 */
import type * as pulumi from '@pulumi/pulumi';
import { regionalOutputsForMocks } from '../global/mock-regional-outputs.js';
import { peerOutputsForMocks } from './mock-peer-outputs.js';
import { mockRandomBytes, mockRandomPassword } from './mock-random.js';
import { SHARED_SECRETS } from '../regional/secrets/shared-secrets.js';

type MockResourceArgs = pulumi.runtime.MockResourceArgs;
type MockCallArgs = pulumi.runtime.MockCallArgs;

export interface MockContext {
  /** Provider reference (`urn::id`) → region, learned as aws providers register. */
  providerRegions: Map<string, string>;
  defaultRegion: string;
  /**
   * Shared secrets the run sets in config (full keys stripped to `dbPassword`...): a mocked secondary given
   * them reads a primary that holds the same values, as two stacks configured alike would.
   */
  configuredSharedSecrets?: Record<string, string>;
}

export const MOCK_ACCOUNT = '123456789012';

/** Region of a resource or invoke: its own `region` input, else its provider's, else the stack's. */
function regionOf(args: { provider?: string; inputs?: any }, ctx: MockContext): string {
  if (typeof args.inputs?.region === 'string') return args.inputs.region;
  const providerId = args.provider?.split('::').pop();
  return (providerId && ctx.providerRegions.get(providerId)) || ctx.defaultRegion;
}

function service(type: string): string {
  return type.split(':')[1]?.split('/')[0] ?? 'unknown';
}

function resourceState(args: MockResourceArgs, region: string, id: string, ctx: MockContext): Record<string, unknown> {
  const i = args.inputs ?? {};
  const arn = `arn:aws:${service(args.type)}:${region}:${MOCK_ACCOUNT}:${args.name}`;
  const base: Record<string, unknown> = { arn, id };
  switch (args.type) {
    case 'aws:eks/cluster:Cluster':
      return {
        ...base,
        name: i.name ?? args.name,
        endpoint: `https://${args.name}.gr7.${region}.eks.amazonaws.com`,
        certificateAuthority: { data: Buffer.from('mock-ca').toString('base64') },
        identities: [{ oidcs: [{ issuer: `https://oidc.eks.${region}.amazonaws.com/id/MOCK${args.name}` }] }],
        vpcConfig: { ...(i.vpcConfig ?? {}), clusterSecurityGroupId: `sg-${args.name}-cluster` },
      };
    case 'aws:rds/cluster:Cluster':
      return {
        ...base,
        clusterIdentifier: i.clusterIdentifier ?? args.name,
        endpoint: `${args.name}.cluster-mock.${region}.rds.amazonaws.com`,
        readerEndpoint: `${args.name}.cluster-ro-mock.${region}.rds.amazonaws.com`,
        port: 5432,
      };
    case 'aws:rds/globalCluster:GlobalCluster':
      // `endpoint`: the global writer endpoint (`<id>.global-<hash>.global.rds.amazonaws.com`).
      return {
        ...base,
        globalClusterIdentifier: i.globalClusterIdentifier ?? args.name,
        endpoint: `${i.globalClusterIdentifier ?? args.name}.global-mock.global.rds.amazonaws.com`,
      };
    case 'aws:rds/proxy:Proxy':
      return { ...base, name: i.name ?? args.name, endpoint: `${args.name}.proxy-mock.${region}.rds.amazonaws.com` };
    case 'aws:rds/proxyEndpoint:ProxyEndpoint':
      return { ...base, endpoint: `${args.name}.endpoint.proxy-mock.${region}.rds.amazonaws.com` };
    case 'aws:elasticache/replicationGroup:ReplicationGroup':
      return {
        ...base,
        replicationGroupId: i.replicationGroupId ?? args.name,
        port: 6379,
        primaryEndpointAddress: `master.${args.name}.mock.${region}.cache.amazonaws.com`,
        readerEndpointAddress: `replica.${args.name}.mock.${region}.cache.amazonaws.com`,
      };
    case 'aws:elasticache/globalReplicationGroup:GlobalReplicationGroup':
      return { ...base, globalReplicationGroupId: `ldgnf-${i.globalReplicationGroupIdSuffix ?? args.name}` };
    case 'aws:s3/bucket:Bucket':
      return {
        ...base,
        arn: `arn:aws:s3:::${i.bucket ?? args.name}`,
        bucket: i.bucket ?? args.name,
        bucketRegionalDomainName: `${i.bucket ?? args.name}.s3.${region}.amazonaws.com`,
      };
    case 'aws:ec2/vpc:Vpc':
      return { ...base, id: `vpc-${args.name}`, defaultSecurityGroupId: `sg-${args.name}-default` };
    case 'aws:kms/key:Key':
      return { ...base, arn: `arn:aws:kms:${region}:${MOCK_ACCOUNT}:key/${args.name}`, keyId: args.name };
    case 'aws:iam/role:Role':
      return { ...base, arn: `arn:aws:iam::${MOCK_ACCOUNT}:role/${i.name ?? args.name}`, name: i.name ?? args.name };
    case 'aws:iam/openIdConnectProvider:OpenIdConnectProvider':
      return { ...base, arn: `arn:aws:iam::${MOCK_ACCOUNT}:oidc-provider/${String(i.url ?? '').replace('https://', '')}` };
    case 'pulumi:pulumi:StackReference': {
      // The global stack reading a regional one, or a secondary its primary. Secret outputs as the real
      // engine reports them: the edge's origin header, the endpoints, the shared secrets.
      const peer = peerOutputsForMocks(String(i.name));
      const shared = Object.keys(peer).length ? (ctx.configuredSharedSecrets ?? {}) : {};
      return {
        name: i.name,
        outputs: { ...regionalOutputsForMocks(String(i.name)), ...peer, ...shared },
        secretOutputNames: ['endpoints', 'originAuth', ...SHARED_SECRETS],
      };
    }
    case 'random:index/randomPassword:RandomPassword': // deterministic per name, never a real secret
      return { ...base, result: mockRandomPassword(args.name, Number(i.length ?? 32)) };
    case 'random:index/randomBytes:RandomBytes': {
      const bytes = mockRandomBytes(args.name, Number(i.length ?? 32));
      return { ...base, base64: bytes.toString('base64'), hex: bytes.toString('hex') };
    }
    case 'kubernetes:networking.k8s.io/v1:Ingress':
      return { status: { loadBalancer: { ingress: [{ hostname: `k8s-${args.name}-mock.${region}.elb.amazonaws.com` }] } } };
    default:
      return base;
  }
}

/** AWS uses the caller-chosen identifier as the id for these types; mirror that. */
const NATURAL_ID: Record<string, string> = {
  'aws:rds/globalCluster:GlobalCluster': 'globalClusterIdentifier',
  'aws:rds/cluster:Cluster': 'clusterIdentifier',
  'aws:rds/clusterInstance:ClusterInstance': 'identifier',
  'aws:elasticache/replicationGroup:ReplicationGroup': 'replicationGroupId',
  'aws:s3/bucket:Bucket': 'bucket',
  'aws:eks/cluster:Cluster': 'name',
  'aws:rds/proxy:Proxy': 'name',
};

function naturalId(args: MockResourceArgs): string | undefined {
  const key = NATURAL_ID[args.type];
  const value = key ? args.inputs?.[key] : undefined;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export const canned = {
  newResource(args: MockResourceArgs, ctx: MockContext): { id: string; state: Record<string, unknown> } {
    const region = regionOf(args, ctx);
    const id = naturalId(args) ?? (args.type.startsWith('aws:ec2/') ? `${args.type.split(':').pop()!.toLowerCase()}-${args.name}` : `${args.name}-id`);
    if (args.type === 'pulumi:providers:aws') {
      // Invokes and children reference the provider as `<urn>::<id>`; remember its region by id.
      ctx.providerRegions.set(id, region);
    }
    return { id, state: { ...args.inputs, ...resourceState(args, region, id, ctx) } };
  },

  call(args: MockCallArgs, ctx: MockContext): Record<string, unknown> {
    const region = regionOf({ ...(args.provider ? { provider: args.provider } : {}) }, ctx);
    switch (args.token) {
      case 'aws:index/getAvailabilityZones:getAvailabilityZones':
        return {
          id: region,
          names: ['a', 'b', 'c', 'd'].map((z) => `${region}${z}`),
          zoneIds: [1, 2, 3, 4].map((n) => `${region.slice(0, 3)}-az${n}`),
          state: 'available',
        };
      case 'aws:index/getCallerIdentity:getCallerIdentity':
        return { id: MOCK_ACCOUNT, accountId: MOCK_ACCOUNT, arn: `arn:aws:iam::${MOCK_ACCOUNT}:user/mock`, userId: 'AIDAMOCK' };
      case 'aws:index/getPartition:getPartition':
        return { id: 'aws', partition: 'aws', dnsSuffix: 'amazonaws.com', reverseDnsPrefix: 'com.amazonaws' };
      case 'aws:index/getRegion:getRegion':
        return { id: region, name: region, region, endpoint: `ec2.${region}.amazonaws.com` };
      case 'aws:ec2/getAmi:getAmi':
        return { id: 'ami-0mock', imageId: 'ami-0mock', architecture: 'arm64' };
      case 'aws:ssm/getParameter:getParameter':
        return { id: args.inputs.name, name: args.inputs.name, value: 'ami-0mock', type: 'String' };
      case 'aws:eks/getClusterAuth:getClusterAuth':
        return { id: args.inputs.name, name: args.inputs.name, token: 'k8s-aws-v1.mock' };
      case 'aws:iam/getPolicyDocument:getPolicyDocument':
        return { id: 'policy', json: JSON.stringify({ Version: '2012-10-17', Statement: args.inputs.statements ?? [] }) };
      default:
        return { ...args.inputs };
    }
  },
};
