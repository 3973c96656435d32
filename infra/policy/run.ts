/**
 * Runs the rules outside the Pulumi engine (over mocked resources, in `npm run validate` and `plan`),
 * with the same unknown-value semantics as the engine: a rule that reads a value unknown during preview
 * is skipped for that resource instead of reporting a false violation.
 */
import { unknownCheckingProxy, UnknownValueError } from '@pulumi/policy';
import type { PolicyTarget, Rule, RuleContext, RuleLevel } from './types.js';
import { ALL_RULES } from './rules/index.js';

/** One violation, attributed to a policy and (when it concerns one) a resource. */
export interface Violation {
  readonly policy: string;
  readonly level: RuleLevel;
  readonly resource?: Pick<PolicyTarget, 'type' | 'name'>;
  readonly message: string;
}

/** Options of {@link evaluateRules}. */
export interface EvaluateOptions {
  /** Stack environment (`dev`, `prod`); default: rules use the resource's `env` tag. */
  readonly environment?: string;
  /** Provider inputs for a resource (e.g. AWS `defaultTags`); default: none. */
  readonly providerPropsOf?: (r: PolicyTarget) => Record<string, any> | undefined;
  /** Rules to run; default: all rules of the pack. */
  readonly rules?: readonly Rule[];
}

/** Result: violations, plus how many (rule, resource) checks were skipped on unknown values. */
export interface Evaluation {
  readonly violations: Violation[];
  readonly skippedUnknown: number;
}

function guarded<T>(fn: () => T, onUnknown: () => void, fallback: T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof UnknownValueError) {
      onUnknown();
      return fallback;
    }
    throw err;
  }
}

/** Evaluates every rule over the resources of one stack. */
export function evaluateRules(resources: readonly PolicyTarget[], opts: EvaluateOptions = {}): Evaluation {
  const violations: Violation[] = [];
  let skippedUnknown = 0;
  const skip = () => {
    skippedUnknown++;
  };
  const proxied = resources.map((r) => ({ ...r, props: unknownCheckingProxy(r.props) as Record<string, any> }));
  for (const rule of opts.rules ?? ALL_RULES) {
    if (rule.kind === 'resource') {
      proxied.forEach((r, i) => {
        const ctx: RuleContext = { environment: opts.environment, providerProps: opts.providerPropsOf?.(resources[i]!) };
        for (const message of guarded(() => rule.check(r, ctx), skip, [])) {
          violations.push({ policy: rule.name, level: rule.level, resource: { type: r.type, name: r.name }, message });
        }
      });
    } else {
      for (const f of guarded(() => rule.check(proxied, { environment: opts.environment }), skip, [])) {
        const resource = f.resource ? { type: f.resource.type, name: f.resource.name } : undefined;
        violations.push({ policy: rule.name, level: rule.level, resource, message: f.message });
      }
    }
  }
  return { violations, skippedUnknown };
}
