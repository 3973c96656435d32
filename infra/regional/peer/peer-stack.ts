/**
 * How a secondary region reads its primary: a StackReference to the primary's regional stack and the output
 * names the two halves agree on. The primary deploys first and exports these; the secondary (second in
 * `npm run deploy`) reads them, so no id is copied by hand and a re-run reads the same values again.
 * Leaves out: what the secondary creates from them (platform.ts, vpc-peering.ts, storage/replication.ts).
 */
import * as pulumi from '@pulumi/pulumi';

/** Outputs of a primary regional stack that its secondary reads (a contract, like REGIONAL_OUTPUTS of infra/global). */
export const PEER_OUTPUTS = {
  /** `{ "<shardId>": "<global writer endpoint host>" }`: the Aurora global database writer endpoint per shard. */
  globalWriterEndpoints: 'globalWriterEndpoints',
  /** Id of the ElastiCache global datastore of the cache role. */
  cacheGlobalReplicationGroupId: 'cacheGlobalReplicationGroupId',
  /** The object bucket and the KMS key encrypting it (replication source and destination). */
  bucketName: 'bucketName',
  bucketArn: 'bucketArn',
  bucketKmsKeyArn: 'bucketKmsKeyArn',
  /** VPC, its CIDR and its private route tables (one per AZ): the peering and its return routes. */
  vpcId: 'vpcId',
  vpcCidr: 'vpcCidr',
  privateRouteTableIds: 'privateRouteTableIds',
  region: 'region',
  /**
   * The shared secrets (secret outputs; SHARED_SECRETS of infra/regional/secrets/shared-secrets.ts): the
   * primary's effective values (config or generated), which the Aurora global database, the cache global
   * datastore and request-state sealing need identical in every region.
   */
  dbPassword: 'dbPassword',
  redisAuthToken: 'redisAuthToken',
  adminApiKey: 'adminApiKey',
  requestStateKeys: 'requestStateKeys',
} as const;

export type PeerOutputName = keyof typeof PEER_OUTPUTS;

/** What decides the peer stack's name; a subset of the regional config. */
export interface PeerStackNaming {
  readonly environment: string;
  readonly peerRegion?: string;
  readonly peerStack?: string;
}

/**
 * `<org>/<project>/<environment>-<peerRegion>` (the naming of stacks/Pulumi.<env>-<region>.yaml), or the
 * `peerStack` override. `organization` and `project` default to the running program's.
 */
export function peerStackName(cfg: PeerStackNaming, organization?: string, project?: string): string {
  if (cfg.peerStack) return cfg.peerStack;
  if (!cfg.peerRegion) throw new Error('peerStackName: no peerRegion and no peerStack');
  return `${organization ?? pulumi.getOrganization()}/${project ?? pulumi.getProject()}/${cfg.environment}-${cfg.peerRegion}`;
}

/** The primary's outputs, read through one StackReference, each failing with the fix when missing. */
export class PeerStack {
  readonly name: string;
  private readonly ref: pulumi.StackReference;

  constructor(resourceName: string, stackName: string, opts: pulumi.CustomResourceOptions) {
    this.name = stackName;
    this.ref = new pulumi.StackReference(resourceName, { name: stackName }, opts);
  }

  /** Output `key`; rejects naming the stack and how to fix it when the primary has not exported it yet. */
  require<T>(key: PeerOutputName): pulumi.Output<T> {
    const output = PEER_OUTPUTS[key];
    return this.ref.getOutput(output).apply((v) => {
      if (v === undefined || v === null) {
        throw new pulumi.ResourceError(
          `StackReference "${this.name}": output "${output}" is missing: deploy the primary region first ` +
            `(npm run deploy -- --env <env> does, in order) or set unified-mcp:peerStack to the primary's stack`,
          this.ref,
        );
      }
      return v as T;
    });
  }
}
