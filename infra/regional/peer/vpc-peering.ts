import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { cidrsOverlap } from '../network/cidr.js';

/** Arguments of {@link VpcPeering}. */
export interface VpcPeeringArgs {
  /** This region's VPC (the requester). */
  readonly vpcId: pulumi.Input<string>;
  readonly cidr: string;
  /** This VPC's private route tables. */
  readonly routeTableIds: pulumi.Input<string>[];
  /** The peer region and its VPC (the accepter), as the peer stack exports them. */
  readonly peerRegion: string;
  readonly peerVpcId: pulumi.Input<string>;
  readonly peerCidr: string;
  /** The peer VPC's private route tables; one per AZ, like ours. */
  readonly peerRouteTableIds: pulumi.Input<string[]>;
  /** How many route tables the peer has (its AZ count); resources are not created inside an apply. */
  readonly peerRouteTableCount: number;
  /** AWS provider of the peer region. */
  readonly peerProvider: aws.Provider;
  /** @defaultValue {} */
  readonly tags?: Record<string, string>;
}

/** Rejects contradictory args; returns the message or undefined. */
export function checkVpcPeeringArgs(args: VpcPeeringArgs): string | undefined {
  if (cidrsOverlap(args.cidr, args.peerCidr)) return `peerCidr ${args.peerCidr} overlaps this VPC's CIDR ${args.cidr}: peered VPCs need disjoint ranges`;
  if (args.peerRouteTableCount < 1) return 'peerRouteTableCount must be at least 1';
  return undefined;
}

/**
 * Inter-region VPC peering, created by the stack that deploys second (the secondary): the request from this
 * region, its acceptance in the peer region, and routes both ways over the private route tables. It carries
 * the application's writes to the Aurora global writer endpoint, whichever region holds the writer. RDS
 * endpoint names resolve publicly to private addresses, so no DNS option is needed.
 */
export class VpcPeering extends pulumi.ComponentResource {
  readonly connectionId: pulumi.Output<string>;

  constructor(name: string, args: VpcPeeringArgs, opts?: pulumi.ComponentResourceOptions) {
    super('unified-mcp:peer:VpcPeering', name, {}, opts);
    const problem = checkVpcPeeringArgs(args);
    if (problem) throw new pulumi.ResourceError(problem, this);
    const tags = args.tags ?? {};
    const connection = new aws.ec2.VpcPeeringConnection(
      `${name}-request`,
      {
        vpcId: args.vpcId,
        peerVpcId: args.peerVpcId,
        peerRegion: args.peerRegion,
        autoAccept: false,
        tags: { ...tags, Name: name },
      },
      { parent: this },
    );
    const accepter = new aws.ec2.VpcPeeringConnectionAccepter(
      `${name}-accept`,
      {
        vpcPeeringConnectionId: connection.id,
        autoAccept: true,
        tags: { ...tags, Name: name },
      },
      { parent: this, provider: args.peerProvider },
    );
    const routed = { parent: this, dependsOn: [accepter] };
    args.routeTableIds.forEach(
      (routeTableId, i) =>
        new aws.ec2.Route(
          `${name}-to-peer-${i}`,
          {
            routeTableId,
            destinationCidrBlock: args.peerCidr,
            vpcPeeringConnectionId: connection.id,
          },
          routed,
        ),
    );
    const peerTables = pulumi.output(args.peerRouteTableIds);
    for (let i = 0; i < args.peerRouteTableCount; i++) {
      new aws.ec2.Route(
        `${name}-from-peer-${i}`,
        {
          routeTableId: peerTables.apply((ids) => {
            if (!ids[i]) throw new pulumi.ResourceError(`peer exports ${ids.length} private route tables, expected ${args.peerRouteTableCount}`, this);
            return ids[i]!;
          }),
          destinationCidrBlock: args.cidr,
          vpcPeeringConnectionId: connection.id,
        },
        { ...routed, provider: args.peerProvider },
      );
    }
    this.connectionId = connection.id;
    this.registerOutputs({ connectionId: this.connectionId });
  }
}
