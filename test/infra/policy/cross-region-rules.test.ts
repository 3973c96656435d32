/**
 * The cross-region rules: writes of a global database member use the global writer endpoint, and S3
 * replication names only buckets the stack creates or reads from a StackReference. Plain-function cases
 * (including the shape the program had before: proxy default endpoint writers, a hand-built peer bucket
 * ARN, which both fail), then both rules over the prod stacks under mocks.
 */
import assert from 'node:assert/strict';
import { globalWriterEndpoint, regionalEndpointKind, replicationOrdering } from '../../../infra/policy/rules/index.js';
import type { PolicyTarget } from '../../../infra/policy/types.js';
import { targetsOf } from '../../../infra/tools/plan/targets.js';
import { runStack } from '../support/stacks.js';

const res = (type: string, name: string, props: Record<string, any>): PolicyTarget => ({ type, name, props });
const PROXY = 'umcp-prod-db-shard-0-proxy.proxy-c0ffee.eu-west-1.rds.amazonaws.com';
const PROXY_RO = 'umcp-prod-shard-0-ro.endpoint.proxy-c0ffee.eu-west-1.rds.amazonaws.com';
const CLUSTER_EP = 'umcp-prod-eu-west-1-shard-0.cluster-c0ffee.eu-west-1.rds.amazonaws.com';
const GLOBAL_EP = 'umcp-prod-shard-0.global-abc123.global.rds.amazonaws.com';
const url = (host: string, user = 'app:pw') => `postgres://${user}@${host}:5432/umcp?sslmode=require`;
const secondaryCluster = res('aws:rds/cluster:Cluster', 'db-shard-0-cluster', { globalClusterIdentifier: 'umcp-prod-shard-0' });
const appConfig = (writer: string, shardWriter: string) => [
  res('kubernetes:core/v1:Secret', 'app-secret', { stringData: { DATABASE_URL: url(writer), DATABASE_READER_URLS: url(PROXY_RO) } }),
  res('kubernetes:core/v1:ConfigMap', 'app-config', {
    data: { SHARDS: JSON.stringify([{ id: '1', writerUrl: url(shardWriter, 'app'), readerUrls: [url(PROXY_RO, 'app')] }]) },
  }),
];

