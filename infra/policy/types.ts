/**
 * Shapes shared by the policy rules, the policy pack entry and the offline runner.
 *
 * A rule is a plain function over `{ type, name, props }`: the pack (`pack.ts`) wraps it for
 * @pulumi/policy, the offline runner (`run.ts`) calls it on mocked resources, and the unit tests call it
 * directly. One function, three callers.
 */

/** How a violation is treated: `mandatory` fails validate / blocks an update, `advisory` only warns. */
export type RuleLevel = 'mandatory' | 'advisory';

/** One resource as a rule sees it: its Pulumi type token, logical name and input properties. */
export interface PolicyTarget {
  /** Pulumi type token, e.g. `aws:rds/cluster:Cluster`. */
  readonly type: string;
  /** Logical (Pulumi) name of the resource. */
  readonly name: string;
  /** Resource inputs (resource rules) or outputs (stack rules under the CLI). */
  readonly props: Record<string, any>;
  /** URN when known; used to point a stack-level violation at a resource. */
  readonly urn?: string;
  /** URN of the parent resource, when known. */
  readonly parent?: string;
}

/** What a rule may know about where it runs. */
export interface RuleContext {
  /** Environment of the stack (`dev`, `prod`, ...), when known; else rules fall back to the `env` tag. */
  readonly environment?: string;
  /** Input properties of the resource's provider (e.g. the AWS provider's `defaultTags`). */
  readonly providerProps?: Record<string, any>;
}

/** A rule that looks at one resource at a time; returns one message per problem found. */
export interface ResourceRule {
  readonly kind: 'resource';
  /** Unique, kebab-case policy name. */
  readonly name: string;
  readonly description: string;
  readonly level: RuleLevel;
  /** Returns violation messages (empty when compliant). Each names the resource, what is expected and what was found. */
  check(resource: PolicyTarget, ctx: RuleContext): string[];
}

/** A violation found by a stack rule: its message and, when it concerns one resource, that resource. */
export interface StackFinding {
  readonly message: string;
  readonly resource?: PolicyTarget;
}

/** A rule that needs the whole stack (e.g. "every replicated Deployment has a PDB"). */
export interface StackRule {
  readonly kind: 'stack';
  readonly name: string;
  readonly description: string;
  readonly level: RuleLevel;
  check(resources: readonly PolicyTarget[], ctx: RuleContext): StackFinding[];
}

/** Any rule of the pack. */
export type Rule = ResourceRule | StackRule;
