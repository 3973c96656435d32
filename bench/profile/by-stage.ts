/**
 * Busy time per call by stage (bench/profile/stages.ts) of one or more gateway CPU profiles, side by side,
 * as the Markdown table of docs/profile.md. Each argument is `<label>=<file.cpuprofile>:<calls>` (the
 * calls the profile covers, e.g. bench/profile/run.ts with PROFILE=1 and 1 round).
 * `npx tsx bench/profile/by-stage.ts federated=/tmp/prof/modern.cpuprofile:2000 built-in=/tmp/prof/builtin-modern.cpuprofile:2000`
 */
import { tally } from './cpuprofile.js';
import { sampleStage, STAGES, type Stage } from './stages.js';

const columns = process.argv.slice(2).map((arg) => {
  const m = /^([^=]+)=(.+):(\d+)$/.exec(arg);
  if (!m) throw new Error(`expected <label>=<file.cpuprofile>:<calls>, got ${arg}`);
  const calls = Number(m[3]);
  const t = tally(m[2]!);
  const perStage = new Map<Stage, number>();
  let busy = 0;
  for (const [id, us] of t.selfUs) {
    if (t.byId.get(id)!.callFrame.functionName === '(idle)') continue;
    const s = sampleStage(id, t.byId, t.parent);
    if (!s) continue; // the profiler's own work
    perStage.set(s, (perStage.get(s) ?? 0) + us / calls);
    busy += us / calls;
  }
  return { label: m[1]!, calls, perStage, busy };
});
if (columns.length === 0) throw new Error('usage: by-stage.ts <label>=<file.cpuprofile>:<calls> ...');

// Socket writes hold the time the process was descheduled while the kernel woke its peer (large on a busy
// machine), so each column also gives the shares without them.
const withoutWrites = (c: (typeof columns)[number]) => c.busy - (c.perStage.get('socket write syscalls') ?? 0);
const pct = (us: number, of: number) => `${((100 * us) / of).toFixed(1)}%`;
const cell = (c: (typeof columns)[number], s: Stage) => {
  const us = c.perStage.get(s) ?? 0;
  return `${us.toFixed(0)} | ${pct(us, c.busy)} | ${s === 'socket write syscalls' ? '-' : pct(us, withoutWrites(c))}`;
};
console.log(`| stage | ${columns.map((c) => `${c.label} µs/call | % | % w/o socket writes`).join(' | ')} |`);
console.log(`|---|${columns.map(() => '---:|---:|---:').join('|')}|`);
for (const s of STAGES) console.log(`| ${s} | ${columns.map((c) => cell(c, s)).join(' | ')} |`);
console.log(`| **busy per call** | ${columns.map((c) => `**${c.busy.toFixed(0)}** | 100% | ${withoutWrites(c).toFixed(0)} µs = 100%`).join(' | ')} |`);
