/**
 * The compiled gateway's CPU profile under the load of `npm run bench` row 1 (wrk, `diagnostics.echo`,
 * 32 connections): the gateway runs as the image runs it (`node dist/...`, bench/pipeline/compiled-platform.ts)
 * with V8's `--cpu-prof`, wrk loads it for `seconds`, and the profile written at its exit is split by
 * stage (bench/profile/by-stage.ts) over the calls wrk counted. Needs `npm run build` first.
 *
 * `npx tsx bench/profile/under-load.ts [seconds=10] [out-dir=/tmp/umcp-profile]`
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureTool } from '../../service/src/local/cluster/system-tools.js';
import { wrkPost } from '../cluster/wrk.js';
import { toolCallBody, toolCallHeaders } from '../cluster/targets.js';
import { DEPLOYMENT_NODE_OPTIONS, startCompiledPlatform } from '../pipeline/compiled-platform.js';

const seconds = Number(process.argv[2] ?? 10);
const out = process.argv[3] ?? '/tmp/umcp-profile';
const log = (line: string) => process.stderr.write(`profile: ${line}\n`);

const wrk = ensureTool('wrk', 'wrk', log);
const profDir = join(out, `under-load-${Date.now()}`);
mkdirSync(profDir, { recursive: true });
const platform = await startCompiledPlatform(out, { NODE_OPTIONS: `${DEPLOYMENT_NODE_OPTIONS} --cpu-prof --cpu-prof-dir=${profDir}` });
let calls = 0;
try {
  const key = await platform.tenant('profile');
  const run = (durationS: number) =>
    wrkPost(wrk.path, out, 'profile', platform.mcpUrl, toolCallHeaders('diagnostics.echo', key), toolCallBody('diagnostics.echo'), {
      connections: 32,
      durationS,
    });
  log('warm-up: 3 s');
  const warm = await run(3);
  log(`load: wrk 32 connections x ${seconds} s (the profile also holds start-up and the warm-up, idle or not)`);
  const r = await run(seconds);
  if (r.non2xx + r.errors > 0) throw new Error(`${r.non2xx} non-2xx answers, ${r.errors} socket errors`);
  calls = warm.requests + r.requests;
  log(`${r.rps.toFixed(0)} req/s; ${calls} calls in the profile`);
} finally {
  await platform.stop();
}
const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error(`no profile written in ${profDir}`);
const table = execFileSync(process.execPath, ['--import', 'tsx', 'bench/profile/by-stage.ts', `built-in under wrk=${join(profDir, file)}:${calls}`], {
  encoding: 'utf8',
});
process.stdout.write(`${join(profDir, file)}\n\n${table}`);
