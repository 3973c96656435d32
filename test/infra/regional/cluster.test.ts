/**
 * Network and cluster: 3 AZs, NAT per AZ in prod, endpoints, EKS encryption/logging/access, node groups
 * (spot workers with several instance types in prod), add-ons; argument checks as plain functions.
 */
import assert from 'node:assert/strict';
import { checkClusterArgs, checkNodeGroup, defaultNodeGroups } from '../../../infra/regional/cluster/index.js';
import { subnetCidrs } from '../../../infra/regional/network/index.js';
import { ofType, one, REGIONAL_STACKS, runStack, isProd } from '../support/stacks.js';

describe('regional network and cluster', () => {
  for (const stack of REGIONAL_STACKS) {
    describe(`stack ${stack}`, () => {
      it('spreads public and private subnets over 3 availability zones', async () => {
        const r = await runStack(stack);
        const subnets = ofType(r, 'aws:ec2/subnet:Subnet');
        for (const tier of ['public', 'private']) {
          const zones = subnets.filter((s) => s.inputs.tags.tier === tier).map((s) => s.inputs.availabilityZone);
          assert.equal(new Set(zones).size, 3, `${tier} subnets in 3 distinct AZs: ${zones.join(', ')}`);
        }
      });

      it(`has ${isProd(stack) ? 'a NAT gateway per AZ' : 'one NAT gateway'}, S3 and ECR endpoints`, async () => {
        const r = await runStack(stack);
        assert.equal(ofType(r, 'aws:ec2/natGateway:NatGateway').length, isProd(stack) ? 3 : 1);
        const services = ofType(r, 'aws:ec2/vpcEndpoint:VpcEndpoint').map((e) => String(e.inputs.serviceName));
        for (const svc of ['s3', 'ecr.api', 'ecr.dkr'])
          assert.ok(
            services.some((s) => s.endsWith(`.${svc}`)),
            `${svc} endpoint`,
          );
      });

      it("passes one regional AWS provider to every AWS resource (a secondary also its primary region's, for the cross-region parts only)", async () => {
        const r = await runStack(stack);
        const providers = ofType(r, 'pulumi:providers:aws');
        const own = providers.filter((p) => p.inputs.region === r.outputs.region);
        assert.equal(own.length, 1);
        for (const x of r.resources.filter((x) => x.custom && x.type.startsWith('aws:'))) {
          assert.ok(x.provider?.includes('pulumi:providers:aws::'), `${x.type} ${x.name} uses the regional provider`);
        }
        const others = providers.filter((p) => p !== own[0]);
        const secondary = r.outputs.isPrimary === false;
        assert.equal(others.length, secondary ? 1 : 0);
        for (const p of others) {
          const inPeer = r.resources.filter((x) => x.provider?.split('::')[3] === p.name).map((x) => x.type);
          assert.deepEqual(
            [...new Set(inPeer)].sort(),
            [
              'aws:ec2/route:Route',
              'aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter',
              'aws:s3/bucketReplicationConfig:BucketReplicationConfig',
            ],
            `${p.name}: only the peering acceptance, its return routes and the primary bucket's replication`,
          );
        }
      });

      it('passes a Kubernetes provider explicitly to every Kubernetes object', async () => {
        const r = await runStack(stack);
        for (const x of r.resources.filter((x) => x.type.startsWith('kubernetes:'))) {
          assert.ok(x.provider?.includes('pulumi:providers:kubernetes::'), `${x.type} ${x.name} has an explicit provider`);
        }
      });
    });
  }

  describe('EKS in prod', () => {
    for (const stack of REGIONAL_STACKS.filter(isProd)) {
      it(`${stack}: encrypts secrets with KMS, logs the control plane, uses access entries`, async () => {
        const r = await runStack(stack);
        const eks = one(r, 'aws:eks/cluster:Cluster');
        assert.deepEqual(eks.inputs.encryptionConfig.resources, ['secrets']);
        assert.match(eks.inputs.encryptionConfig.provider.keyArn, /^arn:aws:kms:/);
        assert.deepEqual([...eks.inputs.enabledClusterLogTypes].sort(), ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler']);
        assert.equal(eks.inputs.vpcConfig.endpointPrivateAccess, true);
        assert.equal(eks.inputs.accessConfig.authenticationMode, 'API');
        assert.ok(ofType(r, 'aws:eks/addon:Addon').some((a) => a.inputs.addonName === 'eks-pod-identity-agent'));
        assert.ok(ofType(r, 'aws:eks/podIdentityAssociation:PodIdentityAssociation').length >= 4, 'LBC, autoscaler, gateway, worker');
        assert.ok(r.secretOutputs.includes('kubeconfig'));
      });

      it(`${stack}: runs workers on spot over several instance types, system and gateway on demand`, async () => {
        const r = await runStack(stack);
        const groups = ofType(r, 'aws:eks/nodeGroup:NodeGroup');
        const pool = (p: string) => groups.find((g) => g.inputs.labels['umcp.io/pool'] === p)!;
        assert.equal(pool('workers').inputs.capacityType, 'SPOT');
        assert.ok(pool('workers').inputs.instanceTypes.length >= 3, 'several instance types');
        assert.equal(pool('gateway').inputs.capacityType, 'ON_DEMAND');
        assert.equal(pool('system').inputs.capacityType, 'ON_DEMAND');
        for (const g of groups) assert.equal(g.inputs.subnetIds.length, 3, `${g.name} in the 3 private subnets`);
        for (const lt of ofType(r, 'aws:ec2/launchTemplate:LaunchTemplate')) {
          assert.equal(lt.inputs.blockDeviceMappings[0].ebs.encrypted, 'true', `${lt.name} encrypted root volume`);
          assert.equal(lt.inputs.metadataOptions.httpTokens, 'required', `${lt.name} IMDSv2`);
        }
      });

      it(`${stack}: installs the load balancer controller, cluster autoscaler, KEDA and Prometheus`, async () => {
        const r = await runStack(stack);
        const charts = ofType(r, 'kubernetes:helm.sh/v3:Release').map((x) => x.inputs.chart);
        for (const c of ['aws-load-balancer-controller', 'cluster-autoscaler', 'keda', 'kube-prometheus-stack', 'prometheus-adapter', 'metrics-server']) {
          assert.ok(charts.includes(c), c);
        }
      });
    }
  });

  it('dev targets an existing cluster: no EKS, a Kubernetes provider from the kubeconfig secret', async () => {
    const r = await runStack('dev');
    assert.equal(ofType(r, 'aws:eks/cluster:Cluster').length, 0);
    const k8s = one(r, 'pulumi:providers:kubernetes');
    assert.ok(k8s.secretPaths?.includes('kubeconfig'), 'kubeconfig stays secret');
    assert.equal(r.outputs.clusterName, 'existing');
  });

  describe('argument checks', () => {
    it('splits a /16 into /22 public and /19 private subnets', () => {
      assert.deepEqual(subnetCidrs('10.20.0.0/16'), {
        public: ['10.20.0.0/22', '10.20.4.0/22', '10.20.8.0/22'],
        private: ['10.20.64.0/19', '10.20.96.0/19', '10.20.128.0/19'],
      });
      assert.throws(() => subnetCidrs('10.20.0.0/20'), /must be a \/16/);
    });

    it('rejects spot with one instance type, mixed architectures and bad sizes', () => {
      assert.match(checkNodeGroup('workers', { instanceTypes: ['m7g.large'], capacityType: 'SPOT', minSize: 1, maxSize: 2 })!, /at least two instance types/);
      assert.match(checkNodeGroup('workers', { instanceTypes: ['m7g.large', 'm6i.large'], minSize: 1, maxSize: 2 })!, /mixes arm64 and x86_64/);
      assert.match(checkNodeGroup('gateway', { instanceTypes: ['m7g.large'], minSize: 3, maxSize: 2 })!, /exceeds maxSize/);
      assert.equal(checkNodeGroup('workers', defaultNodeGroups(true).workers), undefined);
    });

    it('rejects an API endpoint open to the whole internet', () => {
      const base = { clusterName: 'c', version: '1.33', region: 'us-east-1', vpcId: 'vpc', privateSubnetIds: [], nodeGroups: defaultNodeGroups(false) };
      assert.match(checkClusterArgs({ ...base, publicAccessCidrs: ['0.0.0.0/0'] })!, /publicAccessCidrs: expected the networks .* found 0\.0\.0\.0\/0/);
      assert.match(checkClusterArgs({ ...base, privateAccessCidrs: ['0.0.0.0/0'] })!, /privateAccessCidrs/);
      assert.equal(checkClusterArgs({ ...base, publicAccessCidrs: ['203.0.113.0/24'] }), undefined);
      assert.equal(checkClusterArgs(base), undefined, 'private only');
    });
  });
});
