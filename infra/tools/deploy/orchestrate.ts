/**
 * The deploy orchestration: select every stack (creating missing ones), check the operator's secrets of
 * every stack before anything runs, preview every stack, then `up` in order (primary, secondaries, global),
 * stopping at the first failure. Later stacks read earlier ones through StackReferences (a secondary its primary, the
 * global stack every region), so a stack whose references have no outputs yet (a fresh account) cannot be
 * previewed up front: its preview is deferred to right before its `up`, after the stacks it reads.
 * Pure logic over the DeployWorkspace seam; prints nothing (the CLI renders the report).
 */
import { SHARED_SECRETS } from '../../regional/secrets/shared-secrets.js';
import type { DeployTarget, StackConfigs } from './order.js';
import { configStatusFromFile, missingOperatorSecrets, type OperatorSecret } from './prerequisites.js';
import { StackMissingError, type ChangeSummary, type ConfigStatus, type DeployStack, type DeployWorkspace, type StackOutputs } from './workspace.js';

/** Stacks whose outputs `t` reads through StackReferences: a secondary its primaries, the global stack every region. */
export function dependenciesOf(t: DeployTarget, targets: readonly DeployTarget[]): DeployTarget[] {
  if (t.role === 'secondary') return targets.filter((s) => s.role === 'primary');
  if (t.role === 'global') return targets.filter((s) => s.role !== 'global');
  return [];
}

/**
 * Outputs a stack needs from each stack it reads before it can be previewed: a secondary the primary's
 * shared secrets and network (a primary deployed by an older version lacks the secrets until its next up);
 * the global stack any output of each region.
 */
export function requiredOutputsOf(t: DeployTarget): readonly string[] {
  return t.role === 'secondary' ? ['vpcId', 'globalWriterEndpoints', ...SHARED_SECRETS] : [];
}

export type StepStatus = 'ok' | 'failed' | 'skipped';

/** One row of the summary. */
export interface StepResult {
  readonly stack: string;
  readonly role: DeployTarget['role'];
  readonly phase: 'select' | 'prerequisites' | 'preview' | 'up';
  readonly status: StepStatus;
  readonly detail: string;
  readonly ms: number;
}

/** Result of a deploy. */
export interface DeployReport {
  readonly ok: boolean;
  readonly dryRun: boolean;
  readonly steps: StepResult[];
  /** Outputs of the stacks updated, by stack. */
  readonly outputs: Record<string, StackOutputs>;
  /** The operator's secrets found missing (the deploy stopped before any preview when not empty). */
  readonly missingSecrets: readonly OperatorSecret[];
}

/** Options of {@link runDeploy}. */
export interface DeployOptions {
  /** Preview only; never calls `up`. @defaultValue false */
  readonly dryRun?: boolean;
  /** Called after every step (progress). */
  readonly onStep?: (step: StepResult) => void;
  /**
   * The stack files' config, for the secret check of a stack that does not exist yet (a dry run creates
   * nothing; the deploy would create it with exactly that config). @defaultValue {}
   */
  readonly stackFiles?: StackConfigs;
}

