/**
 * Cluster and edge hardening rules (infra/policy/rules/network-policy.ts, ...): unit cases as plain
 * functions, then every regional stack file under mocks, which must pass them.
 */
import assert from 'node:assert/strict';
import { evaluateRules } from '../../../infra/policy/run.js';
import {
  albOriginRestricted,
  containerImageProvenance,
  eksEndpointNotOpen,
  imageProblem,
  networkPolicyEnforced,
  networkPolicyOnUnmanagedCluster,
} from '../../../infra/policy/rules/index.js';
import { defaultOriginCidrs, originAuthHeader } from '../../../infra/global/origin-access.js';
import { kubectlImage, KUBECTL_TAGS } from '../../../infra/regional/app/autoscaling.js';
import { regionalConfigSchema } from '../../../infra/regional/config-schema.js';
import { runStackUnderMocks } from '../../../infra/tools/mock-run.js';
import type { PolicyTarget, Rule } from '../../../infra/policy/types.js';
import { targetsOf } from '../../../infra/tools/plan/targets.js';
import { isProd, ofType, one, REGIONAL_STACKS, runStack } from '../support/stacks.js';

const res = (type: string, name: string, props: Record<string, any>): PolicyTarget => ({ type, name, props });
const NP = res('kubernetes:networking.k8s.io/v1:NetworkPolicy', 'deny', { spec: { podSelector: {} } });
const EKS = res('aws:eks/cluster:Cluster', 'eks', { name: 'c' });
const cni = (props: Record<string, any>) => res('aws:eks/addon:Addon', 'vpc-cni', { addonName: 'vpc-cni', ...props });

/** Violations of `rules` in the mocked run of `stack`. */
async function violationsIn(stack: string, rules: readonly Rule[]) {
  const r = await runStack(stack);
  const environment = stack.startsWith('prod') ? 'prod' : 'dev';
  return evaluateRules(targetsOf(r.resources), { environment, rules }).violations;
}

