import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

/** The two Redis roles (docs: ARCHITECTURE "Two Redis roles"). */
export type CacheRole = 'state' | 'cache';

/** Arguments of {@link Cache}. */
export interface CacheArgs {
  /** `primary` owns the cache role's global datastore; `secondary` joins it. @defaultValue "primary" */
  readonly role?: 'primary' | 'secondary';
  /** Create a global datastore for the cache role (needs a peer region). @defaultValue false */
  readonly globalDatastore?: boolean;
  /**
   * Id of the primary's global datastore; required for `secondary` with `globalDatastore`. The regional
   * program reads it from the primary stack's `cacheGlobalReplicationGroupId` output (StackReference).
   */
  readonly globalReplicationGroupId?: pulumi.Input<string>;
  /** @defaultValue "cache.r7g.large" */
  readonly nodeType?: pulumi.Input<string>;
  /** Nodes per replication group (1 primary + replicas), 2..6. @defaultValue 2 */
  readonly nodes?: number;
  /** @defaultValue "7.1" */
  readonly engineVersion?: string;
  /** AUTH token (secret), 16-128 characters. */
  readonly authToken: pulumi.Input<string>;
  readonly vpcId: pulumi.Input<string>;
  /** Private subnets only. */
  readonly subnetIds: pulumi.Input<string>[];
  /** CIDRs allowed on 6379 (the VPC). */
  readonly allowedCidrs: string[];
  /** @defaultValue 7 */
  readonly snapshotRetentionDays?: number;
  /** Pulumi `protect` on the replication groups (prod). @defaultValue false */
  readonly protect?: boolean;
  /** @defaultValue {} */
  readonly tags?: Record<string, string>;
}

/** Connection details of one Redis role. */
export interface RedisEndpoint {
  host: pulumi.Output<string>;
  readerHost: pulumi.Output<string>;
  port: number;
}

/** Rejects contradictory args; returns the message or undefined. */
export function checkCacheArgs(args: CacheArgs): string | undefined {
  const nodes = args.nodes ?? 2;
  if (nodes < 2 || nodes > 6) return `nodes must be 2..6 for multi-AZ automatic failover, found ${nodes}`;
  if (args.role === 'secondary' && args.globalDatastore && !args.globalReplicationGroupId) {
    return 'a secondary region joining the global datastore needs globalReplicationGroupId (the primary stack output cacheGlobalReplicationGroupId, read through a StackReference)';
  }
  if (args.role !== 'secondary' && args.globalReplicationGroupId) {
    return 'globalReplicationGroupId is only for a secondary region; the primary creates the global datastore';
  }
  return undefined;
}

/**
 * ElastiCache Redis replication groups for the two roles: multi-AZ with automatic failover, TLS in
 * transit, KMS at rest, AUTH token. `state` is `noeviction` and writable in every region; `cache` is LRU
 * and, with a peer region, replicated through a global datastore (read-only in the secondary).
 */
export class Cache extends pulumi.ComponentResource {
  readonly state: RedisEndpoint;
  readonly cache: RedisEndpoint;
  /** Id of the cache role's global datastore (primary with globalDatastore), for the secondary's config. */
  readonly globalReplicationGroupId?: pulumi.Output<string>;

  constructor(name: string, args: CacheArgs, opts?: pulumi.ComponentResourceOptions) {
    super('unified-mcp:cache:Cache', name, {}, opts);
    const problem = checkCacheArgs(args);
    if (problem) throw new pulumi.ResourceError(problem, this);
    const parent = { parent: this };
    const stateful = { parent: this, protect: args.protect ?? false };
    const tags = args.tags ?? {};
    const engineVersion = args.engineVersion ?? '7.1';
    const family = `redis${engineVersion.split('.')[0]}`;

    const kmsKey = new aws.kms.Key(
      `${name}-kms`,
      { description: `ElastiCache at-rest encryption for ${name}`, enableKeyRotation: true, deletionWindowInDays: 30, tags },
      parent,
    );
    const subnetGroup = new aws.elasticache.SubnetGroup(`${name}-subnets`, { subnetIds: args.subnetIds, tags }, parent);
    const sg = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        vpcId: args.vpcId,
        description: 'Redis from inside the VPC',
        ingress: [{ protocol: 'tcp', fromPort: 6379, toPort: 6379, cidrBlocks: args.allowedCidrs, description: 'VPC' }],
        tags,
      },
      parent,
    );
    const logGroup = new aws.cloudwatch.LogGroup(`${name}-slow-log`, { retentionInDays: 30, tags }, parent);

    const group = (role: CacheRole, joinGlobal?: pulumi.Input<string>): aws.elasticache.ReplicationGroup => {
      const params = new aws.elasticache.ParameterGroup(
        `${name}-${role}`,
        {
          family,
          parameters: [{ name: 'maxmemory-policy', value: role === 'state' ? 'noeviction' : 'allkeys-lru' }],
          tags,
        },
        parent,
      );
      const placement = {
        description: `unified-mcp ${role} Redis`,
        subnetGroupName: subnetGroup.name,
        securityGroupIds: [sg.id],
        numCacheClusters: args.nodes ?? 2,
        automaticFailoverEnabled: true,
        multiAzEnabled: true,
        snapshotRetentionLimit: args.snapshotRetentionDays ?? 7,
        logDeliveryConfigurations: [{ destination: logGroup.name, destinationType: 'cloudwatch-logs', logFormat: 'json', logType: 'slow-log' }],
        tags,
      };
      if (joinGlobal) {
        // Engine, node type, encryption and AUTH are inherited from the global datastore's primary group.
        return new aws.elasticache.ReplicationGroup(
          `${name}-${role}`,
          {
            ...placement,
            replicationGroupId: `${name}-${role}`,
            globalReplicationGroupId: joinGlobal,
          },
          stateful,
        );
      }
      return new aws.elasticache.ReplicationGroup(
        `${name}-${role}`,
        {
          ...placement,
          replicationGroupId: `${name}-${role}`,
          engine: 'redis',
          engineVersion,
          nodeType: args.nodeType ?? 'cache.r7g.large',
          parameterGroupName: params.name,
          port: 6379,
          atRestEncryptionEnabled: true,
          kmsKeyId: kmsKey.arn,
          transitEncryptionEnabled: true,
          transitEncryptionMode: 'required',
          authToken: pulumi.secret(args.authToken),
          authTokenUpdateStrategy: 'ROTATE',
        },
        stateful,
      );
    };

    const state = group('state');
    const secondaryJoin = args.role === 'secondary' && args.globalDatastore ? args.globalReplicationGroupId : undefined;
    const cache = group('cache', secondaryJoin);
    if (args.globalDatastore && args.role !== 'secondary') {
      const global = new aws.elasticache.GlobalReplicationGroup(
        `${name}-cache-global`,
        {
          globalReplicationGroupIdSuffix: `${name}-cache`,
          primaryReplicationGroupId: cache.id,
          globalReplicationGroupDescription: 'unified-mcp catalog/config cache, read-only in secondary regions',
        },
        parent,
      );
      this.globalReplicationGroupId = global.globalReplicationGroupId;
    }

    const endpoint = (g: aws.elasticache.ReplicationGroup): RedisEndpoint => ({
      host: g.primaryEndpointAddress,
      readerHost: g.readerEndpointAddress,
      port: 6379,
    });
    this.state = endpoint(state);
    this.cache = endpoint(cache);
    this.registerOutputs({ stateHost: this.state.host, cacheHost: this.cache.host, globalReplicationGroupId: this.globalReplicationGroupId });
  }
}
