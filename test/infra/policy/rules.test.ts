import assert from 'node:assert/strict';
import {
  containerResources,
  deletionProtectionInProd,
  encryptionAtRest,
  encryptionInTransit,
  noPublicDataStores,
  pdbForReplicatedDeployments,
  requiredTags,
  s3Encryption,
  s3PublicAccessBlock,
  spotOnlyForWorkers,
  spotWorkerHygiene,
} from '../../../infra/policy/rules/index.js';
import type { PolicyTarget } from '../../../infra/policy/types.js';

const res = (type: string, name: string, props: Record<string, any>, parent?: string): PolicyTarget => ({ type, name, props, parent });
const TAGS = { env: 'prod', region: 'us-east-1', owner: 'platform', 'cost-center': 'cc-42' };
const container = (resources: Record<string, any> | undefined) => ({ name: 'gateway', image: 'gw:1', resources });
const deployment = (name: string, replicas: number | undefined, labels: Record<string, string>, resources?: Record<string, any>) =>
  res('kubernetes:apps/v1:Deployment', name, {
    metadata: { name, namespace: 'umcp' },
    spec: { replicas, template: { metadata: { labels }, spec: { containers: [container(resources)] } } },
  });
const GOOD_RESOURCES = { requests: { cpu: '500m', memory: '512Mi' }, limits: { memory: '512Mi' } };

