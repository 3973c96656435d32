/**
 * What one profile has more of than another (e.g. inproc-gateway vs inproc-direct from inproc.ts): self
 * and total time per call by function, and self time per call by group, sorted by the difference.
 * `npx tsx bench/profile/diff.ts <a.cpuprofile> <callsA> <b.cpuprofile> <callsB> [top]` (prints a - b, µs/call)
 */
import { readFileSync } from 'node:fs';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
const short = (url: string) => url.replace(/^file:\/\//, '').replace(/.*\/node_modules\//, 'nm:').replace(/.*\/work\/main\//, '');
const key = (n: Node) => `${n.callFrame.functionName || '(anon)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
const group = (n: Node) => {
  const u = short(n.callFrame.url);
  if (!u) return n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : '(native)';
  if (u.startsWith('nm:')) { const p = u.slice(3).split('/'); return p[0]!.startsWith('@') ? `${p[0]}/${p[1]}` : p[0]!; }
  if (u.startsWith('node:')) return 'node:' + u.slice(5).split('/')[0];
  return u;
};

function load(file: string, calls: number) {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  prof.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const groups = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    if (n.callFrame.functionName === '(idle)') continue;
    busy += us / calls;
    self.set(key(n), (self.get(key(n)) ?? 0) + us / calls);
    groups.set(group(n), (groups.get(group(n)) ?? 0) + us / calls);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = key(byId.get(cur)!);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + us / calls);
    }
  }
  return { self, total, groups, busy };
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
  for (const [k, d, x, y] of rows.sort((p, q) => q[1] - p[1]).slice(0, top)) console.log(`${d.toFixed(1).padStart(8)} ${x.toFixed(1).padStart(8)} ${y.toFixed(1).padStart(8)}  ${k}`);
};
print('self by group', a.groups, b.groups);
print('self by function', a.self, b.self);
print('total by function', a.total, b.total);
