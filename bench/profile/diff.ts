/**
 * What one profile has more of than another (e.g. inproc-gateway vs inproc-direct from inproc.ts): self
 * and total time per call by function, and self time per call by group, sorted by the difference.
 * `npx tsx bench/profile/diff.ts <a.cpuprofile> <callsA> <b.cpuprofile> <callsB> [top]` (prints a - b, µs/call)
 */
import { tally } from './cpuprofile.js';

/** Busy (non-idle) time per call of one profile. */
function load(file: string, calls: number) {
  const t = tally(file, { perCall: calls });
  return { self: t.self, total: t.total, groups: t.groups, busy: t.all };
}

const [fa, ca, fb, cb] = process.argv.slice(2);
const top = Number(process.argv[6] ?? 40);
const a = load(fa!, Number(ca));
const b = load(fb!, Number(cb));
console.log(`busy per call: a ${a.busy.toFixed(0)} µs, b ${b.busy.toFixed(0)} µs, a - b ${(a.busy - b.busy).toFixed(0)} µs`);
const print = (title: string, ma: Map<string, number>, mb: Map<string, number>) => {
  const keys = new Set([...ma.keys(), ...mb.keys()]);
  const rows = [...keys].map((k) => [k, (ma.get(k) ?? 0) - (mb.get(k) ?? 0), ma.get(k) ?? 0, mb.get(k) ?? 0] as const);
  console.log(`\n== ${title} (µs/call: a - b, a, b)`);
  for (const [k, d, x, y] of rows.sort((p, q) => q[1] - p[1]).slice(0, top))
    console.log(`${d.toFixed(1).padStart(8)} ${x.toFixed(1).padStart(8)} ${y.toFixed(1).padStart(8)}  ${k}`);
};
print('self by group', a.groups, b.groups);
print('self by function', a.self, b.self);
print('total by function', a.total, b.total);
