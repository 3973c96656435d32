/**
 * What a primary regional stack's peer outputs (infra/regional/peer/peer-stack.ts PEER_OUTPUTS) look like
 * under Pulumi mocks, derived from its stack file with the same naming the program and mock-values.ts use,
 * so a secondary runs under mocks with no hand-set value (the shared secrets included: what the mocked primary
 * generates when its config sets none). Not used by `pulumi up`: there the StackReference
 * reads the real primary. test/infra/regional/peer.test.ts checks these against the primary's mocked outputs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { GENERATED_REQUEST_STATE_KEY, GENERATED_SECRET_SPECS, generatedSecretName } from '../regional/secrets/shared-secrets.js';
import { mockRandomBytes, mockRandomPassword } from './mock-random.js';

const STACKS_DIR = join(fileURLToPath(import.meta.url), '..', '..', '..', 'stacks');
const MOCK_ACCOUNT = '123456789012';

/** Peer outputs of the regional stack `stackRef` (`org/project/stack`); `{}` for a stack without a peer or file. */
export function peerOutputsForMocks(stackRef: string, stacksDir: string = STACKS_DIR): Record<string, unknown> {
  const stack = stackRef.split('/').pop() ?? stackRef;
  const file = join(stacksDir, `Pulumi.${stack}.yaml`);
  if (!existsSync(file)) return {};
  const config = (parseYaml(readFileSync(file, 'utf8')) as { config?: Record<string, unknown> } | null)?.config ?? {};
  const get = (key: string): any => config[`unified-mcp:${key}`];
  if (get('role') !== 'regional' || !get('peerRegion')) return {};
  const region = String(get('region'));
  const name = `${get('prefix') ?? 'umcp'}-${get('environment')}`;
  const shards: string[] = get('database')?.shards ?? ['0'];
  const bucket = `${get('storage')?.bucketPrefix}-${region}`;
  return {
    globalWriterEndpoints: Object.fromEntries(shards.map((id) => [id, `${name}-shard-${id}.global-mock.global.rds.amazonaws.com`])),
    cacheGlobalReplicationGroupId: `ldgnf-${name}-redis-cache`,
    bucketName: bucket,
    bucketArn: `arn:aws:s3:::${bucket}`,
    bucketKmsKeyArn: `arn:aws:kms:${region}:${MOCK_ACCOUNT}:key/${name}-objects-kms`,
    vpcId: `vpc-${name}-net-vpc`,
    vpcCidr: get('network')?.cidr,
    privateRouteTableIds: [0, 1, 2].map((i) => `routetable-${name}-net-private-rt-${i}`),
    // The shared secrets the primary generates under mocks (no value in its config): same names, same values.
    ...Object.fromEntries(
      (['dbPassword', 'redisAuthToken', 'adminApiKey'] as const).map((k) => [
        k,
        mockRandomPassword(generatedSecretName(`${name}-shared`, k), GENERATED_SECRET_SPECS[k].length),
      ]),
    ),
    requestStateKeys: `${GENERATED_REQUEST_STATE_KEY.kid}:${mockRandomBytes(generatedSecretName(`${name}-shared`, 'requestStateKeys'), GENERATED_REQUEST_STATE_KEY.bytes).toString('base64')}`,
  };
}
