import * as aws from '@pulumi/aws';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { assumeRolePolicy } from './iam.js';
import { checkNodeGroup, createNodeGroups, type NodeGroupsSpec } from './node-groups.js';

/** Arguments of {@link Cluster}. */
export interface ClusterArgs {
  /** EKS cluster name (also used in subnet discovery tags). */
  readonly clusterName: string;
  /** Kubernetes version, e.g. "1.33". */
  readonly version: pulumi.Input<string>;
  readonly vpcId: pulumi.Input<string>;
  /** Private subnets for the control plane ENIs and the nodes. */
  readonly privateSubnetIds: pulumi.Input<string>[];
  /**
   * CIDRs allowed on a public API endpoint; empty keeps the endpoint private (reachable from the VPC and
   * `privateAccessCidrs` only). Never the whole internet. @defaultValue [] (private only)
   */
  readonly publicAccessCidrs?: string[];
  /** Networks (runner subnet, peered VPC, VPN) allowed to the private endpoint on 443. @defaultValue [] */
  readonly privateAccessCidrs?: string[];
  /** IAM roles granted cluster admin through access entries. @defaultValue [] */
  readonly adminRoleArns?: string[];
  readonly nodeGroups: NodeGroupsSpec;
  /** Control-plane log retention in days. @defaultValue 90 */
  readonly logRetentionDays?: pulumi.Input<number>;
  /** Region, for the kubeconfig's `aws eks get-token`. */
  readonly region: string;
  /** @defaultValue {} */
  readonly tags?: Record<string, string>;
}

const LOG_TYPES = ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'];
const CLUSTER_POLICIES = ['AmazonEKSClusterPolicy'];
const NODE_POLICIES = ['AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonEC2ContainerRegistryReadOnly', 'AmazonSSMManagedInstanceCore'];

/**
 * EKS add-on configuration values (JSON, the add-on's configuration schema). The VPC CNI enforces
 * NetworkPolicy only with `enableNetworkPolicy` (its network policy agent, VPC CNI >= v1.14; the EKS
 * default version of every supported Kubernetes version is newer); without it the default-deny and
 * allow policies of the app are accepted by the API server and silently ignored.
 */
export const ADDON_CONFIGURATION: Readonly<Record<string, string>> = {
  'vpc-cni': JSON.stringify({ enableNetworkPolicy: 'true' }),
};

