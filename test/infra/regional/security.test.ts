/**
 * Encryption everywhere and nothing public that should not be, for every regional stack file.
 */
import assert from 'node:assert/strict';
import { ofType, one, REGIONAL_STACKS, runStack, isProd } from '../support/stacks.js';

describe('regional security', () => {
  it('finds the three regional stack files', () => {
    assert.deepEqual([...REGIONAL_STACKS].sort(), ['dev', 'prod-eu-west-1', 'prod-us-east-1']);
  });

  for (const stack of REGIONAL_STACKS) {
    describe(`stack ${stack}`, () => {
      it('encrypts Aurora storage with a KMS key and keeps instances private', async () => {
        const r = await runStack(stack);
        const clusters = ofType(r, 'aws:rds/cluster:Cluster');
        assert.ok(clusters.length >= 1);
        for (const c of clusters) {
          assert.equal(c.inputs.storageEncrypted, true, `${c.name} storageEncrypted`);
          assert.match(String(c.inputs.kmsKeyId), /^arn:aws:kms:/, `${c.name} kmsKeyId`);
        }
        for (const i of ofType(r, 'aws:rds/clusterInstance:ClusterInstance')) assert.equal(i.inputs.publiclyAccessible, false, i.name);
        const params = one(r, 'aws:rds/clusterParameterGroup:ClusterParameterGroup');
        assert.ok(params.inputs.parameters.some((p: { name: string; value: string }) => p.name === 'rds.force_ssl' && p.value === '1'));
        for (const p of ofType(r, 'aws:rds/proxy:Proxy')) assert.equal(p.inputs.requireTls, true, p.name);
      });

      it('encrypts ElastiCache at rest and in transit with an AUTH token', async () => {
        const r = await runStack(stack);
        const groups = ofType(r, 'aws:elasticache/replicationGroup:ReplicationGroup');
        assert.equal(groups.length, 2, 'state and cache roles');
        for (const g of groups) {
          assert.equal(g.inputs.multiAzEnabled, true, `${g.name} multiAz`);
          assert.equal(g.inputs.automaticFailoverEnabled, true, `${g.name} failover`);
          if (g.inputs.globalReplicationGroupId) continue; // inherits encryption and AUTH from the global datastore
          assert.equal(g.inputs.atRestEncryptionEnabled, true, `${g.name} at rest`);
          assert.equal(g.inputs.transitEncryptionEnabled, true, `${g.name} transit`);
          assert.ok(g.secretPaths?.includes('authToken'), `${g.name} authToken must be secret`);
        }
      });

      it('encrypts, versions and blocks public access on the bucket, TLS only', async () => {
        const r = await runStack(stack);
        const sse = one(r, 'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration');
        assert.equal(sse.inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm, 'aws:kms');
        const pab = one(r, 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock');
        for (const k of ['blockPublicAcls', 'blockPublicPolicy', 'ignorePublicAcls', 'restrictPublicBuckets']) assert.equal(pab.inputs[k], true, k);
        assert.equal(one(r, 'aws:s3/bucketVersioning:BucketVersioning').inputs.versioningConfiguration.status, 'Enabled');
        const policy = JSON.parse(one(r, 'aws:s3/bucketPolicy:BucketPolicy').inputs.policy);
        assert.equal(policy.Statement[0].Condition.Bool['aws:SecureTransport'], 'false');
        assert.ok(one(r, 'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration').inputs.rules.length >= 2);
      });

      it('keeps data services in private subnets only', async () => {
        const r = await runStack(stack);
        const privateIds = ofType(r, 'aws:ec2/subnet:Subnet')
          .filter((s) => s.inputs.tags.tier === 'private')
          .map((s) => `subnet-${s.name}`);
        assert.equal(privateIds.length, 3);
        assert.deepEqual([...one(r, 'aws:rds/subnetGroup:SubnetGroup').inputs.subnetIds].sort(), [...privateIds].sort());
        assert.deepEqual([...one(r, 'aws:elasticache/subnetGroup:SubnetGroup').inputs.subnetIds].sort(), [...privateIds].sort());
        for (const s of ofType(r, 'aws:ec2/subnet:Subnet')) assert.equal(s.inputs.mapPublicIpOnLaunch, false, s.name);
        for (const sg of ofType(r, 'aws:ec2/securityGroup:SecurityGroup')) {
          for (const rule of sg.inputs.ingress ?? []) assert.ok(!rule.cidrBlocks?.includes('0.0.0.0/0'), `${sg.name} open to the world`);
        }
      });

      it('rotates every KMS key and logs VPC flows', async () => {
        const r = await runStack(stack);
        for (const k of ofType(r, 'aws:kms/key:Key')) assert.equal(k.inputs.enableKeyRotation, true, k.name);
        assert.equal(one(r, 'aws:ec2/flowLog:FlowLog').inputs.trafficType, 'ALL');
      });

      it(`${isProd(stack) ? 'enables' : 'skips'} deletion protection`, async () => {
        const r = await runStack(stack);
        for (const c of ofType(r, 'aws:rds/cluster:Cluster')) {
          assert.equal(c.inputs.deletionProtection, isProd(stack), c.name);
          assert.equal(c.inputs.skipFinalSnapshot, !isProd(stack), c.name);
        }
        for (const g of ofType(r, 'aws:rds/globalCluster:GlobalCluster')) assert.equal(g.inputs.deletionProtection, isProd(stack));
      });

      it('marks secrets secret: Kubernetes Secret data, proxy credentials, endpoints output', async () => {
        const r = await runStack(stack);
        for (const secret of ofType(r, 'kubernetes:core/v1:Secret')) {
          assert.ok(
            secret.secretPaths?.some((p) => p === 'stringData' || p.startsWith('stringData.')),
            `${secret.name}: Secret stringData is secret`,
          );
        }
        for (const v of ofType(r, 'aws:secretsmanager/secretVersion:SecretVersion')) assert.ok(v.secretPaths?.includes('secretString'), v.name);
        assert.ok(r.secretOutputs.includes('endpoints'), 'endpoints output is secret');
        const plain = JSON.stringify(r.resources.filter((x) => !x.secretPaths).map((x) => x.inputs));
        const shared = ['dbPassword', 'redisAuthToken', 'adminApiKey', 'requestStateKeys'].map((k) => String(r.outputs[k]));
        for (const value of [...shared, 'mock-webhook-token-0123456789']) {
          assert.ok(!plain.includes(value), `a secret value leaks into non-secret inputs`);
        }
      });
    });
  }
});
