import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

/** Arguments of {@link Network}. */
export interface NetworkArgs {
  /** VPC CIDR, a /16 (public subnets get /22s, private subnets /19s). */
  readonly cidr: string;
  /** Availability zones to span; exactly 3. */
  readonly availabilityZones: pulumi.Input<string[]>;
  /** `per-az` (prod) or `single` NAT gateway. @defaultValue "per-az" */
  readonly natGateways?: 'per-az' | 'single';
  /** Flow log retention in days. @defaultValue 30 */
  readonly flowLogRetentionDays?: pulumi.Input<number>;
  /** EKS cluster name, for the subnet discovery tags of the load balancer controller. */
  readonly clusterName?: string;
  /** Tags for every resource. @defaultValue {} */
  readonly tags?: Record<string, string>;
}

const AZ_COUNT = 3;

/** Splits a /16 into three public /22s (x.y.0-8.0) and three private /19s (x.y.64-128.0). */
export function subnetCidrs(cidr: string): { public: string[]; private: string[] } {
  const m = /^(\d+)\.(\d+)\.0\.0\/16$/.exec(cidr);
  if (!m) throw new Error(`network cidr must be a /16 such as 10.20.0.0/16, found "${cidr}"`);
  const p = `${m[1]}.${m[2]}`;
  return {
    public: [0, 1, 2].map((i) => `${p}.${i * 4}.0/22`),
    private: [0, 1, 2].map((i) => `${p}.${64 + i * 32}.0/19`),
  };
}

/**
 * VPC with public and private subnets in 3 AZs, NAT per AZ (or one), an S3 gateway endpoint, ECR/STS
 * interface endpoints and VPC flow logs to CloudWatch. Data services and nodes live in the private subnets.
 */
