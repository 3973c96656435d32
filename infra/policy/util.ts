/** Small helpers shared by the rules: naming a resource, rendering found values, environment lookup. */
import type { PolicyTarget, RuleContext } from './types.js';

/** `aws:rds/cluster:Cluster "db"`: how every message names the resource. */
export function label(r: Pick<PolicyTarget, 'type' | 'name'>): string {
  return `${r.type} "${r.name}"`;
}

/** Renders a found value for a message: `not set` for undefined/null, JSON otherwise. */
export function found(value: unknown): string {
  if (value === undefined || value === null) return 'not set';
  return JSON.stringify(value);
}

/** Standard message: `<resource>: <what>: expected <expected>, found <found>.` */
export function message(r: PolicyTarget, what: string, expected: string, actual: unknown): string {
  return `${label(r)}: ${what}: expected ${expected}, found ${found(actual)}.`;
}

/** Provider inputs arrive JSON-encoded (`defaultTags: "{\"tags\":{...}}"`); decodes such a value. */
export function decoded(value: unknown): any {
  if (typeof value !== 'string' || !/^\s*[[{]/.test(value)) return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** Tags of a resource merged over its provider's `defaultTags.tags` (what AWS would actually apply). */
export function effectiveTags(props: Record<string, any>, providerProps?: Record<string, any>): Record<string, unknown> {
  const defaults = decoded(providerProps?.['defaultTags'])?.['tags'];
  const own = props['tags'];
  return {
    ...(defaults && typeof defaults === 'object' ? defaults : {}),
    ...(own && typeof own === 'object' ? own : {}),
  };
}

/**
 * The stack's environment: the rule context's, else the resource's `env` / `environment` tag.
 * Returns undefined when neither is known (environment-specific rules then do not apply).
 */
export function environmentOf(r: PolicyTarget, ctx: RuleContext): string | undefined {
  if (ctx.environment) return ctx.environment;
  const tags = effectiveTags(r.props, ctx.providerProps);
  const env = tags['env'] ?? tags['environment'];
  return typeof env === 'string' ? env : undefined;
}

/** True for `prod`, `production` and `prod-*` environments. */
export function isProduction(env: string | undefined): boolean {
  return env !== undefined && /^prod(uction)?(-|$)/.test(env);
}

/** The value at a dotted path (`spec.template.spec`), or undefined when any step is missing. */
export function at(obj: unknown, path: string): any {
  let cur: any = obj;
  for (const key of path.split('.')) {
    if (cur === undefined || cur === null || typeof cur !== 'object') return undefined;
    cur = cur[key];
  }
  return cur;
}

/** Where the pod spec sits, per workload type. */
const POD_SPEC_PATH: Record<string, string> = {
  'kubernetes:apps/v1:Deployment': 'spec.template.spec',
  'kubernetes:apps/v1:StatefulSet': 'spec.template.spec',
  'kubernetes:apps/v1:DaemonSet': 'spec.template.spec',
  'kubernetes:apps/v1:ReplicaSet': 'spec.template.spec',
  'kubernetes:batch/v1:Job': 'spec.template.spec',
  'kubernetes:batch/v1:CronJob': 'spec.jobTemplate.spec.template.spec',
  'kubernetes:core/v1:Pod': 'spec',
};

/** The init containers and containers of a Kubernetes workload (`undefined` when `r` is not a workload). */
export function workloadContainers(r: Pick<PolicyTarget, 'type' | 'props'>): any[] | undefined {
  const path = POD_SPEC_PATH[r.type];
  if (!path) return undefined;
  const spec = at(r.props, path);
  return [...(Array.isArray(spec?.initContainers) ? spec.initContainers : []), ...(Array.isArray(spec?.containers) ? spec.containers : [])];
}
