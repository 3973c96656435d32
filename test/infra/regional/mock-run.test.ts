/**
 * The mock runner E's validate/plan tools reuse: several stacks in one process, isolated runs, errors
 * surfaced, resources with parents, providers and URNs.
 */
import assert from 'node:assert/strict';
import * as pulumi from '@pulumi/pulumi';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MOCK_SECRETS, readStackConfig, runStackUnderMocks, unwrapSecrets } from '../../../infra/tools/mock-run.js';
import { readAllStackConfigs } from '../../../infra/tools/deploy/order.js';
import { runStack, STACKS_DIR } from '../support/stacks.js';

describe('runStackUnderMocks', () => {
  it('gives the same result when a stack runs again after others in the same process', async () => {
    const first = await runStack('dev');
    await runStack('prod-eu-west-1');
    const again = await runStackUnderMocks('dev');
    assert.equal(again.resources.length, first.resources.length);
    assert.deepEqual(again.outputs, first.outputs);
  });

  it('records parents, providers and URNs of every resource', async () => {
    const r = await runStack('prod-us-east-1');
    const platform = r.resources.find((x) => x.type === 'unified-mcp:regional:RegionalPlatform')!;
    assert.ok(platform.urn?.startsWith('urn:pulumi:prod-us-east-1::unified-mcp::'));
    const vpc = r.resources.find((x) => x.type === 'aws:ec2/vpc:Vpc')!;
    assert.match(vpc.parent!, /unified-mcp:network:Network::/);
    for (const x of r.resources) assert.ok(x.urn, `${x.type} ${x.name} registered`);
    for (const t of ['network:Network', 'cluster:Cluster', 'database:Database', 'cache:Cache', 'storage:Storage', 'app:App']) {
      assert.ok(
        r.resources.some((x) => x.type === `unified-mcp:${t}`),
        `component unified-mcp:${t}`,
      );
    }
  });

  it('runs a custom program and reports secret outputs', async () => {
    await runStack('dev');
    const r = await runStackUnderMocks('dev', { program: async () => ({ plain: 'a', hidden: pulumi.secret('b') }) });
    assert.deepEqual(r.outputs, { plain: 'a', hidden: 'b' });
    assert.deepEqual(r.secretOutputs, ['hidden']);
    assert.equal(r.resources.length, 1, 'only the root stack');
  });

  it('surfaces a program error instead of hanging', async () => {
    await runStack('dev');
    await assert.rejects(
      runStackUnderMocks('dev', {
        program: async () => {
          throw new Error('boom');
        },
      }),
      /boom/,
    );
  });

  it('runs a stack file holding secrets encrypted (as `pulumi config set --secret` leaves it) with their mock values', async () => {
    await runStack('dev');
    const dir = mkdtempSync(join(tmpdir(), 'umcp-stacks-'));
    const file = join(dir, 'Pulumi.dev.yaml');
    copyFileSync(join(STACKS_DIR, 'Pulumi.dev.yaml'), file);
    writeFileSync(file, `${readFileSync(file, 'utf8')}  unified-mcp:dbPassword:\n    secure: v1:AAAA\n  unified-mcp:alertWebhookUrl:\n    secure: v1:BBBB\n`);
    const r = await runStackUnderMocks('dev', { stacksDir: dir });
    assert.equal(r.outputs.dbPassword, MOCK_SECRETS['unified-mcp:dbPassword'], 'an encrypted shared secret counts as set');
    assert.ok(r.secretOutputs.includes('dbPassword'));
    assert.throws(() => readStackConfig('dev', dir), /holds an encrypted value the mocks cannot decrypt/, 'the default read still refuses');
    assert.deepEqual(readAllStackConfigs(dir)['dev']!['unified-mcp:alertWebhookUrl'], { secure: 'v1:BBBB' }, 'the deploy reads it as set');
  });

  it('unwraps secrets and lists their paths', () => {
    const paths: string[] = [];
    const wrapped = { a: { [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value: 's' }, b: [1] };
    assert.deepEqual(unwrapSecrets(wrapped, '', paths), { a: 's', b: [1] });
    assert.deepEqual(paths, ['a']);
  });
});
