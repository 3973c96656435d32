/** Stateful resources cannot be deleted by accident in production. */
import type { ResourceRule } from '../types.js';
import { environmentOf, isProduction, message } from '../util.js';

/** Type → the input that must be true (or, for buckets, must not be true) in production. */
const PROTECTION_FLAG: Record<string, string> = {
  'aws:rds/cluster:Cluster': 'deletionProtection',
  'aws:rds/instance:Instance': 'deletionProtection',
  'aws:rds/globalCluster:GlobalCluster': 'deletionProtection',
  'aws:lb/loadBalancer:LoadBalancer': 'enableDeletionProtection',
};
const BUCKET_TYPES = new Set(['aws:s3/bucket:Bucket', 'aws:s3/bucketV2:BucketV2']);

/** In production, databases and load balancers have deletion protection and buckets are not force-destroyable. */
export const deletionProtectionInProd: ResourceRule = {
  kind: 'resource',
  name: 'deletion-protection-in-prod',
  description: 'In prod, RDS/Aurora clusters, instances, global clusters and load balancers have deletion protection; buckets have no forceDestroy.',
  level: 'mandatory',
  check(r, ctx) {
    const flag = PROTECTION_FLAG[r.type];
    if (!flag && !BUCKET_TYPES.has(r.type)) return [];
    const env = environmentOf(r, ctx);
    if (!isProduction(env)) return [];
    if (flag) return r.props[flag] === true ? [] : [message(r, `${flag} (env ${env})`, 'true', r.props[flag])];
    return r.props['forceDestroy'] === true ? [message(r, `forceDestroy (env ${env})`, 'false or unset', true)] : [];
  },
};
