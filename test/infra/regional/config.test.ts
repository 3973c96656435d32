/**
 * Config validation: every failure names the key and the stack; the operator's secrets are required, every
 * secret set must be secret, and none sits in plain text in a stack file.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REGIONAL_SECRETS } from '../../../infra/config.js';
import { failure, REGIONAL_STACKS, STACKS_DIR } from '../support/stacks.js';

describe('regional config', () => {
  it('names key and stack for a malformed value', async () => {
    const msg = await failure('dev', { config: { 'unified-mcp:network': { cidr: '192.168.0.0/24' } } });
    assert.match(msg, /stack "dev"/);
    assert.match(msg, /unified-mcp:network\.cidr/);
  });

  it('names key and stack for a missing required key', async () => {
    const msg = await failure('prod-us-east-1', { config: { 'unified-mcp:storage': undefined } });
    assert.match(msg, /stack "prod-us-east-1".*unified-mcp:storage/);
  });

  it('names an unknown key', async () => {
    const msg = await failure('dev', { config: { 'unified-mcp:databse': { shards: ['0'] } } });
    assert.match(msg, /stack "dev".*unified-mcp:databse.*Unrecognized key/);
  });

  it('rejects a bad role', async () => {
    assert.match(await failure('dev', { config: { 'unified-mcp:role': 'regionl' } }), /stack "dev".*unified-mcp:role.*"regional" or "global"/);
  });

  it('no longer accepts a hand-copied global datastore id: the secondary reads it from the primary stack', async () => {
    const msg = await failure('prod-eu-west-1', { config: { 'unified-mcp:cache': { globalReplicationGroupId: 'ldgnf-umcp-prod-redis-cache' } } });
    assert.match(msg, /stack "prod-eu-west-1".*unified-mcp:cache\.globalReplicationGroupId.*Unrecognized key/);
  });

  it('requires the peer VPC CIDR with a peer region, disjoint from its own', async () => {
    const network = { cidr: '10.30.0.0/16' };
    assert.match(await failure('prod-eu-west-1', { config: { 'unified-mcp:network': network } }), /unified-mcp:network\.peerCidr: required with peerRegion/);
    assert.match(
      await failure('prod-eu-west-1', { config: { 'unified-mcp:network': { ...network, peerCidr: '10.30.0.0/16' } } }),
      /unified-mcp:network\.peerCidr: must differ/,
    );
  });

  it('rejects prod without TLS and prod on an existing cluster', async () => {
    const app = { hostname: 'us.mcp.example.com', gateway: { image: 'g' }, worker: { image: 'w' } };
    assert.match(await failure('prod-us-east-1', { config: { 'unified-mcp:app': app } }), /unified-mcp:app\.certificateArn.*required in prod/);
    assert.match(await failure('prod-us-east-1', { config: { 'unified-mcp:cluster': { mode: 'existing' } } }), /unified-mcp:cluster\.mode/);
  });

  it('surfaces a component argument check as the error of the run', async () => {
    const workers = { instanceTypes: ['m7g.large'], capacityType: 'SPOT', minSize: 1, maxSize: 3 };
    const msg = await failure('prod-us-east-1', { config: { 'unified-mcp:cluster': { nodeGroups: { workers } } } });
    assert.match(msg, /node group "workers": spot capacity needs at least two instance types/);
  });

  it('requires each operator secret with the command to set it (the shared ones are generated)', async () => {
    assert.match(
      await failure('prod-us-east-1', { secrets: { 'unified-mcp:alertWebhookUrl': undefined } }),
      /stack "prod-us-east-1".*unified-mcp:alertWebhookUrl.*pulumi config set --secret unified-mcp:alertWebhookUrl/,
    );
    assert.match(await failure('dev', { secrets: { 'unified-mcp:kubeconfig': undefined } }), /pulumi config set --secret unified-mcp:kubeconfig/);
  });

  it('refuses a secret stored in plain text and a malformed AUTH token', async () => {
    const plain = await failure('dev', { secrets: { 'unified-mcp:adminApiKey': undefined }, config: { 'unified-mcp:adminApiKey': 'in-the-clear-0123456789' } });
    assert.match(plain, /unified-mcp:adminApiKey is stored in plain text/);
    assert.match(await failure('dev', { secrets: { 'unified-mcp:redisAuthToken': 'short' } }), /unified-mcp:redisAuthToken must be 16-128/);
    assert.match(
      await failure('dev', { secrets: { 'unified-mcp:redisAuthToken': 'long-enough-but-has-a-%-sign' } }),
      /letters, digits and ! & # \$ \^ < > - only/,
    );
  });

  it('keeps secrets out of every stack file', () => {
    for (const stack of REGIONAL_STACKS) {
      const text = readFileSync(join(STACKS_DIR, `Pulumi.${stack}.yaml`), 'utf8').replace(/#.*$/gm, '');
      for (const key of Object.keys(REGIONAL_SECRETS)) assert.ok(!text.includes(`unified-mcp:${key}`), `${stack} holds ${key}`);
      assert.doesNotMatch(text, /password|token|secret/i, `${stack} mentions a credential`);
    }
  });
});
