/** Nothing that holds data is reachable from the internet: databases, buckets (caches have no public mode). */
import type { PolicyTarget, ResourceRule, StackFinding, StackRule } from '../types.js';
import { label, message } from '../util.js';
import { bucketsOf, ownerBucket } from './encryption.js';

const PUBLIC_ACLS = new Set(['public-read', 'public-read-write', 'authenticated-read']);
const BLOCK_FLAGS = ['blockPublicAcls', 'blockPublicPolicy', 'ignorePublicAcls', 'restrictPublicBuckets'] as const;
const PUBLIC_ACCESS_BLOCK = 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock';

/** No publicly accessible database instance, no public bucket ACL, no weakened public access block. */
export const noPublicDataStores: ResourceRule = {
  kind: 'resource',
  name: 'no-public-data-stores',
  description: 'Database instances are not publicly accessible; buckets have no public ACL and block all public access.',
  level: 'mandatory',
  check(r) {
    const p = r.props;
    switch (r.type) {
      case 'aws:rds/instance:Instance':
      case 'aws:rds/clusterInstance:ClusterInstance':
        return p['publiclyAccessible'] === true ? [message(r, 'publiclyAccessible', 'false', true)] : [];
      case 'aws:s3/bucket:Bucket':
      case 'aws:s3/bucketV2:BucketV2':
      case 'aws:s3/bucketAcl:BucketAcl':
      case 'aws:s3/bucketAclV2:BucketAclV2':
        return PUBLIC_ACLS.has(p['acl']) ? [message(r, 'acl', 'private (no public canned ACL)', p['acl'])] : [];
      case PUBLIC_ACCESS_BLOCK:
        return BLOCK_FLAGS.filter((f) => p[f] !== true).map((f) => message(r, f, 'true', p[f]));
      default:
        return [];
    }
  },
};

/** Every bucket has a BucketPublicAccessBlock (its flags are checked by no-public-data-stores). */
export const s3PublicAccessBlock: StackRule = {
  kind: 'stack',
  name: 's3-public-access-block',
  description: 'Every S3 bucket has a public access block resource.',
  level: 'mandatory',
  check(resources) {
    const buckets = bucketsOf(resources);
    const covered = new Set<PolicyTarget>();
    for (const block of resources.filter((r) => r.type === PUBLIC_ACCESS_BLOCK)) {
      const owner = ownerBucket(block, buckets);
      if (owner) covered.add(owner);
    }
    const findings: StackFinding[] = [];
    for (const { bucket } of buckets) {
      if (covered.has(bucket)) continue;
      findings.push({
        resource: bucket,
        message: `${label(bucket)}: public access block: expected a BucketPublicAccessBlock with all four flags true, found none.`,
      });
    }
    return findings;
  },
};
