import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { assumeRolePolicy, policy } from '../cluster/iam.js';

/** Connection endpoints of one shard in this region. */
export interface ShardEndpoints {
  id: string;
  /**
   * Where writes go. In a global database: the global writer endpoint, which Aurora points at the writer of
   * whichever cluster is primary, in every region and after a switchover or failover (docs/decisions.md).
   * Without one (single region): the RDS Proxy default (read/write) endpoint.
   */
  writer: pulumi.Output<string>;
  /** RDS Proxy read-only endpoint over this region's reader instances. */
  reader: pulumi.Output<string>;
  /** The proxy's default endpoint: read/write only while this region's cluster is primary; not for the app's writes. */
  proxyEndpoint: pulumi.Output<string>;
  clusterIdentifier: pulumi.Output<string>;
}

/** What a shard shares with its siblings, prepared by the Database component. */
export interface ShardContext {
  readonly name: string;
  readonly region: string;
  readonly role: 'primary' | 'secondary';
  /** Part of an Aurora global database. */
  readonly global: boolean;
  readonly globalClusterId: string;
  /** Global writer endpoint of this shard, read from the primary's outputs; required for a global secondary. */
  readonly globalWriterEndpoint?: pulumi.Input<string>;
  readonly engineVersion: string;
  readonly instanceClass: pulumi.Input<string>;
  readonly readers: number;
  readonly backupRetentionDays: number;
  readonly deletionProtection: boolean;
  readonly username: string;
  readonly password: pulumi.Input<string>;
  readonly kmsKey: aws.kms.Key;
  readonly subnetGroupName: pulumi.Input<string>;
  readonly subnetIds: pulumi.Input<string>[];
  readonly securityGroupId: pulumi.Input<string>;
  readonly parameterGroupName: pulumi.Input<string>;
  readonly tags: Record<string, string>;
}

const ENGINE = 'aurora-postgresql';

/**
 * One shard: the Aurora global cluster (created by the primary region only; none for a single-region
 * stack), this region's cluster
 * (primary: master credentials; secondary: joins the global cluster, no credentials), writer + reader
 * instances, and an RDS Proxy whose read-only endpoint serves this region's reads. Writes use the global
 * writer endpoint (global) or the proxy's default endpoint (single region).
 */
