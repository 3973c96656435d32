import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

/** One managed node group's shape. */
export interface NodeGroupSpec {
  /** EC2 instance types; spot groups need at least two so one capacity pool's shortage is survivable. */
  readonly instanceTypes: string[];
  /** @defaultValue "ON_DEMAND" */
  readonly capacityType?: 'ON_DEMAND' | 'SPOT';
  readonly minSize: number;
  readonly maxSize: number;
  /** @defaultValue minSize */
  readonly desiredSize?: number;
}

/** The three pools: system add-ons and gateway on demand, workers on spot in prod. */
export interface NodeGroupsSpec {
  system: NodeGroupSpec;
  gateway: NodeGroupSpec;
  workers: NodeGroupSpec;
}

/** Node label that selects a pool (`system`, `gateway`, `workers`). */
export const POOL_LABEL = 'umcp.io/pool';
/** Taint on spot worker nodes; only the worker Deployment tolerates it. */
export const SPOT_TAINT = { key: 'umcp.io/spot', value: 'true', effect: 'NoSchedule' } as const;

const ARM = /^[a-z]+\d+g[a-z]*\./;

/** Defaults per environment; prod workers are spot over four Graviton instance types. */
export function defaultNodeGroups(prod: boolean): NodeGroupsSpec {
  return prod
    ? {
        system: { instanceTypes: ['m7g.large'], capacityType: 'ON_DEMAND', minSize: 3, maxSize: 6 },
        gateway: { instanceTypes: ['c7g.xlarge', 'm7g.xlarge'], capacityType: 'ON_DEMAND', minSize: 3, maxSize: 30 },
        workers: { instanceTypes: ['m7g.large', 'm6g.large', 'c7g.xlarge', 'r7g.large'], capacityType: 'SPOT', minSize: 2, maxSize: 50 },
      }
    : {
        system: { instanceTypes: ['t4g.large'], capacityType: 'ON_DEMAND', minSize: 1, maxSize: 3 },
        gateway: { instanceTypes: ['t4g.large'], capacityType: 'ON_DEMAND', minSize: 1, maxSize: 4 },
        workers: { instanceTypes: ['t4g.large', 'm7g.large'], capacityType: 'SPOT', minSize: 1, maxSize: 6 },
      };
}

/** Rejects contradictory node group specs; returns the message or undefined. */
export function checkNodeGroup(pool: string, g: NodeGroupSpec): string | undefined {
  if (g.minSize > g.maxSize) return `node group "${pool}": minSize ${g.minSize} exceeds maxSize ${g.maxSize}`;
  if (g.desiredSize !== undefined && (g.desiredSize < g.minSize || g.desiredSize > g.maxSize)) {
    return `node group "${pool}": desiredSize ${g.desiredSize} is outside ${g.minSize}..${g.maxSize}`;
  }
  if (g.capacityType === 'SPOT' && g.instanceTypes.length < 2) {
    return `node group "${pool}": spot capacity needs at least two instance types, found ${g.instanceTypes.join(', ')}`;
  }
  const arm = g.instanceTypes.map((t) => ARM.test(t));
  if (arm.some((a) => a !== arm[0])) return `node group "${pool}": mixes arm64 and x86_64 instance types (${g.instanceTypes.join(', ')})`;
  return undefined;
}

/** Creates the managed node groups with an encrypted gp3 root volume and IMDSv2 only. */
export function createNodeGroups(
  name: string,
  args: {
    clusterName: pulumi.Input<string>;
    nodeRoleArn: pulumi.Input<string>;
    subnetIds: pulumi.Input<string>[];
    groups: NodeGroupsSpec;
    tags: Record<string, string>;
  },
  opts: pulumi.CustomResourceOptions,
): aws.eks.NodeGroup[] {
  return (Object.entries(args.groups) as Array<[keyof NodeGroupsSpec, NodeGroupSpec]>).map(([pool, g]) => {
    const lt = new aws.ec2.LaunchTemplate(
      `${name}-${pool}`,
      {
        updateDefaultVersion: true,
        metadataOptions: { httpTokens: 'required', httpEndpoint: 'enabled', httpPutResponseHopLimit: 2 },
        // Room for the pods' 10Gi ephemeral-storage requests plus images. Encrypted with the account's EBS key:
        // a customer key would need a grant to the autoscaling service-linked role before it exists.
        blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { volumeSize: 100, volumeType: 'gp3', encrypted: 'true', deleteOnTermination: 'true' } }],
        tagSpecifications: [{ resourceType: 'instance', tags: { ...args.tags, [POOL_LABEL]: pool } }],
      },
      opts,
    );
    return new aws.eks.NodeGroup(
      `${name}-${pool}`,
      {
        clusterName: args.clusterName,
        nodeRoleArn: args.nodeRoleArn,
        subnetIds: args.subnetIds,
        instanceTypes: g.instanceTypes,
        capacityType: g.capacityType ?? 'ON_DEMAND',
        amiType: ARM.test(g.instanceTypes[0]!) ? 'AL2023_ARM_64_STANDARD' : 'AL2023_x86_64_STANDARD',
        scalingConfig: { minSize: g.minSize, maxSize: g.maxSize, desiredSize: g.desiredSize ?? g.minSize },
        updateConfig: { maxUnavailablePercentage: 33 },
        launchTemplate: { id: lt.id, version: lt.latestVersion.apply(String) },
        labels: { [POOL_LABEL]: pool },
        taints: g.capacityType === 'SPOT' ? [{ key: SPOT_TAINT.key, value: SPOT_TAINT.value, effect: 'NO_SCHEDULE' }] : [],
        tags: args.tags,
      },
      { ...opts, ignoreChanges: ['scalingConfig.desiredSize'] },
    ); // the cluster autoscaler owns desiredSize
  });
}
