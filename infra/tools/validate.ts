/**
 * `npm run validate` (also a step of `npm test`): the offline gate before any `pulumi up`.
 *
 * 1. type check (tsc --noEmit; skipped with --skip-typecheck, and under `npm test`, whose first step is
 * the same type check), 2. every stacks/Pulumi.*.yaml validated with the
 * program's config schemas, 3. the policy pack's rules over the mocked resources of every stack.
 * Prints each violation (stack, policy, resource, message); exits non-zero on a type error, a bad config,
 * a stack program that fails under mocks, or any mandatory violation. Advisory violations only warn.
 * Writes {passed, failed, skipped} to $TEST_SUMMARY_FILE when set: one check for the type check, one per
 * stack config, one per (stack, policy).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readStackConfig, runStackUnderMocks } from './mock-run.js';
import { listStacks, stackConfigProblems } from './validate/stack-config.js';
import { whenStalled } from './validate/stall.js';
import { evaluateRules } from '../policy/run.js';
import { ALL_RULES } from '../policy/rules/index.js';
import { indexStack } from './plan/tree.js';
import { targetsOf } from './plan/targets.js';
import { exitWhenFlushed } from './exit.js';

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

const secs = (t: number) => `${((Date.now() - t) / 1000).toFixed(1)} s`;

function typecheck(counts: Counts): void {
  const t = Date.now();
  const tsc = spawnSync(join('node_modules', '.bin', 'tsc'), ['--noEmit', '-p', 'tsconfig.json'], { encoding: 'utf8' });
  if (tsc.status === 0) {
    counts.passed++;
    console.log(`ok    type check (${secs(t)})`);
  } else {
    counts.failed++;
    console.log(`FAIL  type check (${secs(t)})\n${(tsc.stdout + tsc.stderr).trim().replace(/^/gm, '      ')}`);
  }
}

async function checkStack(stack: string, stacksDir: string, counts: Counts): Promise<{ mandatory: number; advisory: number }> {
  const result = { mandatory: 0, advisory: 0 };
  let config: Record<string, unknown>;
  try {
    config = readStackConfig(stack, stacksDir);
  } catch (err) {
    config = {};
    counts.failed++;
    console.log(`FAIL  ${stack}: config: ${(err as Error).message}`);
  }
  const problems = Object.keys(config).length ? stackConfigProblems(stack, config) : ['(unreadable)'];
  if (Object.keys(config).length) {
    if (problems.length === 0) {
      counts.passed++;
      console.log(`ok    ${stack}: config`);
    } else {
      counts.failed++;
      console.log(`FAIL  ${stack}: config\n${problems.map((p) => `      ${p}`).join('\n')}`);
    }
  }
  if (problems.length) {
    counts.skipped += ALL_RULES.length;
    console.log(`skip  ${stack}: policies (config is invalid)`);
    return result;
  }
  const t = Date.now();
  let run;
  const stall = whenStalled(stack);
  try {
    run = await Promise.race([runStackUnderMocks(stack, { stacksDir }), stall.promise]);
  } catch (err) {
    counts.failed += ALL_RULES.length;
    console.log(`FAIL  ${stack}: the program failed under mocks, so no policy could be checked: ${(err as Error).message}`);
    return result;
  } finally {
    stall.dispose();
  }
  const index = indexStack(run.resources);
  const environment = typeof config['unified-mcp:environment'] === 'string' ? config['unified-mcp:environment'] : undefined;
  const { violations, skippedUnknown } = evaluateRules(targetsOf([...run.resources, ...(run.reads ?? [])]), {
    environment,
    providerPropsOf: (r) => {
      const m = r.urn ? index.byUrn.get(r.urn) : undefined;
      return m ? index.providerOf(m)?.inputs : undefined;
    },
  });
  console.log(
    `      ${stack}: ${run.resources.length} resources under mocks (${secs(t)})${skippedUnknown ? `, ${skippedUnknown} checks skipped on unknown values` : ''}`,
  );
  for (const rule of ALL_RULES) {
    const mine = violations.filter((v) => v.policy === rule.name);
    const failed = rule.level === 'mandatory' && mine.length > 0;
    if (failed) counts.failed++;
    else counts.passed++;
    const status = failed ? 'FAIL ' : mine.length ? 'warn ' : 'ok   ';
    console.log(`${status} ${stack}: ${rule.name} [${rule.level}]${mine.length ? `: ${mine.length} violation(s)` : ''}`);
    for (const v of mine) console.log(`      ${stack} / ${v.policy} / ${v.resource ? `${v.resource.type} "${v.resource.name}"` : '(stack)'}: ${v.message}`);
    if (rule.level === 'mandatory') result.mandatory += mine.length;
    else result.advisory += mine.length;
  }
  return result;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { 'skip-typecheck': { type: 'boolean' }, stacks: { type: 'string' } } });
  const stacksDir = values.stacks ?? 'stacks';
  const counts: Counts = { passed: 0, failed: 0, skipped: 0 };
  const started = Date.now();
  // Under `npm test` the runner's own typecheck step has just run tsc; doing it twice costs ~20-40 s.
  const underNpmTest = process.env['npm_lifecycle_event'] === 'test' && Boolean(process.env['TEST_SUMMARY_FILE']);
  if (values['skip-typecheck'] || underNpmTest) console.log(`skip  type check (${underNpmTest ? 'npm test runs it as its own step' : '--skip-typecheck'})`);
  else typecheck(counts);
  const stacks = listStacks(stacksDir);
  if (stacks.length === 0) {
    counts.failed++;
    console.log(`FAIL  no Pulumi.<stack>.yaml in ${stacksDir}`);
  }
  let mandatory = 0;
  let advisory = 0;
  for (const stack of stacks) {
    const r = await checkStack(stack, stacksDir, counts);
    mandatory += r.mandatory;
    advisory += r.advisory;
  }
  console.log(
    `\nvalidate: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped; ` +
      `${mandatory} mandatory and ${advisory} advisory violation(s) over ${stacks.length} stack(s) in ${secs(started)}`,
  );
  if (process.env['TEST_SUMMARY_FILE']) writeFileSync(process.env['TEST_SUMMARY_FILE'], JSON.stringify(counts));
  return counts.failed > 0 ? 1 : 0;
}

main().then(exitWhenFlushed, (err: Error) => {
  console.error(`validate crashed: ${err.stack ?? err.message}`);
  if (process.env['TEST_SUMMARY_FILE']) writeFileSync(process.env['TEST_SUMMARY_FILE'], JSON.stringify({ passed: 0, failed: 1, skipped: 0 }));
  exitWhenFlushed(1);
});
