/**
 * CPU profiles of the compiled gateway and one compiled worker while `npm run bench` row 5 runs (no-op
 * tasks: `diagnostics.sleep {ms: 0}` as a task, 16 clients, worker concurrency 8): both processes run as
 * the images run them, with V8's `--cpu-prof`; the busy time of each (per task, by package group) is
 * printed with bench/profile/summary.ts. Needs `npm run build` first.
 *
 * `npx tsx bench/profile/tasks-under-load.ts [tasks=1000] [out-dir=/tmp/umcp-profile]`
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { taskPipeline } from '../support/task-throughput.js';
import { DEPLOYMENT_NODE_OPTIONS, startCompiledPlatform } from '../pipeline/compiled-platform.js';

const tasks = Number(process.argv[2] ?? 1000);
const out = process.argv[3] ?? '/tmp/umcp-profile';
const log = (line: string) => process.stderr.write(`profile: ${line}\n`);

const dirs = { gateway: join(out, `tasks-gateway-${Date.now()}`), worker: join(out, `tasks-worker-${Date.now()}`) };
for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
const profiled = (dir: string) => `${DEPLOYMENT_NODE_OPTIONS} --cpu-prof --cpu-prof-dir=${dir}`;
const platform = await startCompiledPlatform(out, { NODE_OPTIONS: profiled(dirs.gateway), WORKER_CONCURRENCY: '8' });
try {
  const key = await platform.tenant('profile-tasks', ['diagnostics']);
  await platform.startWorker({ NODE_OPTIONS: profiled(dirs.worker) });
  log(`${tasks} no-op tasks, 16 clients`);
  const rate = await taskPipeline({ mcpUrl: platform.mcpUrl, key, dbUrl: platform.db.url, n: tasks, concurrency: 16 });
  log(`${rate.tasksPerS.toFixed(1)} tasks/s end to end, create phase ${rate.createPerS.toFixed(1)}/s`);
} finally {
  await platform.stop();
}
for (const [name, dir] of Object.entries(dirs)) {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no ${name} profile written in ${dir}`);
  const summary = execFileSync(process.execPath, ['--import', 'tsx', 'bench/profile/summary.ts', join(dir, file), '25'], { encoding: 'utf8' });
  process.stdout.write(`\n## ${name} (${tasks + 20} tasks incl. warm-up): ${join(dir, file)}\n${summary}`);
}
