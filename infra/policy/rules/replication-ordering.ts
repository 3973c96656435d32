/**
 * S3 replication can only be configured when both buckets exist. A rule naming a bucket the stack neither
 * creates nor reads from another stack's outputs depends on an ordering nobody enforces: on a fresh account
 * the peer stack has not run yet and `PutBucketReplication` fails. A StackReference output exists only once
 * the stack it names has deployed, so it is the ordering made explicit.
 */
import type { PolicyTarget, StackFinding, StackRule } from '../types.js';
import { label } from '../util.js';

const REPLICATION = 'aws:s3/bucketReplicationConfig:BucketReplicationConfig';
const BUCKETS = new Set(['aws:s3/bucket:Bucket', 'aws:s3/bucketV2:BucketV2']);
const STACK_REFERENCE = 'pulumi:pulumi:StackReference';

/** Every string inside `value` (StackReference outputs may nest: maps, lists). */
function strings(value: unknown, out = new Set<string>()): Set<string> {
  if (typeof value === 'string') out.add(value);
  else if (Array.isArray(value)) value.forEach((v) => strings(v, out));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => strings(v, out));
  return out;
}

/** Names and ARNs of the buckets the stack creates (inputs under mocks, outputs under the CLI). */
function ownBuckets(resources: readonly PolicyTarget[]): Set<string> {
  const own = new Set<string>();
  for (const b of resources.filter((r) => BUCKETS.has(r.type))) {
    const name = b.props['bucket'];
    if (typeof name === 'string') {
      own.add(name);
      own.add(`arn:aws:s3:::${name}`);
    }
    if (typeof b.props['arn'] === 'string') own.add(b.props['arn']);
  }
  return own;
}

/** Replication source and destination buckets are created by this stack or read from a StackReference. */
export const replicationOrdering: StackRule = {
  kind: 'stack',
  name: 's3-replication-ordering',
  description:
    'An S3 BucketReplicationConfig names only buckets this stack creates or reads from a StackReference output (a stack deployed earlier), so a first deploy never targets a bucket that does not exist yet.',
  level: 'mandatory',
  check(resources) {
    const configs = resources.filter((r) => r.type === REPLICATION);
    if (configs.length === 0) return [];
    const own = ownBuckets(resources);
    const referenced = new Set<string>();
    for (const ref of resources.filter((r) => r.type === STACK_REFERENCE)) strings(ref.props['outputs'], referenced);
    const known = (v: string) => own.has(v) || referenced.has(v);
    const expected = 'a bucket this stack creates or a StackReference output of a stack that deploys earlier';
    const findings: StackFinding[] = [];
    for (const c of configs) {
      const source = c.props['bucket'];
      if (typeof source === 'string' && !known(source)) {
        findings.push({ resource: c, message: `${label(c)}: bucket (source): expected ${expected}, found "${source}".` });
      }
      const rules: any[] = Array.isArray(c.props['rules']) ? c.props['rules'] : [];
      rules.forEach((rule, i) => {
        const dest = rule?.destination?.bucket;
        if (typeof dest === 'string' && !known(dest)) {
          findings.push({
            resource: c,
            message:
              `${label(c)}: rules[${i}].destination.bucket: expected ${expected}, found "${dest}" (a name built by hand: ` +
              'on a fresh account that bucket does not exist yet and the replication fails).',
          });
        }
      });
    }
    return findings;
  },
};
