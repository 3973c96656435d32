/**
 * Cluster and edge hardening rules (infra/policy/rules/network-policy.ts, ...): unit cases as plain
 * functions, then every regional stack file under mocks, which must pass them.
 */
import assert from 'node:assert/strict';
import { evaluateRules } from '../../../infra/policy/run.js';
import { networkPolicyEnforced, networkPolicyOnUnmanagedCluster } from '../../../infra/policy/rules/index.js';
import type { PolicyTarget, Rule } from '../../../infra/policy/types.js';
import { targetsOf } from '../../../infra/tools/plan/targets.js';
import { REGIONAL_STACKS, runStack } from '../support/stacks.js';

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
      const [f] = networkPolicyEnforced.check([NP, EKS, cni({ configurationValues: '{"enableNetworkPolicy":"true"}', addonVersion: 'v1.13.4-eksbuild.1' })], {});
      assert.match(f!.message, /addonVersion: expected v1\.14\.0 or later.*found "v1\.13\.4-eksbuild\.1"/);
      assert.deepEqual(networkPolicyEnforced.check([NP, EKS, cni({ configurationValues: '{"enableNetworkPolicy":"true"}', addonVersion: 'v1.19.2-eksbuild.5' })], {}), []);
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

  describe('regional stack files', () => {
    for (const stack of REGIONAL_STACKS) {
      it(`${stack}: passes the mandatory cluster and edge rules`, async () => {
        const v = await violationsIn(stack, [networkPolicyEnforced]);
        assert.deepEqual(v.map((x) => x.message), []);
      });
    }
    it('dev (existing cluster): warns that NetworkPolicy enforcement is a prerequisite', async () => {
      const v = await violationsIn('dev', [networkPolicyOnUnmanagedCluster]);
      assert.equal(v.length, 1);
    });
  });
});