/** `{ create: 3, same: 1 }` → `3 create, 1 same`. */
export function describeChanges(changes: ChangeSummary): string {
  const parts = Object.entries(changes)
    .filter(([, n]) => n > 0)
    .map(([op, n]) => `${n} ${op}`);
  return parts.length ? parts.join(', ') : 'no changes';
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n').filter(Boolean).slice(0, 3).join(' | ');

/** Runs the deploy of `targets` (already in order) through `workspace`. */
export async function runDeploy(targets: readonly DeployTarget[], workspace: DeployWorkspace, opts: DeployOptions = {}): Promise<DeployReport> {
  const steps: StepResult[] = [];
  const outputs: Record<string, StackOutputs> = {};
  const record = (t: DeployTarget, phase: StepResult['phase'], status: StepStatus, detail: string, started: number) => {
    const step = { stack: t.name, role: t.role, phase, status, detail, ms: Date.now() - started };
    steps.push(step);
    opts.onStep?.(step);
  };
  const skipRest = (from: number, phases: StepResult['phase'][], why: string) => {
    for (const t of targets.slice(from)) for (const phase of phases) record(t, phase, 'skipped', why, Date.now());
  };
  const missingSecrets: OperatorSecret[] = [];
  const done = (ok: boolean): DeployReport => ({ ok, dryRun: opts.dryRun ?? false, steps, outputs, missingSecrets });

  /** Previews `t`; on failure records it, runs `onFailure` (what to skip) and returns false. */
  const preview = async (t: DeployTarget, stack: DeployStack, onFailure: () => void): Promise<boolean> => {
    const started = Date.now();
    try {
      const { changes } = await stack.preview();
      record(t, 'preview', 'ok', describeChanges(changes), started);
      return true;
    } catch (err) {
      record(t, 'preview', 'failed', errorText(err), started);
      onFailure();
      return false;
    }
  };

  // 1. Select every stack, creating the missing ones (a dry run creates nothing: a missing stack is checked
  //    against its stack file and previewed by the deploy). Read the outputs already deployed.
  const stacks: (DeployStack | undefined)[] = [];
  const known: Record<string, StackOutputs> = {};
  const status: Record<string, ConfigStatus> = {};
  for (const t of targets) {
    const started = Date.now();
    try {
      const stack = await workspace.selectStack(t.name, { create: !opts.dryRun });
      stacks.push(stack);
      status[t.name] = await stack.configStatus();
      if (t.role !== 'global') known[t.name] = await stack.outputs();
    } catch (err) {
      if (opts.dryRun && err instanceof StackMissingError) {
        stacks.push(undefined);
        status[t.name] = configStatusFromFile(opts.stackFiles?.[t.name]);
        record(t, 'select', 'skipped', `does not exist yet: the deploy creates it (config from stacks/Pulumi.${t.name}.yaml)`, started);
        continue;
      }
      record(t, 'select', 'failed', errorText(err), started);
      skipRest(0, ['preview'], 'a stack could not be selected');
      if (!opts.dryRun) skipRest(0, ['up'], 'a stack could not be selected');
      return done(false);
    }
  }

  // 2. Before anything runs: every stack's external secrets (the global stack's Cloudflare token would
  //    otherwise fail only after the regions are up).
  for (const t of targets) {
    const started = Date.now();
    const missing = missingOperatorSecrets(t, status[t.name] ?? {});
    missingSecrets.push(...missing);
    record(
      t,
      'prerequisites',
      missing.length ? 'failed' : 'ok',
      missing.length ? `missing secret${missing.length > 1 ? 's' : ''}: ${missing.map((m) => m.key).join(', ')}` : 'operator secrets set',
      started,
    );
  }
  if (missingSecrets.length) {
    skipRest(0, opts.dryRun ? ['preview'] : ['preview', 'up'], 'operator secrets missing (see prerequisites)');
    return done(false);
  }

  // 3. Preview every stack, primary first. A stack whose references lack outputs (fresh account) is
  //    previewed later, right before its update.
  const deferred = new Set<string>();
  for (const [i, t] of targets.entries()) {
    const stack = stacks[i];
    if (!stack) {
      deferred.add(t.name);
      record(t, 'preview', 'skipped', 'the stack does not exist yet: previewed during the deploy, right after it is created', Date.now());
      continue;
    }
    const needed = requiredOutputsOf(t);
    const missing = dependenciesOf(t, targets).filter((d) => {
      const out = known[d.name] ?? {};
      return Object.keys(out).length === 0 || needed.some((n) => out[n] === undefined);
    });
    if (missing.length > 0) {
      deferred.add(t.name);
      const names = missing.map((d) => d.name).join(', ');
      record(
        t,
        'preview',
        'skipped',
        opts.dryRun
          ? `needs outputs of ${names}, not deployed yet: previewed during the deploy, right after ${names}`
          : `deferred: needs outputs of ${names} (first deploy); previewed right before its update`,
        Date.now(),
      );
      continue;
    }
    const ok = await preview(t, stack, () => {
      skipRest(i + 1, ['preview'], 'an earlier preview failed');
      skipRest(0, opts.dryRun ? [] : ['up'], 'previews did not all pass');
    });
    if (!ok) return done(false);
  }
  if (opts.dryRun) return done(true);

  // 4. Update in order; later stacks read the fresh outputs of earlier ones through StackReferences.
  for (const [i, t] of targets.entries()) {
    const stack = stacks[i]!; // every stack exists: only a dry run leaves one missing
    if (deferred.has(t.name) && !(await preview(t, stack, () => skipRest(i, ['up'], `the preview of ${t.name} failed`)))) return done(false);
    const started = Date.now();
    try {
      const result = await stack.up();
      outputs[t.name] = result.outputs;
      record(t, 'up', 'ok', `${describeChanges(result.changes)}; ${Object.keys(result.outputs).length} outputs`, started);
    } catch (err) {
      record(t, 'up', 'failed', errorText(err), started);
      skipRest(i + 1, ['up'], `stopped after ${t.name} failed`);
      return done(false);
    }
  }
  return done(true);
}
