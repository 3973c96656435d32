/**
 * Validates a stack file's `config:` block with the program's own schemas (regional: infra/regional/
 * config-schema.ts, global: infra/global/config.ts) without running the program, and checks that no
 * secret sits in the file as plain text.
 */
import { readdirSync } from 'node:fs';
import { regionalConfigSchema } from '../../regional/config-schema.js';
import { parseGlobalConfig } from '../../global/config.js';
import { NAMESPACE, REGIONAL_SECRETS } from '../../config.js';

/** Stack names of the `Pulumi.<name>.yaml` files in `dir`, sorted. */
export function listStacks(dir: string): string[] {
  return readdirSync(dir)
    .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

/** Keys held as secrets; a stack file may hold them only encrypted (`secure:`), never as plain text. */
const SECRET_KEYS = [...Object.keys(REGIONAL_SECRETS), 'cloudflareApiToken'].map((k) => `${NAMESPACE}:${k}`);

/** Returns one message per problem in `config` (the stack file's config block); empty when valid. */
export function stackConfigProblems(stack: string, config: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const key of [...SECRET_KEYS, 'cloudflare:apiToken']) {
    const v = config[key];
    if (v !== undefined && !(v && typeof v === 'object' && 'secure' in v)) {
      problems.push(`${key}: a secret in plain text; remove it and run \`pulumi config set --secret ${key} <value> --stack ${stack}\``);
    }
  }
  const values: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (k.startsWith(`${NAMESPACE}:`) && !SECRET_KEYS.includes(k)) values[k.slice(NAMESPACE.length + 1)] = v;
  }
  const role = values['role'];
  if (role === 'global') {
    try {
      parseGlobalConfig(values, stack);
    } catch (err) {
      problems.push((err as Error).message);
    }
  } else if (role === 'regional') {
    const parsed = regionalConfigSchema.safeParse(values);
    if (!parsed.success) {
      problems.push(...parsed.error.issues.map((i) => `${NAMESPACE}:${i.path.map(String).join('.') || '(root)'}: ${i.message}`));
    }
  } else {
    problems.push(`${NAMESPACE}:role: expected "regional" or "global", found ${JSON.stringify(role)}`);
  }
  return problems;
}
