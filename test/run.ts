/**
 * The one test command (`npm test`, also run by `.ci/run`).
 *
 * Steps, in order: the type check, the formatting (`npm run format:check`), the import rules (`npm run lint:imports`), the build (dist/, what the images run), the mocha suites (service against real PostgreSQL + Redis, infra under
 * Pulumi mocks), then the step scripts listed below (conformance, config validation...). Each step writes
 * its counts to a JSON file; the run ends with one line `N passed, N failed` and exits non-zero on any failure.
 *
 * PostgreSQL and Redis come from TEST_DATABASE_URL / TEST_REDIS_URL, else the ones on 127.0.0.1 when
 * reachable, else embedded ones started exactly like `npm start` does (see test/support/provision.ts).
 */
// First: refuses an unsupported Node before anything else loads (service/src/local/node-version.ts).
import '../service/src/local/node-version.js';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { provisionTestServices } from './support/provision.js';

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}
interface Step {
  name: string;
  cmd: string[];
  counts: 'summary-file' | 'exit-code';
}

const bin = (name: string) => join('node_modules', '.bin', name);
const STEPS: Step[] = [
  { name: 'typecheck', cmd: [bin('tsc'), '--noEmit', '-p', 'tsconfig.json'], counts: 'exit-code' },
  // Prettier's formatting of every TypeScript/JavaScript source (.prettierrc.json); `npm run format` fixes it.
  { name: 'format', cmd: [bin('prettier'), '--check', '--log-level', 'warn', '**/*.{ts,mjs,cjs}'], counts: 'exit-code' },
  // The import rules of ARCHITECTURE.md (layers, no cycles, service/infra apart): .dependency-cruiser.cjs.
  { name: 'imports', cmd: [bin('depcruise'), 'service', 'infra', 'contract'], counts: 'exit-code' },
  // dist/ as the images build it: the runtime contract test (test/infra/runtime-contract.test.ts) runs it.
  { name: 'build', cmd: ['node', 'service/build.mjs'], counts: 'exit-code' },
  { name: 'mocha', cmd: [bin('mocha'), '--reporter', './test/support/summary-reporter.cjs', 'test/**/*.test.ts'], counts: 'summary-file' },
  // Further steps (each a script that writes {passed, failed, skipped} to $TEST_SUMMARY_FILE) go here.
];
const extra: { name: string; script: string; args?: string[] }[] = [
  { name: 'conformance', script: 'test/conformance/run.ts' },
  // Real third-party clients against the local platform (docs/clients.md); about a minute.
  { name: 'interop', script: 'test/interop/run.ts' },
  { name: 'validate', script: 'infra/tools/validate.ts' },
  // The load suites in their short form (under 2 min together); `npm run flood` / `npm run soak` run them in full.
  { name: 'flood', script: 'test/e2e/flood/main.ts', args: ['--short'] },
  { name: 'soak', script: 'bench/soak/main.ts', args: ['--short'] },
];
for (const { name, script, args = [] } of extra) {
  if (existsSync(script)) STEPS.push({ name, cmd: [bin('tsx'), script, ...args], counts: 'summary-file' });
}

function run(cmd: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: 'inherit', env });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.on('error', (err) => {
      console.error(`cannot run ${cmd[0]}: ${err.message}`);
      resolve(1);
    });
  });
}

async function main(): Promise<number> {
  const only = process.argv.slice(2);
  const dir = mkdtempSync(join(tmpdir(), 'umcp-test-'));
  const total: Counts = { passed: 0, failed: 0, skipped: 0 };
  const services = await provisionTestServices();
  try {
    for (const step of STEPS) {
      if (only.length && !only.includes(step.name)) continue;
      console.log(`\n=== ${step.name} ===`);
      const summaryFile = join(dir, `${step.name}.json`);
      const env = {
        ...process.env,
        TEST_DATABASE_URL: services.databaseUrl,
        TEST_REDIS_URL: services.redisUrl,
        TEST_SUMMARY_FILE: summaryFile,
      };
      const code = await run(step.cmd, env);
      let counts: Counts;
      if (step.counts === 'summary-file' && existsSync(summaryFile)) {
        counts = { skipped: 0, ...JSON.parse(readFileSync(summaryFile, 'utf8')) } as Counts;
        if (code !== 0 && counts.failed === 0) counts.failed = 1; // crashed after reporting
      } else {
        counts = code === 0 ? { passed: 1, failed: 0, skipped: 0 } : { passed: 0, failed: 1, skipped: 0 };
      }
      console.log(`--- ${step.name}: ${counts.passed} passed, ${counts.failed} failed`);
      total.passed += counts.passed;
      total.failed += counts.failed;
      total.skipped += counts.skipped;
    }
  } finally {
    await services.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\n${total.passed} passed, ${total.failed} failed` + (total.skipped ? `, ${total.skipped} skipped` : ''));
  return total.failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