describe('cross-region policy rules', () => {
  describe('global-database-writer-endpoint', () => {
    it('classifies RDS hostnames: regional endpoints vs the global writer endpoint', () => {
      assert.match(regionalEndpointKind(PROXY)!, /RDS Proxy default endpoint/);
      assert.match(regionalEndpointKind(PROXY_RO)!, /Proxy custom endpoint/);
      assert.match(regionalEndpointKind(CLUSTER_EP)!, /cluster endpoint/);
      assert.match(regionalEndpointKind('db-1.c0ffee.eu-west-1.rds.amazonaws.com')!, /instance endpoint/);
      assert.equal(regionalEndpointKind(GLOBAL_EP), undefined);
      assert.equal(regionalEndpointKind('writer.db.internal.example.com'), undefined);
    });
    it('fails a secondary whose DATABASE_URL and SHARDS writer point at the local proxy (the old wiring), naming where, expected, found', () => {
      const findings = globalWriterEndpoint.check([secondaryCluster, ...appConfig(PROXY, CLUSTER_EP)], {});
      assert.equal(findings.length, 2);
      assert.match(
        findings[0]!.message,
        /kubernetes:core\/v1:Secret "app-secret": stringData\.DATABASE_URL: .*global secondary.*expected the global writer endpoint.*found the RDS Proxy default endpoint of this region "umcp-prod-db-shard-0-proxy\.proxy-c0ffee/,
      );
      assert.match(findings[1]!.message, /ConfigMap "app-config": data\.SHARDS\[0\]\.writerUrl: .*found a cluster endpoint of this region/);
    });
    it('fails the primary too (its writer moves on a switchover), and reads base64 Secret data and container env', () => {
      const global = res('aws:rds/globalCluster:GlobalCluster', 'g', { globalClusterIdentifier: 'umcp-prod-shard-0' });
      const secret = res('kubernetes:core/v1:Secret', 's', { data: { DATABASE_URL: Buffer.from(url(PROXY)).toString('base64') } });
      const deployment = res('kubernetes:apps/v1:Deployment', 'd', {
        spec: { template: { spec: { containers: [{ name: 'gw', env: [{ name: 'DATABASE_URL', value: url(CLUSTER_EP) }] }] } } },
      });
      const findings = globalWriterEndpoint.check([global, secondaryCluster, secret, deployment], {});
      assert.deepEqual(
        findings.map((f) => f.resource?.name),
        ['s', 'd'],
      );
      assert.match(findings[0]!.message, /global primary \(its writer moves on a switchover or failover\)/);
    });
    it('passes global writer endpoints, and does not apply outside a global database', () => {
      assert.deepEqual(globalWriterEndpoint.check([secondaryCluster, ...appConfig(GLOBAL_EP, GLOBAL_EP)], {}), []);
      assert.deepEqual(globalWriterEndpoint.check([res('aws:rds/cluster:Cluster', 'c', {}), ...appConfig(PROXY, PROXY)], {}), []);
    });
  });

  describe('s3-replication-ordering', () => {
    const bucket = (name: string) => res('aws:s3/bucket:Bucket', name, { bucket: name });
    const replication = (source: string, dest: string) =>
      res('aws:s3/bucketReplicationConfig:BucketReplicationConfig', `repl-${source}`, {
        bucket: source,
        rules: [{ id: 'r', destination: { bucket: dest } }],
      });
    const ref = res('pulumi:pulumi:StackReference', 'primary', {
      name: 'o/p/prod-us-east-1',
      outputs: { bucketName: 'b-us', bucketArn: 'arn:aws:s3:::b-us', nested: { x: ['y'] } },
    });
    it('fails a replication to a hand-built ARN of a bucket the stack does not own (the old primary), naming expected and found', () => {
      const [finding, ...rest] = replicationOrdering.check([bucket('b-us'), replication('b-us', 'arn:aws:s3:::b-eu')], {});
      assert.equal(rest.length, 0);
      assert.match(
        finding!.message,
        /BucketReplicationConfig "repl-b-us": rules\[0\]\.destination\.bucket: expected a bucket this stack creates or a StackReference output.*found "arn:aws:s3:::b-eu".*does not exist yet/,
      );
    });
    it('fails a source bucket the stack neither creates nor reads', () => {
      const findings = replicationOrdering.check([bucket('b-eu'), replication('b-us', 'arn:aws:s3:::b-eu')], {});
      assert.match(findings[0]!.message, /bucket \(source\): .*found "b-us"/);
    });
    it('passes both directions created by the secondary: own bucket and StackReference outputs', () => {
      assert.deepEqual(
        replicationOrdering.check([bucket('b-eu'), ref, replication('b-eu', 'arn:aws:s3:::b-us'), replication('b-us', 'arn:aws:s3:::b-eu')], {}),
        [],
      );
    });
  });

  describe('over the prod stacks under mocks', () => {
    for (const stack of ['prod-us-east-1', 'prod-eu-west-1']) {
      it(`${stack}: both rules hold`, async () => {
        const r = await runStack(stack);
        const targets = targetsOf([...r.resources, ...(r.reads ?? [])]);
        assert.deepEqual(
          globalWriterEndpoint.check(targets, {}).map((f) => f.message),
          [],
        );
        assert.deepEqual(
          replicationOrdering.check(targets, {}).map((f) => f.message),
          [],
        );
      });
    }
    it('the rules see what they check: the secondary has writer URLs and replication configs, and a StackReference', async () => {
      const r = await runStack('prod-eu-west-1');
      assert.ok((r.reads ?? []).some((x) => x.type === 'pulumi:pulumi:StackReference' && x.inputs.outputs?.bucketArn));
      assert.equal(r.resources.filter((x) => x.type === 'aws:s3/bucketReplicationConfig:BucketReplicationConfig').length, 2);
    });
  });
});
