/**
 * Which stacks a deploy of one environment touches, in which order: the primary region first, then the
 * secondary regions, then the global stack(s). Read from the stack files (stacks/Pulumi.<name>.yaml).
 */
import { join } from 'node:path';
import { readStackConfig } from '../mock-run.js';
import { listStacks } from '../validate/stack-config.js';

/** The part a stack plays in a deploy. */
export type DeployRole = 'primary' | 'secondary' | 'global';

/** One stack in deploy order. */
export interface DeployTarget {
  readonly name: string;
  readonly role: DeployRole;
  /** AWS region of a regional stack. */
  readonly region?: string;
}

/** Config values the order depends on, per stack (lets tests skip the files). */
export type StackConfigs = Record<string, Record<string, unknown>>;

/**
 * Reads the config block of every stack file in `stacksDir`. Secrets set with `pulumi config set --secret`
 * sit in these files encrypted (`{ secure: ... }`) and are kept as such: set, value unknown.
 */
export function readAllStackConfigs(stacksDir: string = join(process.cwd(), 'stacks')): StackConfigs {
  return Object.fromEntries(listStacks(stacksDir).map((s) => [s, readStackConfig(s, stacksDir, { keepEncrypted: true })]));
}

/**
 * Orders the stacks of `environment`: primary regional stack(s), secondaries, global. Throws when the
 * environment has no regional stack, or no primary.
 */
export function deployOrder(environment: string, configs: StackConfigs): DeployTarget[] {
  const regional: DeployTarget[] = [];
  const global: DeployTarget[] = [];
  for (const [name, c] of Object.entries(configs).sort(([a], [b]) => a.localeCompare(b))) {
    if (c['unified-mcp:environment'] !== environment) continue;
    const role = c['unified-mcp:role'];
    if (role === 'global') {
      global.push({ name, role: 'global' });
      continue;
    }
    if (role !== 'regional') continue;
    const isPrimary = c['unified-mcp:isPrimary'] !== false && c['unified-mcp:isPrimary'] !== 'false'; // schema default: true
    const region = c['unified-mcp:region'] ?? c['aws:region'];
    regional.push({ name, role: isPrimary ? 'primary' : 'secondary', ...(typeof region === 'string' ? { region } : {}) });
  }
  const known = Object.keys(configs).join(', ') || 'none';
  if (regional.length === 0) throw new Error(`no regional stack has unified-mcp:environment "${environment}" (stacks: ${known})`);
  const primaries = regional.filter((t) => t.role === 'primary');
  if (primaries.length === 0) throw new Error(`environment "${environment}" has no primary regional stack (set unified-mcp:isPrimary: true on one)`);
  return [...primaries, ...regional.filter((t) => t.role === 'secondary'), ...global];
}

/**
 * Consistency checks between the stack files of one deploy; returns one warning per problem:
 * a regional stack the global stack does not list (it would get no traffic), or a listed stack that is
 * not part of this deploy, or a region that differs from the regional stack's own.
 */
export function crossCheck(targets: readonly DeployTarget[], configs: StackConfigs): string[] {
  const warnings: string[] = [];
  const regional = targets.filter((t) => t.role !== 'global');
  for (const g of targets.filter((t) => t.role === 'global')) {
    const raw = configs[g.name]?.['unified-mcp:regions'];
    const listed = (Array.isArray(raw) ? raw : []) as { stack?: unknown; region?: unknown }[];
    const short = (s: unknown) => (typeof s === 'string' ? s.split('/').at(-1)! : '');
    for (const t of regional) {
      const entry = listed.find((l) => short(l.stack) === t.name);
      if (!entry) warnings.push(`${g.name}: unified-mcp:regions does not list ${t.name}; that region would get no traffic`);
      else if (t.region && entry.region !== t.region)
        warnings.push(`${g.name}: lists ${t.name} as region ${String(entry.region)}, but the stack is in ${t.region}`);
    }
    for (const l of listed) {
      if (!regional.some((t) => t.name === short(l.stack)))
        warnings.push(`${g.name}: lists ${String(l.stack)}, which is not a regional stack of this environment`);
    }
  }
  return warnings;
}
