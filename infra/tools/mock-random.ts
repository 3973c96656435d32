/**
 * What the @pulumi/random resources "generate" under Pulumi mocks: deterministic values derived from the
 * resource name, so a mocked secondary can be handed the same values its mocked primary generated
 * (mock-peer-outputs.ts) and tests can compare them. Never a real secret; not used by `pulumi up`.
 */
import { createHash } from 'node:crypto';

/** RandomPassword.result of the resource `name` under mocks. */
export function mockRandomPassword(name: string, length = 32): string {
  return `mock-random-${name}`.replace(/[^A-Za-z0-9]/g, '').slice(0, length);
}

/** RandomBytes of the resource `name` under mocks (`length` bytes). */
export function mockRandomBytes(name: string, length = 32): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += 32) createHash('sha256').update(`${name}:${i}`).digest().copy(out, i);
  return out;
}
