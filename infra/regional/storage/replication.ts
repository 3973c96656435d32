import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { assumeRolePolicy, policy } from '../cluster/iam.js';

/** A bucket as a replication end: name (source only), ARN and the KMS key its objects are encrypted with. */
export interface ReplicationEnd {
  readonly bucketName?: pulumi.Input<string>;
  readonly bucketArn: pulumi.Input<string>;
  readonly kmsKeyArn: pulumi.Input<string>;
}

/** Arguments of {@link createReplication}. */
export interface ReplicationArgs {
  readonly source: ReplicationEnd & { readonly bucketName: pulumi.Input<string> };
  readonly destination: ReplicationEnd;
  /** Rule id, e.g. `to-eu-west-1`. */
  readonly ruleId: string;
  readonly tags: Record<string, string>;
}

/**
 * One direction of S3 replication: an IAM role S3 assumes (read the source versions, decrypt with the source
 * key, write replicas encrypted with the destination key) and the source bucket's replication config.
 * Both ends must exist when this runs: one is the stack's own bucket, the other is read from the peer stack's
 * outputs (a StackReference), never a name built by hand. `opts.provider` must be the source bucket's region.
 */
export function createReplication(name: string, args: ReplicationArgs, opts: pulumi.CustomResourceOptions): aws.s3.BucketReplicationConfig {
  const { source, destination } = args;
  const role = new aws.iam.Role(
    `${name}-role`,
    {
      assumeRolePolicy: assumeRolePolicy('s3.amazonaws.com'),
      inlinePolicies: [
        {
          name: 'replicate',
          policy: policy([
            { Action: ['s3:GetReplicationConfiguration', 's3:ListBucket'], Resource: source.bucketArn },
            {
              Action: ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'],
              Resource: pulumi.interpolate`${source.bucketArn}/*`,
            },
            { Action: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'], Resource: pulumi.interpolate`${destination.bucketArn}/*` },
            { Action: 'kms:Decrypt', Resource: source.kmsKeyArn },
            { Action: 'kms:Encrypt', Resource: destination.kmsKeyArn },
          ]),
        },
      ],
      tags: args.tags,
    },
    { parent: opts.parent },
  );
  return new aws.s3.BucketReplicationConfig(
    name,
    {
      bucket: source.bucketName,
      role: role.arn,
      rules: [
        {
          id: args.ruleId,
          status: 'Enabled',
          filter: {},
          deleteMarkerReplication: { status: 'Enabled' },
          sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: 'Enabled' } },
          destination: { bucket: destination.bucketArn, storageClass: 'STANDARD', encryptionConfiguration: { replicaKmsKeyId: destination.kmsKeyArn } },
        },
      ],
    },
    opts,
  );
}
