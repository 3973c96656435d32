import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { createShard, type ShardEndpoints } from './shard.js';

/** Arguments of {@link Database}. */
export interface DatabaseArgs {
  /** Shard ids; one Aurora global cluster each. @defaultValue ["0"] */
  readonly shards?: string[];
  /** `primary` creates the global clusters and holds the writer; `secondary` joins them. @defaultValue "primary" */
  readonly role?: 'primary' | 'secondary';
  /** Prefix of the global cluster ids (`<prefix>-shard-<id>`), the same in every region of the environment. */
  readonly globalClusterPrefix: string;
  /**
   * Make each shard an Aurora global database (needs a peer region and r-class instances; burstable
   * classes are not supported by global databases). @defaultValue true
   */
  readonly global?: boolean;
  /**
   * Global writer endpoint per shard id, from the primary stack's `globalWriterEndpoints` output; required
   * for `secondary` (the primary takes it from its own GlobalCluster).
   */
  readonly globalWriterEndpoints?: pulumi.Input<Record<string, string>>;
  /** Region, part of the regional cluster ids. */
  readonly region: string;
  /** @defaultValue "16.6" */
  readonly engineVersion?: string;
  /** @defaultValue "db.r6g.large" */
  readonly instanceClass?: pulumi.Input<string>;
  /** Reader instances per shard (besides the writer). @defaultValue 1 */
  readonly readers?: number;
  /** @defaultValue 7 */
  readonly backupRetentionDays?: number;
  /** Deletion protection plus Pulumi `protect` and a final snapshot. @defaultValue true */
  readonly deletionProtection?: boolean;
  /** @defaultValue "app" */
  readonly username?: string;
  /** Master password (secret); set on the primary cluster, stored for RDS Proxy in both regions. */
  readonly password: pulumi.Input<string>;
  readonly vpcId: pulumi.Input<string>;
  /** Private subnets only: the database is never reachable from outside the VPC. */
  readonly subnetIds: pulumi.Input<string>[];
  /** CIDRs allowed to connect on 5432 (the VPC). */
  readonly allowedCidrs: string[];
  /** @defaultValue {} */
  readonly tags?: Record<string, string>;
}

/** Rejects contradictory args; returns the message or undefined. */
export function checkDatabaseArgs(args: DatabaseArgs): string | undefined {
  const shards = args.shards ?? ['0'];
  if (shards.length === 0) return 'shards must list at least one shard id';
  if (new Set(shards).size !== shards.length) return `shards contains duplicates: ${shards.join(', ')}`;
  if ((args.readers ?? 1) < 1) return 'readers must be at least 1 (writer + reader instances per shard)';
  const days = args.backupRetentionDays ?? 7;
  if (days < 1 || days > 35) return `backupRetentionDays must be 1..35, found ${days}`;
  if (args.role === 'secondary' && args.global === false) return 'a secondary region only exists within a global database; set global or role "primary"';
  if (args.role === 'secondary' && !args.globalWriterEndpoints) {
    return 'a secondary region needs globalWriterEndpoints (the primary stack output, read through a StackReference): its own cluster has no writer';
  }
  if (args.global !== false && /^db\.t\d/.test(String(args.instanceClass ?? ''))) {
    return `instanceClass ${String(args.instanceClass)} is burstable; Aurora global databases need db.r* instances`;
  }
  if (args.allowedCidrs.some((c) => c === '0.0.0.0/0')) return 'allowedCidrs must not include 0.0.0.0/0: the database stays private';
  return undefined;
}

/**
 * Aurora PostgreSQL, one global cluster per shard, this region primary or secondary; encrypted with a
 * regional KMS key, private subnets only, TLS enforced, RDS Proxy in front.
 */
export class Database extends pulumi.ComponentResource {
  readonly shards: ShardEndpoints[];
  readonly securityGroupId: pulumi.Output<string>;

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super('unified-mcp:database:Database', name, {}, opts);
    const problem = checkDatabaseArgs(args);
    if (problem) throw new pulumi.ResourceError(problem, this);
    const parent = { parent: this };
    const tags = args.tags ?? {};
    const engineVersion = args.engineVersion ?? '16.6';
    const deletionProtection = args.deletionProtection ?? true;

    const kmsKey = new aws.kms.Key(
      `${name}-kms`,
      { description: `Aurora storage and secrets for ${name}`, enableKeyRotation: true, deletionWindowInDays: 30, tags },
      parent,
    );
    const subnetGroup = new aws.rds.SubnetGroup(`${name}-subnets`, { subnetIds: args.subnetIds, tags }, parent);
    const sg = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        vpcId: args.vpcId,
        description: 'PostgreSQL from inside the VPC',
        ingress: [{ protocol: 'tcp', fromPort: 5432, toPort: 5432, cidrBlocks: args.allowedCidrs, description: 'VPC' }],
        egress: [{ protocol: 'tcp', fromPort: 5432, toPort: 5432, cidrBlocks: args.allowedCidrs, description: 'proxy to instances' }],
        tags,
      },
      parent,
    );
    const params = new aws.rds.ClusterParameterGroup(
      `${name}-params`,
      {
        family: `aurora-postgresql${engineVersion.split('.')[0]}`,
        parameters: [
          { name: 'rds.force_ssl', value: '1' },
          { name: 'log_min_duration_statement', value: '1000' },
        ],
        tags,
      },
      parent,
    );

    this.shards = (args.shards ?? ['0']).map((id) =>
      createShard(
        id,
        {
          name,
          region: args.region,
          role: args.role ?? 'primary',
          global: args.global ?? true,
          globalClusterId: `${args.globalClusterPrefix}-shard-${id}`,
          ...(args.globalWriterEndpoints
            ? {
                globalWriterEndpoint: pulumi.output(args.globalWriterEndpoints).apply((m) => {
                  const host = m[id];
                  if (!host)
                    throw new pulumi.ResourceError(
                      `globalWriterEndpoints has no shard "${id}" (found ${Object.keys(m).join(', ') || 'none'}): the primary and this stack must list the same shards`,
                      this,
                    );
                  return host;
                }),
              }
            : {}),
          engineVersion,
          instanceClass: args.instanceClass ?? 'db.r6g.large',
          readers: args.readers ?? 1,
          backupRetentionDays: args.backupRetentionDays ?? 7,
          deletionProtection,
          username: args.username ?? 'app',
          password: args.password,
          kmsKey,
          subnetGroupName: subnetGroup.name,
          subnetIds: args.subnetIds,
          securityGroupId: sg.id,
          parameterGroupName: params.name,
          tags,
        },
        this,
      ),
    );
    this.securityGroupId = sg.id;
    this.registerOutputs({ shards: this.shards.map((s) => ({ id: s.id, writer: s.writer, reader: s.reader })), securityGroupId: this.securityGroupId });
  }
}
