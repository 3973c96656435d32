import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { createReplication } from './replication.js';

/** Arguments of {@link Storage}. */
export interface StorageArgs {
  /** Bucket name prefix; the bucket is `<bucketPrefix>-<region>`, its peer `<bucketPrefix>-<peerRegion>`. */
  readonly bucketPrefix: string;
  readonly region: string;
  /** Region of the peer bucket to replicate to. @defaultValue none (no replication) */
  readonly peerRegion?: string;
  /**
   * Replicate objects between this bucket and the peer's. The secondary region creates both directions (it
   * deploys second, when the primary's bucket exists); the primary creates none. @defaultValue true when peerRegion is set
   */
  readonly replicateToPeer?: boolean;
  /** `secondary` creates the replication in both directions from `peer`. @defaultValue "primary" */
  readonly role?: 'primary' | 'secondary';
  /** The primary's bucket, read from its stack outputs, and the provider of its region; required for a replicating secondary. */
  readonly peer?: {
    readonly bucketName: pulumi.Input<string>;
    readonly bucketArn: pulumi.Input<string>;
    readonly kmsKeyArn: pulumi.Input<string>;
    readonly provider: pulumi.ProviderResource;
  };
  /** Days before noncurrent object versions expire. @defaultValue 30 */
  readonly noncurrentVersionDays?: pulumi.Input<number>;
  /** Keep the bucket on `pulumi destroy` (Pulumi protect) and refuse non-empty deletes. @defaultValue true */
  readonly protect?: boolean;
  /** @defaultValue {} */
  readonly tags?: Record<string, string>;
}

/** Rejects contradictory args; returns the message or undefined. */
export function checkStorageArgs(args: StorageArgs): string | undefined {
  if (args.replicateToPeer && !args.peerRegion) return 'replicateToPeer needs peerRegion';
  if (args.peerRegion === args.region) return 'peerRegion must differ from region';
  if (args.role === 'secondary' && args.peerRegion && (args.replicateToPeer ?? true) && !args.peer) {
    return 'a replicating secondary needs peer (the primary bucket, its KMS key and a provider of its region, from the primary stack outputs)';
  }
  const name = `${args.bucketPrefix}-${args.region}`;
  if (name.length > 63) return `bucket name "${name}" exceeds 63 characters; shorten bucketPrefix`;
  return undefined;
}

/**
 * The object store for large task results: versioned, SSE-KMS with a bucket key, public access blocked,
 * TLS-only bucket policy, lifecycle for old versions and aborted uploads, replication to the peer region.
 */
export class Storage extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  readonly bucketArn: pulumi.Output<string>;
  readonly kmsKeyArn: pulumi.Output<string>;

  constructor(name: string, args: StorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super('unified-mcp:storage:Storage', name, {}, opts);
    const problem = checkStorageArgs(args);
    if (problem) throw new pulumi.ResourceError(problem, this);
    const parent = { parent: this };
    const tags = args.tags ?? {};
    const aliasName = `alias/${args.bucketPrefix}-s3`;

    const key = new aws.kms.Key(
      `${name}-kms`,
      { description: `S3 SSE for ${args.bucketPrefix}`, enableKeyRotation: true, deletionWindowInDays: 30, tags },
      parent,
    );
    // A stable name for operators; replication uses the key ARN, which the primary exports to its secondary.
    new aws.kms.Alias(`${name}-kms`, { name: aliasName, targetKeyId: key.keyId }, parent);
    const bucket = new aws.s3.Bucket(
      `${name}-bucket`,
      {
        bucket: `${args.bucketPrefix}-${args.region}`,
        forceDestroy: false,
        tags,
      },
      { parent: this, protect: args.protect ?? true },
    );

    new aws.s3.BucketOwnershipControls(`${name}-ownership`, { bucket: bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } }, parent);
    const pab = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      {
        bucket: bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      parent,
    );
    const versioning = new aws.s3.BucketVersioning(`${name}-versioning`, { bucket: bucket.id, versioningConfiguration: { status: 'Enabled' } }, parent);
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-sse`,
      {
        bucket: bucket.id,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: key.arn }, bucketKeyEnabled: true }],
      },
      parent,
    );
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      {
        bucket: bucket.id,
        rules: [
          { id: 'expire-noncurrent', status: 'Enabled', filter: {}, noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionDays ?? 30 } },
          { id: 'abort-multipart', status: 'Enabled', filter: {}, abortIncompleteMultipartUpload: { daysAfterInitiation: 7 } },
          { id: 'results-to-ia', status: 'Enabled', filter: { prefix: 'results/' }, transitions: [{ days: 30, storageClass: 'STANDARD_IA' }] },
        ],
      },
      { parent: this, dependsOn: [versioning] },
    );
    new aws.s3.BucketPolicy(
      `${name}-tls-only`,
      {
        bucket: bucket.id,
        policy: pulumi.jsonStringify({
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'DenyInsecureTransport',
              Effect: 'Deny',
              Principal: '*',
              Action: 's3:*',
              Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
          ],
        }),
      },
      { parent: this, dependsOn: [pab] },
    );

    if (args.role === 'secondary' && args.peerRegion && args.peer && (args.replicateToPeer ?? true)) {
      // Created by the stack that deploys second, so both buckets exist: ours (this stack) and the primary's
      // (its outputs, read through a StackReference). Replicas are not replicated again, so two one-way rules
      // do not loop. The primary's rule is applied in its region, through the peer provider.
      const own = { bucketName: bucket.bucket, bucketArn: bucket.arn, kmsKeyArn: key.arn };
      createReplication(
        `${name}-to-peer`,
        { source: own, destination: args.peer, ruleId: `to-${args.peerRegion}`, tags },
        { parent: this, dependsOn: [versioning] },
      );
      createReplication(
        `${name}-from-peer`,
        { source: args.peer, destination: own, ruleId: `to-${args.region}`, tags },
        { parent: this, provider: args.peer.provider, dependsOn: [versioning] },
      );
    }

    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.kmsKeyArn = key.arn;
    this.registerOutputs({ bucketName: this.bucketName, bucketArn: this.bucketArn, kmsKeyArn: this.kmsKeyArn });
  }
}