describe('policy rules', () => {
  describe('encryption-at-rest', () => {
    it('accepts an encrypted Aurora cluster and rejects an unencrypted one, naming resource, expected, found', () => {
      assert.deepEqual(encryptionAtRest.check(res('aws:rds/cluster:Cluster', 'db', { storageEncrypted: true }), {}), []);
      const [msg] = encryptionAtRest.check(res('aws:rds/cluster:Cluster', 'db', {}), {});
      assert.match(msg!, /aws:rds\/cluster:Cluster "db".*storageEncrypted.*expected true, found not set/);
    });
    it('requires ElastiCache at-rest encryption except for global datastore members', () => {
      const t = 'aws:elasticache/replicationGroup:ReplicationGroup';
      assert.equal(encryptionAtRest.check(res(t, 'state', { atRestEncryptionEnabled: false }), {}).length, 1);
      assert.deepEqual(encryptionAtRest.check(res(t, 'state', { atRestEncryptionEnabled: true }), {}), []);
      assert.deepEqual(encryptionAtRest.check(res(t, 'cache-2', { globalReplicationGroupId: 'g-1' }), {}), []);
    });
    it('requires KMS envelope encryption of EKS secrets', () => {
      const good = { encryptionConfig: { resources: ['secrets'], provider: { keyArn: 'arn:aws:kms:us-east-1:1:key/x' } } };
      assert.deepEqual(encryptionAtRest.check(res('aws:eks/cluster:Cluster', 'eks', good), {}), []);
      assert.match(encryptionAtRest.check(res('aws:eks/cluster:Cluster', 'eks', {}), {})[0]!, /encryptionConfig.resources.*"secrets"/);
    });
  });

  describe('encryption-in-transit', () => {
    it('requires TLS on ElastiCache', () => {
      const t = 'aws:elasticache/replicationGroup:ReplicationGroup';
      assert.deepEqual(encryptionInTransit.check(res(t, 'c', { transitEncryptionEnabled: true }), {}), []);
      assert.match(encryptionInTransit.check(res(t, 'c', { transitEncryptionEnabled: false }), {})[0]!, /found false/);
    });
    it('allows a plain HTTP listener only when it redirects to HTTPS', () => {
      const t = 'aws:lb/listener:Listener';
      const redirect = { protocol: 'HTTP', defaultActions: [{ type: 'redirect', redirect: { protocol: 'HTTPS' } }] };
      assert.deepEqual(encryptionInTransit.check(res(t, 'http', redirect), {}), []);
      assert.equal(encryptionInTransit.check(res(t, 'http', { protocol: 'HTTP', defaultActions: [{ type: 'forward' }] }), {}).length, 1);
    });
  });

  describe('s3 bucket controls (stack rules)', () => {
    const bucket = res('aws:s3/bucket:Bucket', 'assets', { bucket: 'umcp-us-east-1' }, 'comp');
    const sse = res(
      'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration',
      'assets-sse',
      { bucket: 'umcp-us-east-1', rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms' } }] },
      'comp',
    );
    const block = res('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock', 'assets-pab', { bucket: 'umcp-us-east-1' }, 'comp');
    it('accepts a bucket with SSE and a public access block', () => {
      assert.deepEqual(s3Encryption.check([bucket, sse], {}), []);
      assert.deepEqual(s3PublicAccessBlock.check([bucket, block], {}), []);
    });
    it('reports a bucket without SSE or without a public access block', () => {
      const [enc] = s3Encryption.check([bucket], {});
      assert.equal(enc!.resource, bucket);
      assert.match(enc!.message, /"assets".*expected a BucketServerSideEncryptionConfiguration.*found none/);
      assert.match(s3PublicAccessBlock.check([bucket, sse], {})[0]!.message, /public access block/);
    });
  });

  describe('no-public-data-stores', () => {
    it('rejects publicly accessible database instances and public ACLs', () => {
      const t = 'aws:rds/clusterInstance:ClusterInstance';
      assert.deepEqual(noPublicDataStores.check(res(t, 'writer', { publiclyAccessible: false }), {}), []);
      assert.match(noPublicDataStores.check(res(t, 'writer', { publiclyAccessible: true }), {})[0]!, /publiclyAccessible: expected false, found true/);
      assert.match(noPublicDataStores.check(res('aws:s3/bucketAcl:BucketAcl', 'acl', { acl: 'public-read' }), {})[0]!, /"public-read"/);
    });
    it('requires all four public access block flags', () => {
      const t = 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock';
      const all = { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true };
      assert.deepEqual(noPublicDataStores.check(res(t, 'pab', all), {}), []);
      const msgs = noPublicDataStores.check(res(t, 'pab', { ...all, blockPublicPolicy: false }), {});
      assert.equal(msgs.length, 1);
      assert.match(msgs[0]!, /blockPublicPolicy/);
    });
  });

  describe('required-tags', () => {
    it('accepts own tags or provider default tags, ignores untaggable types', () => {
      assert.deepEqual(requiredTags.check(res('aws:ec2/vpc:Vpc', 'vpc', { tags: TAGS }), {}), []);
      assert.deepEqual(requiredTags.check(res('aws:ec2/vpc:Vpc', 'vpc', {}), { providerProps: { defaultTags: { tags: TAGS } } }), []);
      assert.deepEqual(requiredTags.check(res('aws:ec2/route:Route', 'r', {}), {}), []);
      // Provider inputs reach policies JSON-encoded; `environment` stands in for `env`.
      const { env: _env, ...rest } = TAGS;
      const encoded = { defaultTags: JSON.stringify({ tags: { ...rest, environment: 'prod' } }) };
      assert.deepEqual(requiredTags.check(res('aws:ec2/vpc:Vpc', 'vpc', {}), { providerProps: encoded }), []);
    });
    it('names the missing tags', () => {
      const [msg] = requiredTags.check(res('aws:ec2/vpc:Vpc', 'vpc', { tags: { env: 'dev', Name: 'x' } }), {});
      assert.match(msg!, /missing region, owner, cost-center; found Name, env/);
    });
  });

  describe('container-resources', () => {
    it('accepts containers with requests and a memory limit', () => {
      assert.deepEqual(containerResources.check(deployment('gw', 2, { app: 'gw' }, GOOD_RESOURCES), {}), []);
    });
    it('reports each missing field, also inside CronJobs', () => {
      const [msg] = containerResources.check(deployment('gw', 2, { app: 'gw' }, { requests: { cpu: '1' } }), {});
      assert.match(msg!, /container "gateway".*missing requests.memory, limits.memory/);
      const cron = res('kubernetes:batch/v1:CronJob', 'scale-down', {
        spec: { jobTemplate: { spec: { template: { spec: { containers: [container(undefined)] } } } } },
      });
      assert.equal(containerResources.check(cron, {}).length, 1);
    });
  });

  describe('pdb-for-replicated-deployments', () => {
    const pdb = res('kubernetes:policy/v1:PodDisruptionBudget', 'gw-pdb', {
      metadata: { namespace: 'umcp' },
      spec: { selector: { matchLabels: { app: 'gw' } } },
    });
    it('accepts a replicated Deployment with a matching PDB and a single replica without one', () => {
      assert.deepEqual(pdbForReplicatedDeployments.check([deployment('gw', 3, { app: 'gw', tier: 'x' }), pdb], {}), []);
      assert.deepEqual(pdbForReplicatedDeployments.check([deployment('one', 1, { app: 'one' })], {}), []);
    });
    it('counts the HPA minimum and reports a Deployment without a matching PDB', () => {
      const hpa = res('kubernetes:autoscaling/v2:HorizontalPodAutoscaler', 'wk-hpa', {
        metadata: { namespace: 'umcp' },
        spec: { minReplicas: 2, scaleTargetRef: { kind: 'Deployment', name: 'worker' } },
      });
      const findings = pdbForReplicatedDeployments.check([deployment('worker', undefined, { app: 'worker' }), hpa, pdb], {});
      assert.equal(findings.length, 1);
      assert.match(findings[0]!.message, /"worker": runs 2 replicas: expected a PodDisruptionBudget/);
    });
  });

  describe('deletion-protection-in-prod', () => {
    const t = 'aws:rds/cluster:Cluster';
    it('requires deletionProtection in prod (from context or env tag) but not in dev', () => {
      assert.deepEqual(deletionProtectionInProd.check(res(t, 'db', { deletionProtection: true }), { environment: 'prod' }), []);
      assert.deepEqual(deletionProtectionInProd.check(res(t, 'db', {}), { environment: 'dev' }), []);
      assert.match(deletionProtectionInProd.check(res(t, 'db', { tags: TAGS }), {})[0]!, /deletionProtection \(env prod\): expected true/);
    });
    it('rejects forceDestroy buckets in prod', () => {
      assert.equal(deletionProtectionInProd.check(res('aws:s3/bucket:Bucket', 'b', { forceDestroy: true }), { environment: 'prod' }).length, 1);
    });
  });

  describe('spot capacity', () => {
    const t = 'aws:eks/nodeGroup:NodeGroup';
    it('allows spot only for node groups marked for workers', () => {
      assert.deepEqual(spotOnlyForWorkers.check(res(t, 'ng-workers', { capacityType: 'SPOT' }), {}), []);
      assert.deepEqual(spotOnlyForWorkers.check(res(t, 'ng-b', { capacityType: 'SPOT', labels: { role: 'worker' } }), {}), []);
      assert.deepEqual(spotOnlyForWorkers.check(res(t, 'ng-gateway', { capacityType: 'ON_DEMAND' }), {}), []);
      assert.match(spotOnlyForWorkers.check(res(t, 'ng-gateway', { capacityType: 'SPOT', labels: { role: 'gateway' } }), {})[0]!, /"ng-gateway".*worker label/);
    });
    it('advises several instance types and a taint on spot groups', () => {
      const good = { capacityType: 'SPOT', instanceTypes: ['m6i.large', 'm5.large'], taints: [{ key: 'spot', value: 'true', effect: 'NO_SCHEDULE' }] };
      assert.deepEqual(spotWorkerHygiene.check(res(t, 'ng-workers', good), {}), []);
      assert.equal(spotWorkerHygiene.check(res(t, 'ng-workers', { capacityType: 'SPOT', instanceTypes: ['m6i.large'] }), {}).length, 2);
      assert.equal(spotWorkerHygiene.level, 'advisory');
    });
  });
});