/** Rejects contradictory args before anything is created. */
export function checkClusterArgs(args: ClusterArgs): string | undefined {
  for (const [key, cidrs] of [
    ['publicAccessCidrs', args.publicAccessCidrs],
    ['privateAccessCidrs', args.privateAccessCidrs],
  ] as const) {
    const open = (cidrs ?? []).find((c) => /\/0$/.test(c));
    if (open) return `${key}: expected the networks that need the Kubernetes API, found ${open} (the whole internet)`;
  }
  for (const [pool, g] of Object.entries(args.nodeGroups)) {
    const problem = checkNodeGroup(pool, g);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * EKS cluster: secrets envelope-encrypted with a customer KMS key, all control-plane log types to
 * CloudWatch, access entries (API auth mode), the Pod Identity agent for workload IAM, managed node groups
 * (system + gateway on demand, workers spot) and a Kubernetes provider for everything deployed on it.
 */
export class Cluster extends pulumi.ComponentResource {
  readonly name: pulumi.Output<string>;
  readonly endpoint: pulumi.Output<string>;
  readonly kubeconfig: pulumi.Output<string>;
  readonly provider: k8s.Provider;
  readonly clusterSecurityGroupId: pulumi.Output<string>;
  readonly nodeGroups: aws.eks.NodeGroup[];
  readonly kmsKeyArn: pulumi.Output<string>;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super('unified-mcp:cluster:Cluster', name, {}, opts);
    const problem = checkClusterArgs(args);
    if (problem) throw new pulumi.ResourceError(problem, this);
    const parent = { parent: this };
    const tags = args.tags ?? {};
    const partition = aws.getPartitionOutput({}, parent).partition;
    const managed = (p: string) => pulumi.interpolate`arn:${partition}:iam::aws:policy/${p}`;

    const key = new aws.kms.Key(
      `${name}-secrets`,
      {
        description: `EKS secrets envelope encryption for ${args.clusterName}`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        tags,
      },
      parent,
    );
    const clusterRole = new aws.iam.Role(
      `${name}-cluster`,
      { assumeRolePolicy: assumeRolePolicy('eks.amazonaws.com', ['sts:AssumeRole', 'sts:TagSession']), tags },
      parent,
    );
    const attachments = CLUSTER_POLICIES.map(
      (p) => new aws.iam.RolePolicyAttachment(`${name}-cluster-${p}`, { role: clusterRole.name, policyArn: managed(p) }, parent),
    );
    // EKS creates this group itself without retention; owning it first keeps logs bounded.
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-control-plane`,
      {
        name: `/aws/eks/${args.clusterName}/cluster`,
        retentionInDays: args.logRetentionDays ?? 90,
        tags,
      },
      parent,
    );

    const publicCidrs = args.publicAccessCidrs ?? [];
    const cluster = new aws.eks.Cluster(
      `${name}-eks`,
      {
        name: args.clusterName,
        version: args.version,
        roleArn: clusterRole.arn,
        vpcConfig: {
          subnetIds: args.privateSubnetIds,
          // Private by default: public only for listed networks (AWS would default an open public endpoint to 0.0.0.0/0).
          endpointPrivateAccess: true,
          endpointPublicAccess: publicCidrs.length > 0,
          ...(publicCidrs.length > 0 ? { publicAccessCidrs: publicCidrs } : {}),
        },
        encryptionConfig: { provider: { keyArn: key.arn }, resources: ['secrets'] },
        enabledClusterLogTypes: LOG_TYPES,
        accessConfig: { authenticationMode: 'API', bootstrapClusterCreatorAdminPermissions: true },
        tags,
      },
      { parent: this, dependsOn: [...attachments, logGroup] },
    );

    for (const [i, arn] of (args.adminRoleArns ?? []).entries()) {
      const entry = new aws.eks.AccessEntry(`${name}-admin-${i}`, { clusterName: cluster.name, principalArn: arn, type: 'STANDARD' }, parent);
      new aws.eks.AccessPolicyAssociation(
        `${name}-admin-${i}`,
        {
          clusterName: cluster.name,
          principalArn: arn,
          accessScope: { type: 'cluster' },
          policyArn: pulumi.interpolate`arn:${partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`,
        },
        { parent: this, dependsOn: [entry] },
      );
    }

    const nodeRole = new aws.iam.Role(`${name}-node`, { assumeRolePolicy: assumeRolePolicy('ec2.amazonaws.com'), tags }, parent);
    const nodeAttachments = NODE_POLICIES.map(
      (p) => new aws.iam.RolePolicyAttachment(`${name}-node-${p}`, { role: nodeRole.name, policyArn: managed(p) }, parent),
    );
    this.nodeGroups = createNodeGroups(
      `${name}-ng`,
      {
        clusterName: cluster.name,
        nodeRoleArn: nodeRole.arn,
        subnetIds: args.privateSubnetIds,
        groups: args.nodeGroups,
        tags,
      },
      { parent: this, dependsOn: nodeAttachments },
    );

    for (const addon of ['vpc-cni', 'kube-proxy', 'eks-pod-identity-agent', 'coredns']) {
      const configurationValues = ADDON_CONFIGURATION[addon];
      new aws.eks.Addon(
        `${name}-${addon}`,
        {
          clusterName: cluster.name,
          addonName: addon,
          resolveConflictsOnUpdate: 'OVERWRITE',
          tags,
          ...(configurationValues ? { configurationValues } : {}),
        },
        { parent: this, dependsOn: addon === 'coredns' ? this.nodeGroups : [] },
      );
    }

    // The private endpoint's ENIs carry the cluster security group, which admits only the cluster itself:
    // a runner (or VPN, peered VPC) that runs `pulumi up` against a private endpoint needs its network here.
    const clusterSg = cluster.vpcConfig.apply((v) => v.clusterSecurityGroupId);
    for (const [i, cidr] of (args.privateAccessCidrs ?? []).entries()) {
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-api-${i}`,
        {
          securityGroupId: clusterSg,
          ipProtocol: 'tcp',
          fromPort: 443,
          toPort: 443,
          cidrIpv4: cidr,
          description: 'Kubernetes API (private endpoint) from a listed network',
          tags,
        },
        parent,
      );
    }

    this.name = cluster.name;
    this.endpoint = cluster.endpoint;
    this.kmsKeyArn = key.arn;
    this.clusterSecurityGroupId = cluster.vpcConfig.apply((v) => v.clusterSecurityGroupId);
    this.kubeconfig = pulumi.secret(
      pulumi.all([cluster.name, cluster.endpoint, cluster.certificateAuthority]).apply(([n, endpoint, ca]) =>
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          'current-context': n,
          clusters: [{ name: n, cluster: { server: endpoint, 'certificate-authority-data': ca.data } }],
          contexts: [{ name: n, context: { cluster: n, user: n } }],
          users: [
            {
              name: n,
              user: {
                exec: {
                  apiVersion: 'client.authentication.k8s.io/v1beta1',
                  command: 'aws',
                  args: ['eks', 'get-token', '--cluster-name', n, '--region', args.region],
                },
              },
            },
          ],
        }),
      ),
    );
    this.provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: this.kubeconfig, enableServerSideApply: true }, { parent: this, dependsOn: this.nodeGroups });
    this.registerOutputs({ name: this.name, endpoint: this.endpoint, kubeconfig: this.kubeconfig, clusterSecurityGroupId: this.clusterSecurityGroupId });
  }
}
