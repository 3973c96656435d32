/**
 * Adapts the plain rules to @pulumi/policy policies. The wrappers only translate arguments: the rule
 * function is the same one the unit tests and `npm run validate` call. Unknown values (preview) make the
 * policy proxy throw `UnknownValueError`, which @pulumi/policy catches and treats as "skip".
 */
import type { Policies, PolicyConfigSchema, ResourceValidationPolicy, StackValidationPolicy } from '@pulumi/policy';
import type { Rule } from './types.js';

/** Per-policy config: `environment` lets a deploy tell the pack which environment it checks. */
const CONFIG_SCHEMA: PolicyConfigSchema = {
  properties: { environment: { type: 'string', description: 'Stack environment (dev, prod...); default: the env tag.' } },
};

interface PackConfig {
  environment?: string;
}

/** One @pulumi/policy policy for one rule. */
export function toPolicy(rule: Rule): ResourceValidationPolicy | StackValidationPolicy {
  const base = {
    name: rule.name,
    description: rule.description,
    enforcementLevel: rule.level,
    configSchema: CONFIG_SCHEMA,
  };
  if (rule.kind === 'resource') {
    return {
      ...base,
      validateResource: (args, reportViolation) => {
        const { environment } = args.getConfig<PackConfig>();
        const target = { type: args.type, name: args.name, urn: args.urn, props: args.props };
        for (const m of rule.check(target, { environment, providerProps: args.provider?.props })) reportViolation(m);
      },
    };
  }
  return {
    ...base,
    validateStack: (args, reportViolation) => {
      const { environment } = args.getConfig<PackConfig>();
      const targets = args.resources.map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.props, parent: r.parent?.urn }));
      for (const f of rule.check(targets, { environment })) reportViolation(f.message, f.resource?.urn);
    },
  };
}

/** All rules as a policy list for `new PolicyPack(...)`. */
export function toPolicies(rules: readonly Rule[]): Policies {
  return rules.map(toPolicy);
}
