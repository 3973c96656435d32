/**
 * What a regional stack's outputs look like under Pulumi mocks, derived from its stack file, so the mock
 * runner (infra/tools/mock-run.ts, `npm run validate`, `npm run plan`) can answer the global stack's
 * StackReferences offline. Not used by `pulumi up`: there the references read the real stacks.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { HTTP } from '../../contract/index.js';
import { originAuthHeader } from './origin-access.js';

const STACKS_DIR = join(fileURLToPath(import.meta.url), '..', '..', '..', 'stacks');

/**
 * Outputs of the regional stack `stackRef` (`org/project/stack` or `stack`) as the global stack reads them.
 * @throws Error naming the missing stack file, so a mock run fails with a clear message.
 */
export function regionalOutputsForMocks(stackRef: string, stacksDir: string = STACKS_DIR): Record<string, unknown> {
  const stack = stackRef.split('/').pop() ?? stackRef;
  const file = join(stacksDir, `Pulumi.${stack}.yaml`);
  if (!existsSync(file)) {
    throw new Error(`StackReference "${stackRef}": no ${file} to derive its outputs from under mocks`);
  }
  const config = (parseYaml(readFileSync(file, 'utf8')) as { config?: Record<string, unknown> } | null)?.config ?? {};
  const get = (key: string): unknown => config[`unified-mcp:${key}`];
  const region = String(get('region') ?? '');
  const hostname = String((get('app') as { hostname?: unknown } | undefined)?.hostname ?? `${region}.invalid`);
  return {
    region,
    environment: String(get('environment') ?? ''),
    // the ALB's own DNS name, as the AWS Load Balancer Controller reports it in the ingress status
    ingressHostname: `k8s-umcp-gateway-mock.${region}.elb.amazonaws.com`,
    healthPath: HTTP.readinessPath,
    healthUrl: `https://${hostname}${HTTP.readinessPath}`,
    steeringWeight: typeof get('steeringWeight') === 'number' ? get('steeringWeight') : 1,
    isPrimary: get('isPrimary') === true,
    regionalHostname: hostname,
    endpoints: { databases: [], redis: {}, bucket: `mock-${region}` },
    // secret in a real stack; the global stack sets it at the edge and in the monitor
    originAuth: { header: originAuthHeader(region), value: `mock-origin-secret-${region}` },
  };
}
