/**
 * `npm run bench`: the five measures of issue 17 in ONE run, each against a baseline measured in the same
 * run, on loopback. The gateway runs as production does: the compiled entry (`npm run build`, then
 * `node dist/service/src/gateway-main.js` with the manifests' environment; `npm run bench` builds first),
 * on the test PostgreSQL and Redis (TEST_DATABASE_URL / TEST_REDIS_URL or 127.0.0.1).
 *   1. built-in `diagnostics.echo` tools/call throughput / a bare node:http JSON echo (wrk, rate limit off)
 *   2. federated call of a 2026-07-28 upstream: p50 through the gateway / calling it directly (sequential;
 *      the upstream fixtures run in a child process, bench/pipeline/fixtures-process.ts, so both paths
 *      leave the bench process)
 *   3. the same for a 2025-era upstream
 *   4. gateway RSS after start, and after `--load-s` seconds at `--connections` connections
 *   5. no-op task end to end (1 compiled worker) / bare BullMQ
 * Prints the table (measure | value | baseline | ratio | goal | met?) under the commit measured, writes
 * `pipeline.json` (header: `commit`, `dirty` when the work tree differs from it) and
 * `pipeline-goals.svg` to bench/results. Leaves out: nginx in front, several replicas, mcp-hub, idle
 * sessions (bench/cluster/main.ts, `npm run bench:cluster`), and profiles (bench/profile/, docs/profile.md).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../../service/src/local/cluster/local-cluster.js';
import { killAllOwned } from '../../service/src/local/cluster/managed-process.js';
import { ensureTool } from '../../service/src/local/cluster/system-tools.js';
import { testServiceUrls } from '../../test/support/platform-db.js';
import { postOnce } from '../cluster/drivers.js';
import { startRawEcho } from '../cluster/helpers.js';
import { rssMb } from '../cluster/rss.js';
import { assertEcho, toolCallBody, toolCallHeaders } from '../cluster/targets.js';
import { bareBullmq, taskPipeline } from '../support/task-throughput.js';
import { startCompiledPlatform } from './compiled-platform.js';
import { measureFederationRow, type FederationFigures } from './federation-rows.js';
import { killFixtures, startFixturesProcess } from './fixtures.js';
import { parseFlags } from './flags.js';
import { measureLoadRows } from './load-rows.js';
import { goalPlot, markdownTable, row } from './report.js';

const flags = parseFlags(process.argv.slice(2), join(REPO_ROOT, 'bench', 'results'));
const started = Date.now();
const log = (line: string) => process.stderr.write(`bench [${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A path as the table prints it: relative inside the repository. */
const shown = (p: string) => (p.startsWith(REPO_ROOT) ? relative(REPO_ROOT, p) : p);

/** The code measured: HEAD, and whether the work tree differs from it (`git status --porcelain` non-empty). */
function measuredCommit(): { commit: string; dirty: boolean } {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  return { commit: git('rev-parse', 'HEAD'), dirty: git('status', '--porcelain') !== '' };
}

