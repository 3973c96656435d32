/**
 * `npm run deploy -- --env prod [--dry-run] [--policy] [--quiet]`: ordered multi-region deploy through the
 * Pulumi Automation API. Prints the plan (every step a fresh account needs, from the stack files, no CLI
 * needed), previews every stack of the environment, then runs `up` on the primary region, the secondary
 * regions and the global stack, in that order, and stops at the first failure with a summary table. Later
 * stacks read earlier ones through StackReferences; one whose references have no outputs yet is previewed
 * right before its `up`. `--dry-run` prints the plan and previews only (without the pulumi CLI: the plan,
 * and a note that previews need the CLI). `--policy` runs the infra/policy pack with every preview and
 * update. Previews and updates need the pulumi CLI and a logged-in backend; missing stacks are created
 * (not by a dry run). Step 0 of the plan lists the prerequisites; before any preview or update the deploy
 * checks every stack's external secrets (`pulumi config`) and stops printing the missing
 * `pulumi config set --secret` commands (exit 1), and stops on a contradiction in the stack files.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { crossCheck, deployOrder, readAllStackConfigs, type DeployTarget } from './deploy/order.js';
import { runDeploy, type DeployReport, type StepResult } from './deploy/orchestrate.js';
import { deploySteps, renderPlan } from './deploy/steps.js';
import { configStatusFromFile, missingOperatorSecrets, prerequisites, renderPrerequisites } from './deploy/prerequisites.js';
import { AutomationWorkspace, PulumiCliMissingError } from './deploy/automation-workspace.js';
import { ALL_RULES } from '../policy/rules/index.js';
import { table } from './plan/format.js';
import { exitWhenFlushed } from './exit.js';

const USAGE = 'usage: npm run deploy -- --env <environment> [--dry-run] [--policy] [--quiet] [--stacks <dir>]\n  e.g. npm run deploy -- --env prod --dry-run';

/** The summary table printed at the end (and on failure). */
export function renderReport(targets: readonly DeployTarget[], report: DeployReport): string {
  const rows = report.steps.map((s) => [
    s.stack,
    s.role,
    s.phase,
    s.status === 'failed' ? 'FAILED' : s.status,
    s.status === 'skipped' ? '' : `${(s.ms / 1000).toFixed(1)} s`,
    s.detail,
  ]);
  const failed = report.steps.find((s) => s.status === 'failed');
  const verdict = report.ok
    ? `${report.dryRun ? 'Dry run' : 'Deploy'} succeeded: ${targets.map((t) => t.name).join(' -> ')}.`
    : `${report.dryRun ? 'Dry run' : 'Deploy'} STOPPED at ${failed?.phase} of ${failed?.stack}: ${failed?.detail}`;
  return `${table(['STACK', 'ROLE', 'PHASE', 'STATUS', 'TIME', 'DETAIL'], rows, [4])}\n\n${verdict}`;
}

function policyConfigFile(environment: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'umcp-policy-')), 'policy-config.json');
  writeFileSync(file, JSON.stringify(Object.fromEntries(ALL_RULES.map((r) => [r.name, { environment }])), null, 2));
  return file;
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        env: { type: 'string' },
        'dry-run': { type: 'boolean' },
        policy: { type: 'boolean' },
        quiet: { type: 'boolean' },
        stacks: { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.env) {
    console.error(`missing --env\n${USAGE}`);
    return 2;
  }
  const configs = readAllStackConfigs(values.stacks);
  const targets = deployOrder(values.env, configs);
  const dryRun = values['dry-run'] ?? false;
  const pre = prerequisites(targets, configs);
  const inFiles = targets.flatMap((t) => missingOperatorSecrets(t, configStatusFromFile(configs[t.name])));
  console.log(renderPlan(values.env, deploySteps(targets, configs), renderPrerequisites(pre, { secrets: inFiles, source: 'the stack files' })));
  for (const w of crossCheck(targets, configs)) console.log(`warning: ${w}`);
  if (pre.problems.length) {
    console.error(`\nStopped before any preview: fix the stack files first:\n${pre.problems.map((p) => `  ${p}`).join('\n')}`);
    return 1;
  }
  console.log(`\n${dryRun ? 'Dry run: previewing' : 'Deploying'} (pulumi CLI through the Automation API)...`);

  let workspace: AutomationWorkspace;
  try {
    workspace = new AutomationWorkspace({
      onOutput: values.quiet ? undefined : (stack, text) => process.stderr.write(text.replace(/^(?=.)/gm, `[${stack}] `)),
      policyPacks: values.policy ? ['infra/policy'] : [],
      policyPackConfigs: values.policy ? [policyConfigFile(values.env)] : [],
    });
  } catch (err) {
    if (err instanceof PulumiCliMissingError) {
      if (dryRun) {
        console.log(`Previews skipped: they need the pulumi CLI. ${err.message}`);
        return 0;
      }
      console.error(`\n${err.message}`);
      return 3;
    }
    throw err;
  }
  const onStep = (s: StepResult) => console.log(`${s.status === 'failed' ? 'FAILED' : s.status.padEnd(6)} ${s.phase.padEnd(7)} ${s.stack}: ${s.detail}`);
  const report = await runDeploy(targets, workspace, { dryRun, onStep, stackFiles: configs });
  console.log(`\n${renderReport(targets, report)}`);
  if (report.missingSecrets.length) {
    console.log(
      `\nMissing operator secrets (nothing was previewed or updated): set them, then run the deploy again:\n${report.missingSecrets.map((m) => `  ${m.command}   # ${m.why}`).join('\n')}`,
    );
  }
  return report.ok ? 0 : 1;
}

if (process.argv[1]?.endsWith('deploy.ts')) {
  main().then(exitWhenFlushed, (err: Error) => {
    console.error(`deploy failed before it started: ${err.message}`);
    exitWhenFlushed(1);
  });
}
