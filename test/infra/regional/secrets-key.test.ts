/**
 * The KMS key of credential envelope encryption, for every regional stack file: a rotated customer-managed
 * key with its alias, kms:Encrypt/Decrypt on it (and only it) for the gateway and worker roles, and
 * SECRETS_KMS_KEY_ID in the configuration both Deployments load.
 */
import assert from 'node:assert/strict';
import { checkSecretsKeyArgs } from '../../../infra/regional/secrets/index.js';
import { ofType, one, REGIONAL_STACKS, runStack, isProd } from '../support/stacks.js';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
}

const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resources = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

describe('regional credentials KMS key', () => {
  for (const stack of REGIONAL_STACKS) {
    describe(`stack ${stack}`, () => {
      it('creates a rotated customer-managed key with the alias umcp-<env>-<region>-secrets', async () => {
        const r = await runStack(stack);
        const key = one(r, 'aws:kms/key:Key', '-secrets-kms');
        assert.equal(key.inputs.enableKeyRotation, true);
        assert.equal(key.inputs.keyUsage, 'ENCRYPT_DECRYPT');
        assert.equal(key.inputs.customerMasterKeySpec, 'SYMMETRIC_DEFAULT');
        assert.equal(key.inputs.deletionWindowInDays, 30);
        assert.match(key.inputs.description, /upstream credentials/);
        assert.equal(key.inputs.tags.env, r.outputs.environment);
        const alias = one(r, 'aws:kms/alias:Alias', '-secrets-kms');
        assert.equal(alias.inputs.name, `alias/umcp-${r.outputs.environment}-${r.outputs.region}-secrets`);
        assert.equal(alias.inputs.targetKeyId, key.name, 'the alias names the secrets key');
      });

      it('hands both Deployments SECRETS_KMS_KEY_ID = the key ARN (the ARN names its region)', async () => {
        const r = await runStack(stack);
        const key = one(r, 'aws:kms/key:Key', '-secrets-kms');
        const config = one(r, 'kubernetes:core/v1:ConfigMap');
        assert.equal(config.inputs.data.SECRETS_KMS_KEY_ID, `arn:aws:kms:${r.outputs.region}:123456789012:key/${key.name}`);
        assert.equal(config.inputs.data.AWS_REGION, r.outputs.region);
        const deployments = ofType(r, 'kubernetes:apps/v1:Deployment');
        assert.deepEqual(deployments.map((d) => d.inputs.metadata.name).sort(), ['umcp-gateway', 'umcp-worker']);
        for (const d of deployments) {
          const envFrom = d.inputs.spec.template.spec.containers[0].envFrom as { configMapRef?: { name: string } }[];
          assert.ok(
            envFrom.some((e) => e.configMapRef?.name === config.inputs.metadata.name),
            `${d.inputs.metadata.name} loads the ConfigMap`,
          );
        }
        assert.equal(ofType(r, 'kubernetes:core/v1:Secret')[0]!.inputs.stringData.SECRETS_MASTER_KEY, undefined, 'no local master key in production');
      });

      if (isProd(stack)) {
        it('grants the gateway and worker roles kms:Encrypt and kms:Decrypt on that key only, and no other role', async () => {
          const r = await runStack(stack);
          const keyArn = `arn:aws:kms:${r.outputs.region}:123456789012:key/${one(r, 'aws:kms/key:Key', '-secrets-kms').name}`;
          const roles = ofType(r, 'aws:iam/role:Role');
          const statementsOf = (role: (typeof roles)[number]): Statement[] =>
            ((role.inputs.inlinePolicies ?? []) as { policy: string }[]).flatMap((p) => JSON.parse(p.policy).Statement as Statement[]);
          for (const tier of ['gateway', 'worker']) {
            const role = roles.find((x) => x.name.endsWith(`-${tier}`));
            assert.ok(role, `${tier} role`);
            const onKey = statementsOf(role).filter((s) => resources(s).includes(keyArn));
            assert.equal(onKey.length, 1, `${tier}: one statement on the secrets key`);
            assert.equal(onKey[0]!.Effect, 'Allow');
            assert.deepEqual([...actions(onKey[0]!)].sort(), ['kms:Decrypt', 'kms:Encrypt']);
            assert.deepEqual(resources(onKey[0]!), [keyArn], 'on this key only');
            for (const s of statementsOf(role)) {
              if (actions(s).includes('kms:Encrypt')) assert.deepEqual(resources(s), [keyArn], `${tier}: kms:Encrypt on nothing else`);
              assert.ok(!resources(s).includes('*') || !actions(s).some((a) => a.startsWith('kms:')), `${tier}: no kms action on *`);
            }
            const association = ofType(r, 'aws:eks/podIdentityAssociation:PodIdentityAssociation').find((a) => a.inputs.serviceAccount === `umcp-${tier}`);
            assert.ok(association, `${tier}: Pod Identity association of service account umcp-${tier}`);
          }
          for (const role of roles.filter((x) => !/-(gateway|worker)$/.test(x.name))) {
            for (const s of statementsOf(role)) assert.ok(!resources(s).includes(keyArn), `${role.name} must not reach the secrets key`);
          }
        });
      }
    });
  }

  it('rejects bad alias names and deletion windows', () => {
    assert.match(checkSecretsKeyArgs({ aliasName: 'aws/secrets' })!, /reserved/);
    assert.match(checkSecretsKeyArgs({ aliasName: 'umcp prod' })!, /may only hold/);
    assert.match(checkSecretsKeyArgs({ aliasName: 'umcp-prod-eu-west-1-secrets', deletionWindowInDays: 3 })!, /7-30/);
    assert.equal(checkSecretsKeyArgs({ aliasName: 'umcp-prod-eu-west-1-secrets' }), undefined);
  });
});
