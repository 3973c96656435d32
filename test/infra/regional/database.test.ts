/**
 * Aurora global database wiring (primary vs secondary), shards, RDS Proxy; ElastiCache global datastore;
 * S3 replication to the peer region; argument checks.
 */
import assert from 'node:assert/strict';
import { checkCacheArgs } from '../../../infra/regional/cache/index.js';
import { checkDatabaseArgs } from '../../../infra/regional/database/index.js';
import { checkStorageArgs } from '../../../infra/regional/storage/index.js';
import { readStackConfig, runStackUnderMocks } from '../../../infra/tools/mock-run.js';
import { ofType, one, runStack } from '../support/stacks.js';

describe('regional data services', () => {
  describe('primary region (prod-us-east-1)', () => {
    it('creates one global cluster per shard and a primary cluster with master credentials', async () => {
      const r = await runStack('prod-us-east-1');
      const globals = ofType(r, 'aws:rds/globalCluster:GlobalCluster');
      assert.deepEqual(globals.map((g) => g.inputs.globalClusterIdentifier).sort(), ['umcp-prod-shard-0', 'umcp-prod-shard-1']);
      for (const g of globals) assert.equal(g.inputs.storageEncrypted, true);
      for (const c of ofType(r, 'aws:rds/cluster:Cluster')) {
        assert.match(c.inputs.globalClusterIdentifier, /^umcp-prod-shard-[01]/);
        assert.equal(c.inputs.masterUsername, 'app');
        assert.ok(c.secretPaths?.includes('masterPassword'), `${c.name} masterPassword is secret`);
      }
    });

    it('creates the cache global datastore from its cache replication group and exports its id', async () => {
      const r = await runStack('prod-us-east-1');
      const global = one(r, 'aws:elasticache/globalReplicationGroup:GlobalReplicationGroup');
      assert.equal(global.inputs.primaryReplicationGroupId, 'umcp-prod-redis-cache');
      assert.equal(r.outputs.cacheGlobalReplicationGroupId, 'ldgnf-umcp-prod-redis-cache');
    });

    it('creates no S3 replication: its peer bucket does not exist when it runs first (the secondary creates both directions)', async () => {
      const r = await runStack('prod-us-east-1');
      assert.equal(ofType(r, 'aws:s3/bucketReplicationConfig:BucketReplicationConfig').length, 0);
    });

    it('writes through the global writer endpoint of each shard, reads through its proxy read-only endpoint, and exports what the secondary reads', async () => {
      const r = await runStack('prod-us-east-1');
      const secret = one(r, 'kubernetes:core/v1:Secret', 'app-secret').inputs.stringData;
      assert.match(secret.DATABASE_URL, /@umcp-prod-shard-0\.global-mock\.global\.rds\.amazonaws\.com:5432\/umcp\?sslmode=require$/);
      assert.match(secret.DATABASE_READER_URLS, /@umcp-prod-db-shard-0-proxy-ro\.endpoint\.proxy-mock\.us-east-1\./);
      const shards = JSON.parse(one(r, 'kubernetes:core/v1:ConfigMap', 'app-config').inputs.data.SHARDS);
      assert.match(shards[0].writerUrl, /@umcp-prod-shard-1\.global-mock\.global\.rds\.amazonaws\.com:5432\/umcp\?sslmode=require$/);
      assert.deepEqual(r.outputs.globalWriterEndpoints, {
        0: 'umcp-prod-shard-0.global-mock.global.rds.amazonaws.com',
        1: 'umcp-prod-shard-1.global-mock.global.rds.amazonaws.com',
      });
      assert.equal(r.outputs.bucketArn, 'arn:aws:s3:::umcp-prod-objects-us-east-1');
      assert.match(String(r.outputs.bucketKmsKeyArn), /^arn:aws:kms:us-east-1:/);
      assert.equal(r.outputs.vpcCidr, '10.20.0.0/16');
      assert.equal((r.outputs.privateRouteTableIds as string[]).length, 3);
    });

    it('admits the peer VPC to the databases (the writer may be reached from there after a switchover)', async () => {
      const r = await runStack('prod-us-east-1');
      const sg = one(r, 'aws:ec2/securityGroup:SecurityGroup', 'db-sg');
      assert.deepEqual(sg.inputs.ingress[0].cidrBlocks, ['10.20.0.0/16', '10.30.0.0/16']);
    });
  });

  describe('secondary region (prod-eu-west-1)', () => {
    it('joins the global clusters without a master password and with a regional KMS key', async () => {
      const r = await runStack('prod-eu-west-1');
      assert.equal(ofType(r, 'aws:rds/globalCluster:GlobalCluster').length, 0, 'the primary owns the global clusters');
      const clusters = ofType(r, 'aws:rds/cluster:Cluster');
      assert.equal(clusters.length, 2);
      for (const c of clusters) {
        assert.match(c.inputs.globalClusterIdentifier, /^umcp-prod-shard-[01]$/);
        assert.equal(c.inputs.masterPassword, undefined, `${c.name} has no master password`);
        assert.equal(c.inputs.masterUsername, undefined, `${c.name} has no master user`);
        assert.match(c.inputs.kmsKeyId, /^arn:aws:kms:eu-west-1:/);
        assert.equal(c.inputs.enableGlobalWriteForwarding, undefined, `${c.name}: writes use the global writer endpoint, not forwarding`);
      }
    });

    it('writes through the global writer endpoints it reads from the primary, never its local proxy or cluster', async () => {
      const r = await runStack('prod-eu-west-1');
      const secret = one(r, 'kubernetes:core/v1:Secret', 'app-secret').inputs.stringData;
      assert.match(secret.DATABASE_URL, /@umcp-prod-shard-0\.global-mock\.global\.rds\.amazonaws\.com:5432\/umcp\?sslmode=require$/);
      assert.match(secret.DATABASE_READER_URLS, /@umcp-prod-db-shard-0-proxy-ro\.endpoint\.proxy-mock\.eu-west-1\./, 'reads stay on the local proxy');
      const shards = JSON.parse(one(r, 'kubernetes:core/v1:ConfigMap', 'app-config').inputs.data.SHARDS);
      assert.match(shards[0].writerUrl, /@umcp-prod-shard-1\.global-mock\.global\.rds\.amazonaws\.com:5432\//);
      assert.match(shards[0].readerUrls[0], /proxy-ro\.endpoint\.proxy-mock\.eu-west-1\./);
    });

    it('reads the primary through a StackReference named from config, with no hand-set value in its stack file', async () => {
      const r = await runStack('prod-eu-west-1');
      const refs = (r.reads ?? []).filter((x) => x.type === 'pulumi:pulumi:StackReference');
      assert.deepEqual(
        refs.map((x) => x.inputs.name),
        ['organization/unified-mcp/prod-us-east-1'],
      );
      const file = readStackConfig('prod-eu-west-1');
      assert.equal((file['unified-mcp:cache'] as Record<string, unknown> | undefined)?.['globalReplicationGroupId'], undefined);
      const override = await runStackUnderMocks('prod-eu-west-1', { config: { 'unified-mcp:peerStack': 'acme/unified-mcp/prod-us-east-1' } });
      assert.deepEqual(
        (override.reads ?? []).map((x) => x.inputs.name),
        ['acme/unified-mcp/prod-us-east-1'],
      );
    });

    it('creates the replication in both directions from its own bucket and the primary outputs', async () => {
      const r = await runStack('prod-eu-west-1');
      const configs = ofType(r, 'aws:s3/bucketReplicationConfig:BucketReplicationConfig');
      const to = configs.find((c) => c.name.endsWith('to-peer'))!;
      const from = configs.find((c) => c.name.endsWith('from-peer'))!;
      assert.equal(to.inputs.bucket, 'umcp-prod-objects-eu-west-1');
      assert.equal(to.inputs.rules[0].destination.bucket, 'arn:aws:s3:::umcp-prod-objects-us-east-1');
      assert.equal(to.inputs.rules[0].destination.encryptionConfiguration.replicaKmsKeyId, 'arn:aws:kms:us-east-1:123456789012:key/umcp-prod-objects-kms');
      assert.equal(from.inputs.bucket, 'umcp-prod-objects-us-east-1');
      assert.equal(from.inputs.rules[0].destination.bucket, 'arn:aws:s3:::umcp-prod-objects-eu-west-1');
      assert.match(from.inputs.rules[0].destination.encryptionConfiguration.replicaKmsKeyId, /^arn:aws:kms:eu-west-1:/);
      assert.match(String(from.provider), /umcp-prod-aws-us-east-1/, 'the primary bucket is configured in its own region');
    });

    it('peers the two VPCs and routes each to the other over its private route tables', async () => {
      const r = await runStack('prod-eu-west-1');
      const request = one(r, 'aws:ec2/vpcPeeringConnection:VpcPeeringConnection');
      assert.deepEqual([request.inputs.peerVpcId, request.inputs.peerRegion], ['vpc-umcp-prod-net-vpc', 'us-east-1']);
      assert.match(String(one(r, 'aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter').provider), /umcp-prod-aws-us-east-1/);
      const routes = ofType(r, 'aws:ec2/route:Route').filter((x) => x.inputs.vpcPeeringConnectionId);
      assert.deepEqual(routes.map((x) => x.inputs.destinationCidrBlock).sort(), [...Array(3).fill('10.20.0.0/16'), ...Array(3).fill('10.30.0.0/16')]);
    });

    it('joins the cache global datastore; the state role stays regional and writable', async () => {
      const r = await runStack('prod-eu-west-1');
      assert.equal(ofType(r, 'aws:elasticache/globalReplicationGroup:GlobalReplicationGroup').length, 0);
      const cache = one(r, 'aws:elasticache/replicationGroup:ReplicationGroup', 'redis-cache');
      assert.equal(cache.inputs.globalReplicationGroupId, 'ldgnf-umcp-prod-redis-cache', 'read from the primary stack, not the stack file');
      assert.equal(cache.inputs.authToken, undefined, 'AUTH is inherited from the global datastore');
      const state = one(r, 'aws:elasticache/replicationGroup:ReplicationGroup', 'redis-state');
      assert.equal(state.inputs.globalReplicationGroupId, undefined);
      assert.equal(state.inputs.transitEncryptionEnabled, true);
    });
  });

  it('gives every shard writer + reader instances and an RDS Proxy with a read-only endpoint', async () => {
    for (const stack of ['dev', 'prod-us-east-1', 'prod-eu-west-1']) {
      const r = await runStack(stack);
      const shards = stack === 'dev' ? 1 : 2;
      const readers = stack === 'dev' ? 1 : 2;
      assert.equal(ofType(r, 'aws:rds/clusterInstance:ClusterInstance').length, shards * (1 + readers), stack);
      assert.equal(ofType(r, 'aws:rds/proxy:Proxy').length, shards, stack);
      const ro = ofType(r, 'aws:rds/proxyEndpoint:ProxyEndpoint');
      assert.equal(ro.length, shards);
      for (const e of ro) assert.equal(e.inputs.targetRole, 'READ_ONLY');
      for (const c of ofType(r, 'aws:rds/cluster:Cluster')) assert.equal(c.inputs.backupRetentionPeriod, stack === 'dev' ? 3 : 14);
    }
  });

  it('can keep independent writable caches per region (cache.globalDatastore: false)', async () => {
    await runStack('prod-eu-west-1');
    const cache = { globalDatastore: false };
    const r = await runStackUnderMocks('prod-eu-west-1', { config: { 'unified-mcp:cache': cache } });
    const group = one(r, 'aws:elasticache/replicationGroup:ReplicationGroup', 'redis-cache');
    assert.equal(group.inputs.globalReplicationGroupId, undefined);
    assert.equal(group.inputs.transitEncryptionEnabled, true);
  });

  it('dev has no peer: no global database or datastore, no replication', async () => {
    const r = await runStack('dev');
    assert.equal(ofType(r, 'aws:rds/globalCluster:GlobalCluster').length, 0);
    for (const c of ofType(r, 'aws:rds/cluster:Cluster')) assert.equal(c.inputs.globalClusterIdentifier, undefined);
    assert.equal(ofType(r, 'aws:elasticache/globalReplicationGroup:GlobalReplicationGroup').length, 0);
    assert.equal(ofType(r, 'aws:s3/bucketReplicationConfig:BucketReplicationConfig').length, 0);
  });

  describe('argument checks', () => {
    const db = { globalClusterPrefix: 'p', region: 'us-east-1', password: 'x', vpcId: 'v', subnetIds: [], allowedCidrs: ['10.0.0.0/16'] };
    it('rejects contradictory database args', () => {
      assert.match(checkDatabaseArgs({ ...db, shards: ['0', '0'] })!, /duplicates/);
      assert.match(checkDatabaseArgs({ ...db, readers: 0 })!, /at least 1/);
      assert.match(checkDatabaseArgs({ ...db, allowedCidrs: ['0.0.0.0/0'] })!, /stays private/);
      assert.match(checkDatabaseArgs({ ...db, instanceClass: 'db.t4g.medium' })!, /burstable/);
      assert.equal(checkDatabaseArgs({ ...db, global: false, instanceClass: 'db.t4g.medium' }), undefined);
      assert.match(checkDatabaseArgs({ ...db, global: false, role: 'secondary' })!, /only exists within a global database/);
      assert.match(checkDatabaseArgs({ ...db, role: 'secondary' })!, /needs globalWriterEndpoints/);
      assert.equal(checkDatabaseArgs(db), undefined);
    });
    it('rejects contradictory cache and storage args', () => {
      const cache = { authToken: 't', vpcId: 'v', subnetIds: [], allowedCidrs: [] };
      assert.match(checkCacheArgs({ ...cache, role: 'secondary', globalDatastore: true })!, /needs globalReplicationGroupId/);
      assert.match(checkCacheArgs({ ...cache, role: 'primary', globalReplicationGroupId: 'x' })!, /only for a secondary/);
      assert.match(checkCacheArgs({ ...cache, nodes: 1 })!, /2\.\.6/);
      assert.match(checkStorageArgs({ bucketPrefix: 'b', region: 'us-east-1', replicateToPeer: true })!, /needs peerRegion/);
      assert.equal(checkStorageArgs({ bucketPrefix: 'b', region: 'us-east-1', peerRegion: 'eu-west-1' }), undefined);
      assert.match(checkStorageArgs({ bucketPrefix: 'b', region: 'eu-west-1', peerRegion: 'us-east-1', role: 'secondary' })!, /needs peer/);
    });
  });
});