export class Network extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly cidr: string;
  readonly publicSubnetIds: pulumi.Output<string>[];
  readonly privateSubnetIds: pulumi.Output<string>[];
  /** Route tables of the private subnets, one per AZ (the peer stack routes its VPC through them). */
  readonly privateRouteTableIds: pulumi.Output<string>[];

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super('unified-mcp:network:Network', name, {}, opts);
    const cidrs = subnetCidrs(args.cidr);
    const tags = args.tags ?? {};
    const parent = { parent: this };
    const azs = pulumi.output(args.availabilityZones).apply((zones) => {
      if (zones.length < AZ_COUNT) throw new pulumi.ResourceError(`need ${AZ_COUNT} availability zones, found ${zones.length}`, this);
      return zones.slice(0, AZ_COUNT);
    });
    const clusterTag = args.clusterName ? { [`kubernetes.io/cluster/${args.clusterName}`]: 'shared' } : {};

    const vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      {
        cidrBlock: args.cidr,
        enableDnsHostnames: true,
        enableDnsSupport: true,
        tags: { ...tags, Name: `${name}-vpc` },
      },
      parent,
    );
    // Lock down the default security group: nothing may use it by accident.
    new aws.ec2.DefaultSecurityGroup(`${name}-default-sg`, { vpcId: vpc.id, tags }, parent);
    const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags }, parent);
    const publicRt = new aws.ec2.RouteTable(
      `${name}-public-rt`,
      {
        vpcId: vpc.id,
        routes: [{ cidrBlock: '0.0.0.0/0', gatewayId: igw.id }],
        tags: { ...tags, Name: `${name}-public` },
      },
      parent,
    );

    const publicSubnets = cidrs.public.map((cidrBlock, i) => {
      const subnet = new aws.ec2.Subnet(
        `${name}-public-${i}`,
        {
          vpcId: vpc.id,
          cidrBlock,
          availabilityZone: azs[i]!,
          mapPublicIpOnLaunch: false,
          tags: { ...tags, ...clusterTag, Name: `${name}-public-${i}`, tier: 'public', 'kubernetes.io/role/elb': '1' },
        },
        parent,
      );
      new aws.ec2.RouteTableAssociation(`${name}-public-${i}`, { subnetId: subnet.id, routeTableId: publicRt.id }, parent);
      return subnet;
    });

    const natCount = (args.natGateways ?? 'per-az') === 'per-az' ? AZ_COUNT : 1;
    const nats = Array.from({ length: natCount }, (_, i) => {
      const eip = new aws.ec2.Eip(`${name}-nat-${i}`, { domain: 'vpc', tags }, parent);
      return new aws.ec2.NatGateway(
        `${name}-nat-${i}`,
        {
          allocationId: eip.id,
          subnetId: publicSubnets[i]!.id,
          tags: { ...tags, Name: `${name}-nat-${i}` },
        },
        { parent: this, dependsOn: [igw] },
      );
    });

    const privateRts: aws.ec2.RouteTable[] = [];
    const privateSubnets = cidrs.private.map((cidrBlock, i) => {
      const subnet = new aws.ec2.Subnet(
        `${name}-private-${i}`,
        {
          vpcId: vpc.id,
          cidrBlock,
          availabilityZone: azs[i]!,
          mapPublicIpOnLaunch: false,
          tags: { ...tags, ...clusterTag, Name: `${name}-private-${i}`, tier: 'private', 'kubernetes.io/role/internal-elb': '1' },
        },
        parent,
      );
      // Routes are separate resources, not inline `routes`: the peer stack adds its VPC-peering route to these
      // tables, and an inline list would remove it on this stack's next update.
      const rt = new aws.ec2.RouteTable(`${name}-private-rt-${i}`, { vpcId: vpc.id, tags: { ...tags, Name: `${name}-private-${i}` } }, parent);
      new aws.ec2.Route(
        `${name}-private-default-${i}`,
        { routeTableId: rt.id, destinationCidrBlock: '0.0.0.0/0', natGatewayId: nats[i % natCount]!.id },
        parent,
      );
      new aws.ec2.RouteTableAssociation(`${name}-private-${i}`, { subnetId: subnet.id, routeTableId: rt.id }, parent);
      privateRts.push(rt);
      return subnet;
    });

    const region = aws.getRegionOutput({}, { parent: this }).region;
    new aws.ec2.VpcEndpoint(
      `${name}-s3`,
      {
        vpcId: vpc.id,
        serviceName: pulumi.interpolate`com.amazonaws.${region}.s3`,
        vpcEndpointType: 'Gateway',
        routeTableIds: privateRts.map((rt) => rt.id),
        tags,
      },
      parent,
    );
    const endpointSg = new aws.ec2.SecurityGroup(
      `${name}-endpoints`,
      {
        vpcId: vpc.id,
        description: 'HTTPS from the VPC to interface endpoints',
        ingress: [{ protocol: 'tcp', fromPort: 443, toPort: 443, cidrBlocks: [args.cidr], description: 'VPC' }],
        tags,
      },
      parent,
    );
    for (const svc of ['ecr.api', 'ecr.dkr', 'sts']) {
      new aws.ec2.VpcEndpoint(
        `${name}-${svc.replace('.', '-')}`,
        {
          vpcId: vpc.id,
          serviceName: pulumi.interpolate`com.amazonaws.${region}.${svc}`,
          vpcEndpointType: 'Interface',
          privateDnsEnabled: true,
          subnetIds: privateSubnets.map((s) => s.id),
          securityGroupIds: [endpointSg.id],
          tags,
        },
        parent,
      );
    }

    const flowLogGroup = new aws.cloudwatch.LogGroup(
      `${name}-flow-logs`,
      {
        retentionInDays: args.flowLogRetentionDays ?? 30,
        tags,
      },
      parent,
    );
    const flowRole = new aws.iam.Role(
      `${name}-flow-logs`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'vpc-flow-logs.amazonaws.com' } }],
        }),
        inlinePolicies: [
          {
            name: 'write-logs',
            policy: JSON.stringify({
              Version: '2012-10-17',
              Statement: [
                { Effect: 'Allow', Resource: '*', Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogGroups', 'logs:DescribeLogStreams'] },
              ],
            }),
          },
        ],
        tags,
      },
      parent,
    );
    new aws.ec2.FlowLog(
      `${name}-flow-log`,
      {
        vpcId: vpc.id,
        trafficType: 'ALL',
        logDestinationType: 'cloud-watch-logs',
        logDestination: flowLogGroup.arn,
        iamRoleArn: flowRole.arn,
        tags,
      },
      parent,
    );

    this.vpcId = vpc.id;
    this.cidr = args.cidr;
    this.publicSubnetIds = publicSubnets.map((s) => s.id);
    this.privateSubnetIds = privateSubnets.map((s) => s.id);
    this.privateRouteTableIds = privateRts.map((rt) => rt.id);
    this.registerOutputs({ vpcId: this.vpcId, publicSubnetIds: this.publicSubnetIds, privateSubnetIds: this.privateSubnetIds });
  }
}
