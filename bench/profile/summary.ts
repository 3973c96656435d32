/**
 * Summarises a V8 .cpuprofile: self and total (inclusive) time by function, and self time by source
 * group (service/src files, node_modules packages, node internals). `npx tsx bench/profile/summary.ts <file> [top]`
 */
import { frameKey as key, short, tally } from './cpuprofile.js';

const file = process.argv[2]!;
const top = Number(process.argv[3] ?? 40);
const { byId, parent, selfUs, self, total, groups, all } = tally(file, { withIdle: true, projectDepth: 4 });
const fmt = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / all).toFixed(1).padStart(5)}%`;
const idle = self.get('(idle) :0') ?? 0;
console.log(`${file}: ${(all / 1000).toFixed(0)} ms sampled, ${((all - idle) / 1000).toFixed(0)} ms busy`);
const print = (title: string, m: Map<string, number>, n: number) => {
  console.log(`\n== ${title}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${fmt(v)}  ${k}`);
};
print('self time by group', groups, 30);
print('self time by function', self, top);
print('total time by function', total, top);

// `--callers <substring>`: where the self time of matching functions comes from (the nearest service/src
// frame and the nearest package frame on the stack).
const ci = process.argv.indexOf('--callers');
if (ci > 0) {
  const needle = process.argv[ci + 1]!;
  const where = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    if (!key(n).includes(needle)) continue;
    const chain: string[] = [];
    for (let cur = parent.get(id); cur !== undefined && chain.length < 3; cur = parent.get(cur)) {
      const c = byId.get(cur)!;
      const u = short(c.callFrame.url);
      if (u.startsWith('service/') || u.startsWith('nm:@modelcontextprotocol') || u.startsWith('test/') || u.startsWith('bench/')) chain.push(key(c));
    }
    const k = chain.join(' <- ') || '(none)';
    where.set(k, (where.get(k) ?? 0) + us);
  }
  print(`callers of ${needle}`, where, top);
}

// `--layers`: busy self time by the outermost layer found on each sample's stack (stacks break at async
// boundaries, so "other" holds work resumed from the event loop without a recognisable caller).
if (process.argv.includes('--layers')) {
  const layer = (id: number): string => {
    let found = 'other';
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const u = short(byId.get(cur)!.callFrame.url);
      if (u.startsWith('nm:undici/')) return 'outbound: undici (npm)';
      if (u.startsWith('nm:@modelcontextprotocol/client')) return 'outbound: SDK client';
      if (u.startsWith('service/src/gateway/')) found = `gateway: ${u.split('/').pop()}`;
      else if (u.startsWith('nm:@modelcontextprotocol/server') && !found.startsWith('gateway')) found = 'inbound: SDK server';
      else if (u.startsWith('service/src/') && found === 'other') found = u.split('/').slice(2, 4).join('/');
      else if (u.startsWith('nm:pg') && found === 'other') found = 'pg';
      else if (u.startsWith('nm:ioredis') && found === 'other') found = 'ioredis';
    }
    return found;
  };
  const layers = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    if (n.callFrame.functionName === '(idle)') continue;
    const l = layer(id);
    layers.set(l, (layers.get(l) ?? 0) + us);
  }
  print('busy self time by layer', layers, 40);
}
