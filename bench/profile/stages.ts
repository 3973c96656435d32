/**
 * Stages of a gateway tools/call for docs/profile.md: each CPU-profile sample is given to the stage of the
 * nearest frame on its stack (leaf first) that belongs to one, so a helper (zod, web streams, Node's own
 * Request/Headers) counts for the stage that called it. Stacks break at async boundaries: work resumed
 * from the event loop with no recognisable frame above it stays "other". Paths are matched wherever the
 * checkout is (tsx sources or compiled dist/).
 */
import type { ProfileNode } from './cpuprofile.js';

/** Stage names, in the order docs/profile.md lists them. */
export const STAGES = [
  'http edge',
  'auth',
  'mcp endpoint / era classification',
  'SDK server',
  'built-in tools',
  'tasks layer',
  'federation router',
  'SDK client / undici',
  'Redis',
  'PG',
  'JSON',
  'logging / metrics',
  'socket write syscalls',
  'garbage collector',
  'other',
] as const;
export type Stage = (typeof STAGES)[number];

/** A frame's path: `nm:<package path>`, `src:<path below service/src>`, `node:<module>`, or '' (native). */
function where(n: ProfileNode): string {
  const u = n.callFrame.url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) return `nm:${u.slice(nm + 14)}`;
  const src = u.indexOf('/service/src/');
  if (src >= 0) return `src:${u.slice(src + 13)}`;
  return u;
}

/** Natives that write to a socket: their time includes the kernel waking the peer (and being descheduled). */
const SOCKET_WRITES = new Set(['writev', 'writeBuffer', 'writeUtf8String', 'writeLatin1String', 'writeAsciiString']);

/** The stage of one frame, or undefined when the frame is a helper (look further up the stack). */
function frameStage(n: ProfileNode, leaf: boolean): Stage | undefined {
  const fn = n.callFrame.functionName;
  const w = where(n);
  if (leaf && w === '') {
    if (fn === '(garbage collector)') return 'garbage collector';
    if (fn === '(program)') return 'other';
    if (SOCKET_WRITES.has(fn)) return 'socket write syscalls';
    if (fn === 'parse' || fn === 'stringify') return 'JSON';
  }
  if (fn === 'parseJSONFromBytes') return 'JSON';
  if (/^nm:(ioredis|@ioredis|redis-parser|redis-errors)\//.test(w) || w.startsWith('src:store/redis/')) return 'Redis';
  if (/^nm:(pg|pg-pool|pg-protocol|pg-types|postgres-[a-z]+)\//.test(w) || w.startsWith('src:store/pg/')) return 'PG';
  if (/^nm:(undici|@modelcontextprotocol\/client)\//.test(w)) return 'SDK client / undici';
  if (/^nm:(pino|pino-std-serializers|sonic-boom|prom-client|thread-stream)\//.test(w) || w.startsWith('src:log/') || /^src:.*metrics\.[jt]s$/.test(w))
    return 'logging / metrics';
  if (w.startsWith('src:gateway/') || /^nm:cockatiel\//.test(w)) return 'federation router';
  if (w.startsWith('src:tasks/')) return 'tasks layer';
  if (w.startsWith('src:tools/')) return 'built-in tools';
  if (/^src:http\/auth\.[jt]s$/.test(w) || /^nm:jose\//.test(w)) return 'auth';
  if (w.startsWith('src:mcp/') || w.startsWith('src:protocol/')) return 'mcp endpoint / era classification';
  if (/^nm:@modelcontextprotocol\/(server|core|node)\//.test(w)) return 'SDK server';
  if (w.startsWith('src:http/') || /^node:(_http_|net$|internal\/http)/.test(w)) return 'http edge';
  return undefined;
}

/** The stage of the sample whose leaf is node `id`; undefined for the profiler's own work (node:inspector), which is not the gateway's. */
export function sampleStage(id: number, byId: ReadonlyMap<number, ProfileNode>, parent: ReadonlyMap<number, number>): Stage | undefined {
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) if (byId.get(cur)!.callFrame.url === 'node:inspector') return undefined;
  for (let cur: number | undefined = id, leaf = true; cur !== undefined; cur = parent.get(cur), leaf = false) {
    const s = frameStage(byId.get(cur)!, leaf);
    if (s) return s;
  }
  return 'other';
}
