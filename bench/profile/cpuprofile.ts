/** Reading V8 .cpuprofile files (summary.ts, diff.ts): frames, their keys and groups, time per function. */
import { readFileSync } from 'node:fs';

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** A URL without the machine's prefixes (`nm:` for node_modules, the repository path dropped). */
export const short = (url: string) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/.*\/node_modules\//, 'nm:')
    .replace(/.*\/work\/main\//, '');

/** `function url:line` of a frame. */
export const frameKey = (n: ProfileNode) => `${n.callFrame.functionName || '(anon)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

/** A frame's source group: a package, a node: module, or a project file (its path cut to `projectDepth` parts). */
export function frameGroup(n: ProfileNode, projectDepth?: number): string {
  const u = short(n.callFrame.url);
  if (!u) return n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : '(native)';
  if (u.startsWith('nm:')) {
    const p = u.slice(3).split('/');
    return p[0]!.startsWith('@') ? `${p[0]}/${p[1]}` : p[0]!;
  }
  if (u.startsWith('node:')) return `node:${u.slice(5).split('/')[0]}`;
  return projectDepth === undefined ? u : u.split('/').slice(0, projectDepth).join('/');
}

/** Sampled time of one profile (µs, divided by `perCall`): self and total by function, self by group. */
export interface Tally {
  readonly byId: Map<number, ProfileNode>;
  readonly parent: Map<number, number>;
  /** Self time per node id (µs, undivided). */
  readonly selfUs: Map<number, number>;
  readonly self: Map<string, number>;
  readonly total: Map<string, number>;
  readonly groups: Map<string, number>;
  /** Everything counted (with `withIdle`, idle time too). */
  readonly all: number;
}

export function tally(file: string, opts: { perCall?: number; withIdle?: boolean; projectDepth?: number } = {}): Tally {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  prof.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const groups = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  let all = 0;
  for (const [id, raw] of selfUs) {
    const n = byId.get(id)!;
    if (!opts.withIdle && n.callFrame.functionName === '(idle)') continue;
    const us = raw / (opts.perCall ?? 1);
    all += us;
    add(self, frameKey(n), us);
    add(groups, frameGroup(n, opts.projectDepth), us);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = frameKey(byId.get(cur)!);
      if (seen.has(k)) continue;
      seen.add(k);
      add(total, k, us);
    }
  }
  return { byId, parent, selfUs, self, total, groups, all };
}
