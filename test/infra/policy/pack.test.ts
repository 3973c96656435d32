import assert from 'node:assert/strict';
import type { ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy } from '@pulumi/policy';
import { toPolicies } from '../../../infra/policy/pack.js';
import { evaluateRules } from '../../../infra/policy/run.js';
import { ALL_RULES, encryptionAtRest, pdbForReplicatedDeployments } from '../../../infra/policy/rules/index.js';

/** The sentinel the engine puts in place of a value unknown during preview. */
const UNKNOWN_BOOL = '1c4a061d-8072-4f0a-a4cb-0ff528b18fe7';

describe('policy pack', () => {
  describe('toPolicies', () => {
    it('keeps names and enforcement levels, and the wrapper reports what the rule returns', async () => {
      const policies = toPolicies(ALL_RULES);
      assert.deepEqual(
        policies.map((p) => [p.name, p.enforcementLevel]),
        ALL_RULES.map((r) => [r.name, r.level]),
      );
      const policy = policies.find((p) => p.name === encryptionAtRest.name) as ResourceValidationPolicy;
      const reported: string[] = [];
      const args = { type: 'aws:rds/cluster:Cluster', name: 'db', urn: 'urn:x', props: { storageEncrypted: false }, getConfig: () => ({}) };
      const validate = policy.validateResource as (a: ResourceValidationArgs, r: (m: string) => void) => void;
      validate(args as unknown as ResourceValidationArgs, (m) => reported.push(m));
      assert.deepEqual(reported, encryptionAtRest.check({ type: args.type, name: 'db', props: args.props }, {}));
      assert.equal(reported.length, 1);
    });
    it('stack policies report against the offending resource urn', () => {
      const policy = toPolicies([pdbForReplicatedDeployments])[0] as StackValidationPolicy;
      const reported: [string, string | undefined][] = [];
      const dep = { type: 'kubernetes:apps/v1:Deployment', name: 'gw', urn: 'urn:gw', props: { spec: { replicas: 2 } } };
      policy.validateStack({ resources: [dep], getConfig: () => ({}) } as unknown as StackValidationArgs, (m, urn) => reported.push([m, urn]));
      assert.equal(reported.length, 1);
      assert.equal(reported[0]![1], 'urn:gw');
    });
  });

  describe('evaluateRules', () => {
    it('skips a check that reads a value unknown during preview, and still reports known problems', () => {
      const { violations, skippedUnknown } = evaluateRules(
        [
          { type: 'aws:rds/cluster:Cluster', name: 'unknown', props: { storageEncrypted: UNKNOWN_BOOL } },
          { type: 'aws:rds/cluster:Cluster', name: 'plain', props: { storageEncrypted: false } },
        ],
        { rules: [encryptionAtRest] },
      );
      assert.equal(skippedUnknown, 1);
      assert.deepEqual(
        violations.map((v) => [v.policy, v.level, v.resource?.name]),
        [['encryption-at-rest', 'mandatory', 'plain']],
      );
    });
    it('passes the environment and provider props to the rules', () => {
      const db = { type: 'aws:rds/cluster:Cluster', name: 'db', props: { storageEncrypted: true, deletionProtection: false } };
      const prod = evaluateRules([db], {
        environment: 'prod',
        providerPropsOf: () => ({ defaultTags: { tags: { env: 'prod', region: 'r', owner: 'o', 'cost-center': 'c' } } }),
      });
      assert.deepEqual(
        prod.violations.map((v) => v.policy),
        ['deletion-protection-in-prod'],
      );
      const dev = evaluateRules([db], { environment: 'dev' });
      assert.deepEqual(
        dev.violations.map((v) => v.policy),
        ['required-tags'],
      );
    });
  });
});