export function createShard(shardId: string, ctx: ShardContext, parent: pulumi.Resource): ShardEndpoints {
  const n = `${ctx.name}-shard-${shardId}`;
  const opts = { parent };
  const stateful = { parent, protect: ctx.deletionProtection };
  const clusterIdentifier = `${ctx.name}-${ctx.region}-shard-${shardId}`;

  let globalClusterIdentifier: pulumi.Input<string> | undefined = ctx.global ? ctx.globalClusterId : undefined;
  let globalWriter: pulumi.Input<string> | undefined = ctx.global ? ctx.globalWriterEndpoint : undefined;
  if (ctx.global && ctx.role === 'primary') {
    const global = new aws.rds.GlobalCluster(
      `${n}-global`,
      {
        globalClusterIdentifier: ctx.globalClusterId,
        engine: ENGINE,
        engineVersion: ctx.engineVersion,
        storageEncrypted: true,
        deletionProtection: ctx.deletionProtection,
      },
      stateful,
    );
    globalClusterIdentifier = global.id;
    globalWriter = global.endpoint;
  }
  if (ctx.global && !globalWriter) {
    throw new pulumi.ResourceError(
      `shard ${shardId}: a global secondary needs the global writer endpoint (the primary stack's globalWriterEndpoints output)`,
      parent,
    );
  }

  const common: aws.rds.ClusterArgs = {
    clusterIdentifier,
    engine: ENGINE,
    engineVersion: ctx.engineVersion,
    ...(globalClusterIdentifier ? { globalClusterIdentifier } : {}),
    dbSubnetGroupName: ctx.subnetGroupName,
    vpcSecurityGroupIds: [ctx.securityGroupId],
    dbClusterParameterGroupName: ctx.parameterGroupName,
    storageEncrypted: true,
    kmsKeyId: ctx.kmsKey.arn,
    backupRetentionPeriod: ctx.backupRetentionDays,
    preferredBackupWindow: '03:00-04:00',
    copyTagsToSnapshot: true,
    deletionProtection: ctx.deletionProtection,
    skipFinalSnapshot: !ctx.deletionProtection,
    ...(ctx.deletionProtection ? { finalSnapshotIdentifier: `${clusterIdentifier}-final` } : {}),
    enabledCloudwatchLogsExports: ['postgresql'],
    iamDatabaseAuthenticationEnabled: true,
    tags: ctx.tags,
  };
  const cluster =
    ctx.role === 'primary'
      ? new aws.rds.Cluster(
          `${n}-cluster`,
          { ...common, masterUsername: ctx.username, masterPassword: pulumi.secret(ctx.password), databaseName: 'umcp' },
          stateful,
        )
      : // A secondary inherits credentials and database from the global cluster; AWS rejects a password here.
        // No write forwarding: the app writes through the global writer endpoint in every region (decisions.md).
        new aws.rds.Cluster(`${n}-cluster`, common, { ...stateful, ignoreChanges: ['replicationSourceIdentifier', 'globalClusterIdentifier'] });

  // Instance 0 is the writer (in a secondary region: the writer after a managed failover).
  const instances = Array.from(
    { length: 1 + ctx.readers },
    (_, i) =>
      new aws.rds.ClusterInstance(
        `${n}-${i}`,
        {
          identifier: `${clusterIdentifier}-${i}`,
          clusterIdentifier: cluster.id,
          instanceClass: ctx.instanceClass,
          engine: ENGINE,
          engineVersion: ctx.engineVersion,
          dbSubnetGroupName: ctx.subnetGroupName,
          publiclyAccessible: false,
          promotionTier: i === 0 ? 0 : 1,
          autoMinorVersionUpgrade: true,
          performanceInsightsEnabled: true,
          performanceInsightsKmsKeyId: ctx.kmsKey.arn,
          tags: ctx.tags,
        },
        opts,
      ),
  );

  const secret = new aws.secretsmanager.Secret(`${n}-proxy-auth`, { kmsKeyId: ctx.kmsKey.arn, recoveryWindowInDays: 7, tags: ctx.tags }, opts);
  new aws.secretsmanager.SecretVersion(
    `${n}-proxy-auth`,
    {
      secretId: secret.id,
      secretString: pulumi.secret(pulumi.jsonStringify({ username: ctx.username, password: ctx.password })),
    },
    opts,
  );
  const proxyRole = new aws.iam.Role(
    `${n}-proxy`,
    {
      assumeRolePolicy: assumeRolePolicy('rds.amazonaws.com'),
      inlinePolicies: [
        {
          name: 'read-secret',
          policy: policy([
            { Action: 'secretsmanager:GetSecretValue', Resource: secret.arn },
            { Action: 'kms:Decrypt', Resource: ctx.kmsKey.arn },
          ]),
        },
      ],
      tags: ctx.tags,
    },
    opts,
  );
  const proxy = new aws.rds.Proxy(
    `${n}-proxy`,
    {
      name: `${ctx.name}-shard-${shardId}`,
      engineFamily: 'POSTGRESQL',
      requireTls: true,
      idleClientTimeout: 1800,
      roleArn: proxyRole.arn,
      vpcSubnetIds: ctx.subnetIds,
      vpcSecurityGroupIds: [ctx.securityGroupId],
      auths: [{ authScheme: 'SECRETS', iamAuth: 'DISABLED', secretArn: secret.arn }],
      tags: ctx.tags,
    },
    opts,
  );
  const targetGroup = new aws.rds.ProxyDefaultTargetGroup(
    `${n}-proxy`,
    {
      dbProxyName: proxy.name,
      connectionPoolConfig: { maxConnectionsPercent: 90, maxIdleConnectionsPercent: 30, connectionBorrowTimeout: 30 },
    },
    opts,
  );
  new aws.rds.ProxyTarget(
    `${n}-proxy`,
    {
      dbProxyName: proxy.name,
      targetGroupName: targetGroup.name,
      dbClusterIdentifier: cluster.clusterIdentifier,
    },
    { parent, dependsOn: instances },
  );
  const readerEndpoint = new aws.rds.ProxyEndpoint(
    `${n}-proxy-ro`,
    {
      dbProxyName: proxy.name,
      dbProxyEndpointName: `${ctx.name}-shard-${shardId}-ro`,
      targetRole: 'READ_ONLY',
      vpcSubnetIds: ctx.subnetIds,
      vpcSecurityGroupIds: [ctx.securityGroupId],
      tags: ctx.tags,
    },
    opts,
  );

  return {
    id: shardId,
    writer: globalWriter ? pulumi.output(globalWriter) : proxy.endpoint,
    reader: readerEndpoint.endpoint,
    proxyEndpoint: proxy.endpoint,
    clusterIdentifier: cluster.clusterIdentifier,
  };
}