describe('cluster and edge policy rules', () => {
  describe('network-policy-enforced', () => {
    it('accepts a vpc-cni add-on with enableNetworkPolicy "true"', () => {
      assert.deepEqual(networkPolicyEnforced.check([NP, EKS, cni({ configurationValues: '{"enableNetworkPolicy":"true"}' })], {}), []);
    });
    it('rejects a vpc-cni add-on without it, naming resource, expected and found', () => {
      const [f] = networkPolicyEnforced.check([NP, EKS, cni({})], {});
      assert.match(f!.message, /aws:eks\/addon:Addon "vpc-cni": configurationValues.enableNetworkPolicy: expected "true", found not set/);
      const [g] = networkPolicyEnforced.check([NP, EKS, cni({ configurationValues: '{"enableNetworkPolicy":"false"}' })], {});
      assert.match(g!.message, /found "false"/);
    });
    it('rejects a vpc-cni older than v1.14 and an EKS stack without the add-on', () => {
      const [f] = networkPolicyEnforced.check(
        [NP, EKS, cni({ configurationValues: '{"enableNetworkPolicy":"true"}', addonVersion: 'v1.13.4-eksbuild.1' })],
        {},
      );
      assert.match(f!.message, /addonVersion: expected v1\.14\.0 or later.*found "v1\.13\.4-eksbuild\.1"/);
      assert.deepEqual(
        networkPolicyEnforced.check([NP, EKS, cni({ configurationValues: '{"enableNetworkPolicy":"true"}', addonVersion: 'v1.19.2-eksbuild.5' })], {}),
        [],
      );
      assert.match(networkPolicyEnforced.check([NP, EKS], {})[0]!.message, /found no vpc-cni add-on/);
    });
    it('does not apply without NetworkPolicies or without EKS; an existing cluster gets an advisory', () => {
      assert.deepEqual(networkPolicyEnforced.check([EKS, cni({})], {}), []);
      assert.deepEqual(networkPolicyEnforced.check([NP], {}), []);
      assert.equal(networkPolicyOnUnmanagedCluster.level, 'advisory');
      assert.match(networkPolicyOnUnmanagedCluster.check([NP], {})[0]!.message, /existing cluster: expected its CNI to enforce NetworkPolicy/);
      assert.deepEqual(networkPolicyOnUnmanagedCluster.check([NP, EKS], {}), []);
    });
  });

  describe('eks-endpoint-not-open', () => {
    const eks = (vpcConfig: Record<string, unknown>) => res('aws:eks/cluster:Cluster', 'eks', { vpcConfig });
    it('accepts a private-only endpoint and a public one for listed networks', () => {
      assert.deepEqual(eksEndpointNotOpen.check(eks({ endpointPrivateAccess: true, endpointPublicAccess: false }), {}), []);
      assert.deepEqual(
        eksEndpointNotOpen.check(eks({ endpointPrivateAccess: true, endpointPublicAccess: true, publicAccessCidrs: ['203.0.113.0/24'] }), {}),
        [],
      );
    });
    it('rejects 0.0.0.0/0, a public endpoint without a list (AWS default: open) and no private endpoint', () => {
      assert.match(
        eksEndpointNotOpen.check(eks({ endpointPrivateAccess: true, endpointPublicAccess: true, publicAccessCidrs: ['0.0.0.0/0'] }), {})[0]!,
        /aws:eks\/cluster:Cluster "eks": vpcConfig.publicAccessCidrs: expected the networks .*, found 0\.0\.0\.0\/0/,
      );
      assert.match(eksEndpointNotOpen.check(eks({ endpointPrivateAccess: true }), {})[0]!, /found a public endpoint with no list/);
      assert.match(eksEndpointNotOpen.check(eks({ endpointPublicAccess: false }), {})[0]!, /endpointPrivateAccess: expected true/);
    });
    it('config: private by default, refuses /0 anywhere', () => {
      const base = regionalConfigSchema.parse({
        role: 'regional',
        environment: 'dev',
        region: 'us-east-1',
        network: { cidr: '10.1.0.0/16' },
        storage: { bucketPrefix: 'umcp-x' },
        app: { hostname: 'a.example.com', gateway: { image: 'registry.k8s.io/pause:3.10' }, worker: { image: 'registry.k8s.io/pause:3.10' } },
      });
      assert.deepEqual(base.cluster.publicAccessCidrs, []);
      const open = regionalConfigSchema.safeParse({ ...base, role: 'regional', cluster: { publicAccessCidrs: ['0.0.0.0/0'] } });
      assert.equal(open.success, false);
      assert.match(JSON.stringify(open.error!.issues), /not the whole internet/);
    });
    it('a prod stack without publicAccessCidrs gets a private-only endpoint', async () => {
      const r = await runStackUnderMocks('prod-us-east-1', { config: { 'unified-mcp:cluster': { mode: 'eks', version: '1.33' } } });
      const vpc = one(r, 'aws:eks/cluster:Cluster').inputs.vpcConfig;
      assert.equal(vpc.endpointPublicAccess, false);
      assert.equal(vpc.publicAccessCidrs, undefined);
      assert.equal(vpc.endpointPrivateAccess, true);
    });
  });

  describe('container-image-provenance', () => {
    it('accepts pinned, fully qualified images from allowed registries', () => {
      for (const image of [
        'registry.k8s.io/kubectl:v1.33.6',
        '123456789012.dkr.ecr.eu-west-1.amazonaws.com/umcp-gateway:1.0.0',
        'ghcr.io/example/umcp-worker:1.0.0',
        `public.ecr.aws/x/y@sha256:${'a'.repeat(64)}`,
      ]) {
        assert.equal(imageProblem(image), undefined, image);
      }
    });
    it('rejects the retired bitnami kubectl tag, short names, latest, no tag and unknown registries', () => {
      assert.match(imageProblem('bitnami/kubectl:1.33')!, /fully qualified/);
      assert.match(imageProblem('docker.io/bitnami/kubectl:1.33')!, /Bitnami stopped publishing/);
      assert.match(imageProblem('k8s.gcr.io/pause:3.9')!, /frozen since April 2023/);
      assert.match(imageProblem('ghcr.io/example/umcp-gateway:latest')!, /pinned tag or digest, found "latest"/);
      assert.match(imageProblem('ghcr.io/example/umcp-gateway')!, /found no tag/);
      assert.match(imageProblem('registry.example.net/x:1')!, /expected a registry in .*found "registry\.example\.net"/);
    });
    it('names workload, container, expected and found; checks CronJob containers', () => {
      const job = res('kubernetes:batch/v1:CronJob', 'scale-down', {
        spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'kubectl', image: 'bitnami/kubectl:1.33' }] } } } } },
      });
      assert.match(
        containerImageProvenance.check(job, {})[0]!,
        /kubernetes:batch\/v1:CronJob "scale-down": container "kubectl" image: expected a fully qualified reference .* found "bitnami\/kubectl:1\.33"/,
      );
    });
    it('the scale-down CronJobs run registry.k8s.io/kubectl of the cluster minor', async () => {
      assert.equal(kubectlImage('1.33'), 'registry.k8s.io/kubectl:v1.33.6');
      assert.throws(() => kubectlImage('1.20'), /no verified registry\.k8s\.io\/kubectl tag for Kubernetes 1\.20/);
      const jobs = ofType(await runStack('dev'), 'kubernetes:batch/v1:CronJob');
      assert.equal(jobs.length, 2);
      for (const j of jobs) assert.equal(j.inputs.spec.jobTemplate.spec.template.spec.containers[0].image, `registry.k8s.io/kubectl:${KUBECTL_TAGS['1.33']}`);
    });
  });

  describe('alb-origin-restricted', () => {
    const ingress = (annotations: Record<string, string>) =>
      res('kubernetes:networking.k8s.io/v1:Ingress', 'gw', {
        metadata: { annotations: { 'alb.ingress.kubernetes.io/scheme': 'internet-facing', ...annotations } },
        spec: {
          ingressClassName: 'alb',
          rules: [{ host: 'us.example.com', http: { paths: [{ path: '/', backend: { service: { name: 'umcp-gateway' } } }] } }],
        },
      });
    const header = JSON.stringify([{ field: 'http-header', httpHeaderConfig: { httpHeaderName: 'x-a', values: ['s'] } }]);
    it('rejects an internet-facing ALB open to anyone, naming expected and found', () => {
      assert.match(
        albOriginRestricted.check(ingress({}), {})[0]!,
        /Ingress "gw": internet-facing ALB: expected .*inbound-cidrs .* found no inbound-cidrs \(the controller opens 0\.0\.0\.0\/0\) and no header condition for umcp-gateway/,
      );
      assert.equal(albOriginRestricted.check(ingress({ 'alb.ingress.kubernetes.io/inbound-cidrs': '0.0.0.0/0' }), {}).length, 1);
    });
    it('accepts restricted sources, a required header, or both; ignores internal ALBs and other classes', () => {
      assert.deepEqual(albOriginRestricted.check(ingress({ 'alb.ingress.kubernetes.io/inbound-cidrs': '173.245.48.0/20,2400:cb00::/32' }), {}), []);
      assert.deepEqual(albOriginRestricted.check(ingress({ 'alb.ingress.kubernetes.io/conditions.umcp-gateway': header }), {}), []);
      assert.deepEqual(albOriginRestricted.check(ingress({ 'alb.ingress.kubernetes.io/scheme': 'internal' }), {}), []);
      const nginx = res('kubernetes:networking.k8s.io/v1:Ingress', 'n', { spec: { ingressClassName: 'nginx' }, metadata: { annotations: {} } });
      assert.deepEqual(albOriginRestricted.check(nginx, {}), []);
    });
  });

  describe('origin access of the prod ALBs', () => {
    for (const stack of REGIONAL_STACKS.filter(isProd)) {
      it(`${stack}: admits Cloudflare's ranges only and requires the region's secret header, exported as a secret output`, async () => {
        const r = await runStack(stack);
        const ing = one(r, 'kubernetes:networking.k8s.io/v1:Ingress');
        const a = ing.inputs.metadata.annotations;
        assert.deepEqual(a['alb.ingress.kubernetes.io/inbound-cidrs'].split(','), defaultOriginCidrs());
        const region = String(r.outputs.region);
        const [cond] = JSON.parse(a['alb.ingress.kubernetes.io/conditions.umcp-gateway']);
        const auth = r.outputs.originAuth as { header: string; value: string };
        assert.deepEqual(cond, { field: 'http-header', httpHeaderConfig: { httpHeaderName: originAuthHeader(region), values: [auth.value] } });
        assert.equal(auth.header, originAuthHeader(region));
        assert.ok(r.secretOutputs.includes('originAuth'), 'originAuth output is secret');
        assert.ok(
          ing.secretPaths?.some((p) => p.startsWith('metadata')),
          'the annotation with the secret is secret in the state',
        );
      });
    }
    it('rotation: after a secretVersion bump the ALB accepts the new and the previous secret, the output names the new one', async () => {
      const { readStackConfig } = await import('../../../infra/tools/mock-run.js');
      const app = readStackConfig('prod-us-east-1')['unified-mcp:app'] as Record<string, unknown>;
      const r = await runStackUnderMocks('prod-us-east-1', { config: { 'unified-mcp:app': { ...app, originAccess: { secretVersion: 3 } } } });
      const secrets = ofType(r, 'random:index/randomPassword:RandomPassword')
        .map((x) => x.name)
        .filter((n) => n.includes('-origin-auth-'))
        .sort();
      assert.deepEqual(
        secrets.map((n) => n.replace(/^.*-origin-auth-/, '')),
        ['v2', 'v3'],
      );
      const [cond] = JSON.parse(
        one(r, 'kubernetes:networking.k8s.io/v1:Ingress').inputs.metadata.annotations['alb.ingress.kubernetes.io/conditions.umcp-gateway'],
      );
      assert.equal(cond.httpHeaderConfig.values.length, 2);
      assert.equal((r.outputs.originAuth as { value: string }).value, cond.httpHeaderConfig.values[0]);
    });
  });

  describe('regional stack files', () => {
    for (const stack of REGIONAL_STACKS) {
      it(`${stack}: passes the mandatory cluster and edge rules`, async () => {
        const v = await violationsIn(stack, [networkPolicyEnforced, eksEndpointNotOpen, containerImageProvenance, albOriginRestricted]);
        assert.deepEqual(
          v.map((x) => x.message),
          [],
        );
      });
    }
    for (const stack of REGIONAL_STACKS.filter(isProd)) {
      it(`${stack}: API endpoint public only for the documentation range of the stack file`, async () => {
        const vpc = one(await runStack(stack), 'aws:eks/cluster:Cluster').inputs.vpcConfig;
        assert.deepEqual([vpc.endpointPublicAccess, vpc.publicAccessCidrs], [true, ['203.0.113.0/24']]);
      });
    }
    it('dev (existing cluster): warns that NetworkPolicy enforcement is a prerequisite', async () => {
      const v = await violationsIn('dev', [networkPolicyOnUnmanagedCluster]);
      assert.equal(v.length, 1);
    });
  });
});
