/**
 * The measuring loop of bench/profile/inproc.ts and legacy-inproc.ts: direct, federated and built-in calls
 * in one process (client, gateway and upstream fixture share the event loop), measured interleaved call by
 * call so slow drifts of the machine hit every kind alike. Prints each round's p50s and process CPU per
 * call, then the medians over rounds. With PROFILE=1 the last round instead profiles the direct and the
 * federated call in-process (V8 profiler through node:inspector) into `<PROF_DIR>/<prefix>-{direct,gateway}.cpuprofile`
 * (default /tmp/prof), for bench/profile/summary.ts and diff.ts. Writes nothing under bench/results.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Session } from 'node:inspector/promises';

/** The three kinds of call compared. */
export interface InterleavedCalls {
  readonly direct: () => Promise<unknown>;
  readonly gateway: () => Promise<unknown>;
  readonly builtin: () => Promise<unknown>;
}

type Kind = keyof InterleavedCalls;
const KINDS: readonly Kind[] = ['direct', 'gateway', 'builtin'];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function startProfiler(dir: string): Promise<Session> {
  const session = new Session();
  mkdirSync(dir, { recursive: true });
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: Number(process.env['PROF_INTERVAL_US'] ?? 100) });
  return session;
}

/** One round, interleaved: p50 (ms) and process CPU (user + system, µs) per call of each kind. */
async function round(calls: InterleavedCalls, n: number): Promise<Record<Kind, { p50: number; cpu: number }>> {
  const t: Record<Kind, number[]> = { direct: [], gateway: [], builtin: [] };
  const cpu: Record<Kind, number> = { direct: 0, gateway: 0, builtin: 0 };
  for (let i = 0; i < n; i++) {
    for (const k of KINDS) {
      const c0 = process.cpuUsage();
      const s = process.hrtime.bigint();
      await calls[k]();
      t[k].push(Number(process.hrtime.bigint() - s) / 1e6);
      const c = process.cpuUsage(c0);
      cpu[k] += c.user + c.system;
    }
  }
  const out = {} as Record<Kind, { p50: number; cpu: number }>;
  for (const k of KINDS) out[k] = { p50: median(t[k]), cpu: cpu[k] / n };
  return out;
}

/**
 * Warms up, runs `rounds` rounds of `n` calls of each kind and prints the results, each line prefixed with
 * `label` (e.g. INPROC, LEGACY).
 */
export async function measureInterleaved(
  calls: InterleavedCalls,
  opts: { n: number; rounds: number; warmup: number; label: string; profilePrefix: string },
): Promise<void> {
  for (let i = 0; i < opts.warmup; i++) for (const k of KINDS) await calls[k]();
  const profDir = process.env['PROF_DIR'] ?? '/tmp/prof';
  const session = process.env['PROFILE'] === '1' ? await startProfiler(profDir) : undefined;
  console.log(`machine: 1-minute load average ${loadavg()[0]!.toFixed(2)} before the run`);
  const p50s: Record<Kind, number[]> = { direct: [], gateway: [], builtin: [] };
  const cpus: Record<Kind, number[]> = { direct: [], gateway: [], builtin: [] };
  for (let r = 0; r < opts.rounds; r++) {
    if (session && r === opts.rounds - 1) {
      for (const name of ['direct', 'gateway'] as const) {
        await session.post('Profiler.start');
        for (let i = 0; i < opts.n; i++) await calls[name]();
        writeFileSync(`${profDir}/${opts.profilePrefix}-${name}.cpuprofile`, JSON.stringify((await session.post('Profiler.stop')).profile));
      }
      console.log(`profiled ${opts.n} calls each into ${profDir}/${opts.profilePrefix}-{direct,gateway}.cpuprofile`);
      break;
    }
    const res = await round(calls, opts.n);
    for (const k of KINDS) {
      p50s[k].push(res[k].p50);
      cpus[k].push(res[k].cpu);
    }
    const row = (k: Kind) => `${k} ${res[k].p50.toFixed(3)} ms (${res[k].cpu.toFixed(0)} µs CPU)`;
    console.log(`round ${r + 1}: ${row('direct')}, ${row('gateway')}, ${row('builtin')}, ratio ${(res.gateway.p50 / res.direct.p50).toFixed(2)}`);
  }
  if (p50s.direct.length === 0) return;
  const ratios = p50s.gateway.map((g, i) => g / p50s.direct[i]!);
  console.log(
    `${opts.label} median p50: direct ${median(p50s.direct).toFixed(3)} ms, gateway ${median(p50s.gateway).toFixed(3)} ms, built-in ${median(p50s.builtin).toFixed(3)} ms, ratio ${median(ratios).toFixed(2)}x`,
  );
  console.log(
    `${opts.label} median CPU/call: direct ${median(cpus.direct).toFixed(0)} µs, gateway ${median(cpus.gateway).toFixed(0)} µs, built-in ${median(cpus.builtin).toFixed(0)} µs, gateway - direct ${(median(cpus.gateway) - median(cpus.direct)).toFixed(0)} µs`,
  );
}
