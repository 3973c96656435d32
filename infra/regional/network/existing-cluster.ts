/**
 * The network path from an existing cluster's pods (`cluster.mode: existing`) to this stack's data stores.
 * The data stores live in this stack's VPC; the cluster lives in its own. With `existingVpcId` (same account
 * and region) this component peers the two VPCs and routes both ways: this VPC's private route tables to
 * the cluster's source CIDRs, the cluster's route tables to this VPC. Without it the operator provides the
 * path (Transit Gateway, VPN) and only the security groups admit the cluster (platform.ts). RDS and
 * ElastiCache endpoint names resolve publicly to private addresses, so no DNS option is needed.
 * Leaves out: the security group rules (the Database and Cache `allowedCidrs`).
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { cidrsOverlap } from './cidr.js';

/** Arguments of {@link ExistingClusterPeering}. */
export interface ExistingClusterPeeringArgs {
  /** This stack's VPC (requester) and its CIDR. */
  readonly vpcId: pulumi.Input<string>;
  readonly cidr: string;
  /** This VPC's private route tables (where the data stores' subnets route). */
  readonly routeTableIds: pulumi.Input<string>[];
  /** The existing cluster's VPC (accepter, same account and region). */
  readonly clusterVpcId: string;
  /** Source CIDRs of the cluster's pods and nodes (VPC CNI: the cluster VPC's CIDRs). */
  readonly clusterCidrs: string[];
  /** Route tables of the cluster's node/pod subnets. */
  readonly clusterRouteTableIds: string[];
  /** @defaultValue {} */
  readonly tags?: Record<string, string>;
}

/** Rejects contradictory args; returns the message or undefined. */
export function checkExistingClusterPeeringArgs(args: ExistingClusterPeeringArgs): string | undefined {
  if (args.clusterCidrs.length === 0) return "clusterCidrs: expected the CIDRs the cluster's pods and nodes send from, found none";
  const overlap = args.clusterCidrs.find((c) => cidrsOverlap(c, args.cidr));
  if (overlap) return `clusterCidrs: ${overlap} overlaps network.cidr ${args.cidr}: peered VPCs need disjoint ranges`;
  if (args.clusterRouteTableIds.length === 0)
    return "clusterRouteTableIds: expected the route tables of the cluster's subnets (they need a route back), found none";
  return undefined;
}

/** Same-region VPC peering between this stack's VPC and an existing cluster's, with routes both ways. */
export class ExistingClusterPeering extends pulumi.ComponentResource {
  readonly connectionId: pulumi.Output<string>;

  constructor(name: string, args: ExistingClusterPeeringArgs, opts?: pulumi.ComponentResourceOptions) {
    super('unified-mcp:network:ExistingClusterPeering', name, {}, opts);
    const problem = checkExistingClusterPeeringArgs(args);
    if (problem) throw new pulumi.ResourceError(problem, this);
    const tags = args.tags ?? {};
    // Same account and region: the requester can accept its own request.
    const connection = new aws.ec2.VpcPeeringConnection(
      `${name}-peering`,
      {
        vpcId: args.vpcId,
        peerVpcId: args.clusterVpcId,
        autoAccept: true,
        tags: { ...tags, Name: name },
      },
      { parent: this },
    );
    const routed = { parent: this, dependsOn: [connection] };
    args.routeTableIds.forEach((routeTableId, i) =>
      args.clusterCidrs.forEach(
        (cidr, j) =>
          new aws.ec2.Route(
            `${name}-to-cluster-${i}-${j}`,
            {
              routeTableId,
              destinationCidrBlock: cidr,
              vpcPeeringConnectionId: connection.id,
            },
            routed,
          ),
      ),
    );
    args.clusterRouteTableIds.forEach(
      (routeTableId) =>
        new aws.ec2.Route(
          `${name}-from-cluster-${routeTableId}`,
          {
            routeTableId,
            destinationCidrBlock: args.cidr,
            vpcPeeringConnectionId: connection.id,
          },
          routed,
        ),
    );
    this.connectionId = connection.id;
    this.registerOutputs({ connectionId: this.connectionId });
  }
}
