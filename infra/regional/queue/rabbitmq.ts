import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';

/** Arguments of {@link RabbitBroker}. */
export interface RabbitBrokerArgs {
  /** Broker name (`<namePrefix>-tasks`). */
  readonly namePrefix: string;
  /** `CLUSTER_MULTI_AZ` (three nodes across AZs; prod) or `SINGLE_INSTANCE`. */
  readonly deploymentMode: 'CLUSTER_MULTI_AZ' | 'SINGLE_INSTANCE';
  /** @defaultValue "mq.m5.large" */
  readonly instanceType?: string;
  /** Amazon MQ for RabbitMQ engine version. @defaultValue "3.13" */
  readonly engineVersion?: string;
  readonly vpcId: pulumi.Input<string>;
  /** Private subnets only (one is used by a single instance). */
  readonly subnetIds: pulumi.Input<string>[];
  /** CIDRs allowed on AMQPS 5671 (the VPC, the peered cluster). */
  readonly allowedCidrs: string[];
  /** @defaultValue {} */
  readonly tags?: Record<string, string>;
}

/**
 * The task queue on Amazon MQ for RabbitMQ (TASK_QUEUE_BACKEND=rabbitmq, service/src/tasks/queues/rabbitmq.ts):
 * a private broker (no public endpoint, private subnets, AMQPS from the VPC only), a cluster of three nodes
 * across AZs in prod so its quorum queues survive losing a node. The application user's password is
 * generated here and only leaves as the secret AMQP_URL.
 */
export class RabbitBroker extends pulumi.ComponentResource {
  /** `amqps://user:password@host:5671` (secret). */
  readonly amqpUrl: pulumi.Output<string>;
  readonly brokerArn: pulumi.Output<string>;

  constructor(name: string, args: RabbitBrokerArgs, opts?: pulumi.ComponentResourceOptions) {
    super('unified-mcp:regional:RabbitBroker', name, {}, opts);
    const parent = { parent: this };
    const tags = args.tags ?? {};
    // Amazon MQ passwords: 12+ characters, no commas, colons or equal signs (kept URL-safe: letters and digits).
    const password = pulumi.secret(new random.RandomPassword(`${name}-password`, { length: 32, special: false }, parent).result);
    const username = 'umcp';
    const sg = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        vpcId: args.vpcId,
        description: 'AMQPS to the task queue broker from inside the VPC',
        ingress: [{ protocol: 'tcp', fromPort: 5671, toPort: 5671, cidrBlocks: args.allowedCidrs, description: 'AMQPS' }],
        egress: [],
        tags,
      },
      parent,
    );
    const broker = new aws.mq.Broker(
      `${name}-broker`,
      {
        brokerName: `${args.namePrefix}-tasks`,
        engineType: 'RabbitMQ',
        engineVersion: args.engineVersion ?? '3.13',
        autoMinorVersionUpgrade: true,
        hostInstanceType: args.instanceType ?? 'mq.m5.large',
        deploymentMode: args.deploymentMode,
        publiclyAccessible: false,
        subnetIds: args.deploymentMode === 'SINGLE_INSTANCE' ? [args.subnetIds[0]!] : args.subnetIds,
        securityGroups: [sg.id],
        users: [{ username, password }],
        logs: { general: true },
        maintenanceWindowStartTime: { dayOfWeek: 'SUNDAY', timeOfDay: '03:00', timeZone: 'UTC' },
        tags,
      },
      { ...parent, additionalSecretOutputs: ['users'] },
    );
    // The endpoint is `amqps://host:5671`: the credentials go between scheme and host.
    this.amqpUrl = pulumi.secret(
      pulumi
        .all([broker.instances, password])
        .apply(([instances, pw]) =>
          (instances?.[0]?.endpoints?.[0] ?? 'amqps://pending:5671').replace('amqps://', `amqps://${username}:${encodeURIComponent(pw)}@`),
        ),
    );
    this.brokerArn = broker.arn;
    this.registerOutputs({ brokerArn: this.brokerArn });
  }
}