// Children never outlive the bench: SIGKILL them on exit, and turn SIGINT/SIGTERM into an exit.
process.once('exit', () => {
  killFixtures();
  killAllOwned();
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.once(signal, () => {
    process.stderr.write(`bench: ${signal}, stopping the child processes\n`);
    process.exit(128 + (signal === 'SIGHUP' ? 1 : signal === 'SIGINT' ? 2 : 15));
  });

async function main(): Promise<void> {
  const wrk = ensureTool('wrk', 'wrk', log);
  const code = measuredCommit();
  log(`code: ${code.commit}${code.dirty ? ' (work tree dirty)' : ''}`);
  const loadBefore = loadavg();
  log(`machine: ${cpus().length} cores, load average ${loadBefore.map((l) => l.toFixed(2)).join(' / ')} (1/5/15 min) before the run`);
  const dir = mkdtempSync(join(tmpdir(), 'umcp-pipeline-bench-'));
  const stops: (() => Promise<unknown>)[] = [];
  try {
    // The upstream fixtures run in a child process: the direct call crosses a process boundary too.
    const fixtures = await startFixturesProcess(dir, 'bench');
    stops.push(() => fixtures.stop());
    const modern = { url: fixtures.modernUrl };
    const legacy = { url: fixtures.legacyUrl };
    log(`upstream fixtures in their own process (pid ${fixtures.pid}): ${modern.url}, ${legacy.url}`);
    const raw = await startRawEcho(dir);
    stops.push(() => raw.process.stop());
    log('starting the compiled gateway (node dist/service/src/gateway-main.js)');
    const platform = await startCompiledPlatform(dir, { WORKER_CONCURRENCY: String(flags.workerConcurrency) });
    stops.push(() => platform.stop());
    await settle(1_000);
    const gatewayPid = platform.gateway.pid!;
    const rssAfterStart = { gateway: rssMb(gatewayPid), raw: rssMb(raw.process.pid) };
    log(`RSS after start: gateway ${rssAfterStart.gateway} MB, bare echo ${rssAfterStart.raw} MB`);

    const key = await platform.tenant('bench', ['diagnostics']);
    await platform.addUpstream('bench', 'm', modern.url);
    await platform.addUpstream('bench', 'l', legacy.url);
    // Every target answers correctly before it is measured.
    assertEcho(await postOnce(platform.mcpUrl, toolCallHeaders('diagnostics.echo', key), toolCallBody('diagnostics.echo')));
    assertEcho(await postOnce(platform.mcpUrl, toolCallHeaders('m__echo', key), toolCallBody('m__echo')), 'bench:hello bench');
    assertEcho(await postOnce(raw.url, {}, toolCallBody('echo')));

    const load = await measureLoadRows(
      { wrkPath: wrk.path, dir, gatewayMcpUrl: platform.mcpUrl, gatewayPid, apiKey: key, federatedTool: 'm__echo', rawUrl: raw.url, rawPid: raw.process.pid! },
      flags,
      log,
    );

    const federation: FederationFigures[] = [];
    for (const target of [
      { label: '2026-07-28 upstream', upstreamUrl: modern.url, ns: 'm', mode: { pin: '2026-07-28' } },
      { label: '2025-era upstream', upstreamUrl: legacy.url, ns: 'l', mode: 'legacy' as const },
    ]) {
      log(`sequential calls, ${target.label}: ${flags.warmup} warm-up + ${flags.calls} x (direct, gateway, built-in), interleaved`);
      const f = await measureFederationRow(target, platform.mcpUrl, key, flags);
      log(
        `  p50 direct ${f.direct.p50Ms} ms, gateway ${f.gateway.p50Ms} ms, built-in ${f.builtIn.p50Ms} ms (ratio ${(f.gateway.p50Ms / f.direct.p50Ms).toFixed(2)}x)`,
      );
      federation.push(f);
    }

    log(`tasks: ${flags.tasks} no-op jobs through bare BullMQ (1 consumer, concurrency ${flags.workerConcurrency}, ${flags.taskClients} producers)`);
    const bare = await bareBullmq({
      redisUrl: testServiceUrls().redisUrl,
      n: flags.tasks,
      concurrency: flags.taskClients,
      consumers: 1,
      workerConcurrency: flags.workerConcurrency,
    });
    log(`  ${bare.toFixed(1)} jobs/s; starting 1 compiled worker (node dist/service/src/worker-main.js)`);
    await platform.startWorker();
    const taskKey = await platform.tenant('tasks', ['diagnostics']);
    log(`tasks: ${flags.tasks} no-op tasks (diagnostics.sleep 0 ms as a task) through the gateway and the worker`);
    const tasks = await taskPipeline({ mcpUrl: platform.mcpUrl, key: taskKey, dbUrl: platform.db.url, n: flags.tasks, concurrency: flags.taskClients });
    log(`  ${tasks.tasksPerS.toFixed(1)} tasks/s (create phase alone ${tasks.createPerS.toFixed(1)}/s)`);

    const [modernRow, legacyRow] = federation as [FederationFigures, FederationFigures];
    const rows = [
      row(
        '1',
        'built-in `diagnostics.echo` tools/call throughput (wrk)',
        load.throughput.gateway.rps,
        load.throughput.raw.rps,
        'req/s',
        'bare node:http JSON echo',
        { on: 'ratio', op: '>=', target: 0.25 },
      ),
      row('2', 'federated call, 2026-07-28 upstream: p50 (sequential)', modernRow.gateway.p50Ms, modernRow.direct.p50Ms, 'ms', 'upstream called directly', {
        on: 'ratio',
        op: '<=',
        target: 1.3,
      }),
      row('3', 'federated call, 2025-era upstream: p50 (sequential)', legacyRow.gateway.p50Ms, legacyRow.direct.p50Ms, 'ms', 'upstream called directly', {
        on: 'ratio',
        op: '<=',
        target: 2,
      }),
      row('4a', 'gateway RSS after start', rssAfterStart.gateway, rssAfterStart.raw, 'MB', 'bare echo after start', { on: 'value', op: '<=', target: 120 }),
      row(
        '4b',
        `gateway RSS after ${flags.loadS} s at ${flags.connections} connections`,
        load.rss.gatewayAfterLoadMb,
        load.rss.rawPeakUnderLoadMb,
        'MB',
        'bare echo peak under wrk',
        { on: 'value', op: '<=', target: 300 },
      ),
      row('5', `no-op task end to end, 1 worker (${flags.tasks} tasks, ${flags.taskClients} clients)`, tasks.tasksPerS, bare, '/s', 'bare BullMQ', {
        on: 'ratio',
        op: '>=',
        target: 0.5,
      }),
    ];
    const loadAfter = loadavg();
    const machine = { cores: cpus().length, node: process.version, loadavgBefore: loadBefore, loadavgAfter: loadAfter };
    const note = `load average ${loadBefore[0]!.toFixed(2)} before, ${loadAfter[0]!.toFixed(2)} after, ${machine.cores} cores`;
    const result = {
      commit: code.commit,
      dirty: code.dirty,
      startedAt: new Date(started).toISOString(),
      durationS: Math.round((Date.now() - started) / 1000),
      machine: {
        ...machine,
        note: 'shared machine: absolute figures are rough when the load average is above the core count; the ratios compare figures of the same run',
      },
      settings: {
        ...flags,
        out: shown(flags.out),
        wrk: wrk.path,
        gateway: 'node dist/service/src/gateway-main.js',
        worker: 'node dist/service/src/worker-main.js',
        upstreams: 'startModernUpstream / startLegacyUpstream in a child process (bench/pipeline/fixtures-process.ts)',
      },
      rows,
      figures: { rssAfterStart, load, federation, tasks: { ...tasks, bareJobsPerS: bare } },
    };
    mkdirSync(flags.out, { recursive: true });
    writeFileSync(join(flags.out, 'pipeline.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(flags.out, 'pipeline-goals.svg'), goalPlot(rows, note));
    process.stdout.write(
      `\nIssue 17 measures, one run (code of ${code.commit.slice(0, 12)}${code.dirty ? ' + uncommitted changes' : ''}, ${result.startedAt}, ${result.durationS} s; ${note}; figures from a loaded machine are rough, compare the ratios)\n\n${markdownTable(rows)}\n\n`,
    );
    process.stdout.write(`written: ${shown(join(flags.out, 'pipeline.json'))}, ${shown(join(flags.out, 'pipeline-goals.svg'))}\n`);
  } finally {
    for (const stop of stops.reverse()) await stop().catch((err: unknown) => log(`stop failed: ${err instanceof Error ? err.message : String(err)}`));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
