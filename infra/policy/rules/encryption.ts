/** Encryption at rest and in transit for the data stores and the EKS secrets store. */
import type { PolicyTarget, ResourceRule, StackFinding, StackRule } from '../types.js';
import { at, label, message } from '../util.js';

/** Types whose `storageEncrypted` must be true. Aurora cluster instances inherit it from their cluster. */
const STORAGE_ENCRYPTED_TYPES = new Set(['aws:rds/cluster:Cluster', 'aws:rds/instance:Instance', 'aws:rds/globalCluster:GlobalCluster']);

/** RDS/Aurora storage, ElastiCache at-rest encryption, EKS envelope encryption of Kubernetes secrets. */
export const encryptionAtRest: ResourceRule = {
  kind: 'resource',
  name: 'encryption-at-rest',
  description: 'Databases, caches and the EKS secrets store are encrypted at rest.',
  level: 'mandatory',
  check(r) {
    const p = r.props;
    if (STORAGE_ENCRYPTED_TYPES.has(r.type)) {
      // A global-cluster member created from a source cluster inherits encryption from it.
      if (r.type === 'aws:rds/globalCluster:GlobalCluster' && p['sourceDbClusterIdentifier'] !== undefined) return [];
      return p['storageEncrypted'] === true ? [] : [message(r, 'storageEncrypted', 'true', p['storageEncrypted'])];
    }
    if (r.type === 'aws:elasticache/replicationGroup:ReplicationGroup') {
      // A secondary member of a global datastore inherits encryption from the global group.
      if (p['globalReplicationGroupId'] !== undefined) return [];
      return p['atRestEncryptionEnabled'] === true ? [] : [message(r, 'atRestEncryptionEnabled', 'true', p['atRestEncryptionEnabled'])];
    }
    if (r.type === 'aws:eks/cluster:Cluster') {
      const cfg = p['encryptionConfig'];
      const resources: unknown = cfg?.['resources'];
      const problems: string[] = [];
      if (!Array.isArray(resources) || !resources.includes('secrets')) {
        problems.push(message(r, 'encryptionConfig.resources', '["secrets"] (KMS envelope encryption)', resources));
      }
      if (cfg && !at(cfg, 'provider.keyArn')) {
        problems.push(message(r, 'encryptionConfig.provider.keyArn', 'a KMS key ARN', at(cfg, 'provider.keyArn')));
      }
      return problems;
    }
    return [];
  },
};

/** ElastiCache TLS and, for load balancers, no plain-HTTP listener unless it only redirects to HTTPS. */
export const encryptionInTransit: ResourceRule = {
  kind: 'resource',
  name: 'encryption-in-transit',
  description: 'Caches require TLS; load balancer listeners serve HTTPS (plain HTTP only to redirect).',
  level: 'mandatory',
  check(r) {
    const p = r.props;
    if (r.type === 'aws:elasticache/replicationGroup:ReplicationGroup') {
      if (p['globalReplicationGroupId'] !== undefined) return [];
      return p['transitEncryptionEnabled'] === true ? [] : [message(r, 'transitEncryptionEnabled', 'true', p['transitEncryptionEnabled'])];
    }
    if (r.type === 'aws:lb/listener:Listener' || r.type === 'aws:alb/listener:Listener') {
      if (p['protocol'] !== 'HTTP') return [];
      const actions: any[] = Array.isArray(p['defaultActions']) ? p['defaultActions'] : [];
      const redirectsToHttps = actions.length > 0 && actions.every((a) => a?.type === 'redirect' && a?.redirect?.protocol === 'HTTPS');
      return redirectsToHttps ? [] : [message(r, 'protocol', 'HTTPS, or HTTP whose only action redirects to HTTPS', p['protocol'])];
    }
    return [];
  },
};

const BUCKET_TYPES = new Set(['aws:s3/bucket:Bucket', 'aws:s3/bucketV2:BucketV2']);
const SSE_TYPES = new Set([
  'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration',
  'aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2',
]);

/** Buckets in a stack, each with the names its sub-resources may use to point at it. */
export function bucketsOf(resources: readonly PolicyTarget[]): { bucket: PolicyTarget; refs: Set<unknown> }[] {
  return resources
    .filter((r) => BUCKET_TYPES.has(r.type))
    .map((bucket) => ({ bucket, refs: new Set<unknown>([bucket.name, bucket.props['bucket'], bucket.props['id'], bucket.urn].filter(Boolean)) }));
}

/**
 * Finds the bucket a bucket sub-resource (SSE configuration, public access block, ACL) belongs to:
 * its `bucket` input equals the bucket's name/id, else it is the only bucket under the same parent,
 * else its logical name starts with the bucket's (the `${name}-sse` convention).
 */
export function ownerBucket(sub: PolicyTarget, buckets: ReturnType<typeof bucketsOf>): PolicyTarget | undefined {
  const ref = sub.props['bucket'];
  const byRef = buckets.find((b) => b.refs.has(ref));
  if (byRef) return byRef.bucket;
  const siblings = buckets.filter((b) => sub.parent !== undefined && b.bucket.parent === sub.parent);
  if (siblings.length === 1) return siblings[0]!.bucket;
  return buckets.filter((b) => sub.name.startsWith(b.bucket.name)).sort((a, b) => b.bucket.name.length - a.bucket.name.length)[0]?.bucket;
}

/** Every S3 bucket has default server-side encryption (inline or a separate configuration resource). */
export const s3Encryption: StackRule = {
  kind: 'stack',
  name: 's3-encryption',
  description: 'Every S3 bucket has a default server-side encryption configuration (SSE-S3 or SSE-KMS).',
  level: 'mandatory',
  check(resources) {
    const buckets = bucketsOf(resources);
    const covered = new Set<PolicyTarget>();
    for (const sse of resources.filter((r) => SSE_TYPES.has(r.type))) {
      const algo = at(sse.props, 'rules.0.applyServerSideEncryptionByDefault.sseAlgorithm');
      const owner = ownerBucket(sse, buckets);
      if (owner && typeof algo === 'string' && algo.length > 0) covered.add(owner);
    }
    const findings: StackFinding[] = [];
    for (const { bucket } of buckets) {
      const inline = at(bucket.props, 'serverSideEncryptionConfiguration.rule.applyServerSideEncryptionByDefault.sseAlgorithm');
      if (covered.has(bucket) || inline) continue;
      findings.push({
        resource: bucket,
        message: `${label(bucket)}: default encryption: expected a BucketServerSideEncryptionConfiguration with an sseAlgorithm (aws:kms or AES256), found none.`,
      });
    }
    return findings;
  },
};
