/**
 * The 2026-07-28 row of bench/federation.ts alone, for quick A/B runs of the gateway's per-call cost: the
 * same process layout (client, gateway and upstream fixture in one process, so the latency is the sum of
 * everyone's work on one event loop), the same fixture, client and call. Direct and gateway calls are
 * measured interleaved, call by call (slow drifts of the machine hit all alike); prints each round's p50s,
 * CPU per call and the median ratio. With PROFILE=1 a last round of each is profiled in-process (V8 profiler via node:inspector) into
 * `<PROF_DIR>/inproc-direct.cpuprofile` and `inproc-gateway.cpuprofile` (default /tmp/prof): what the
 * gateway adds is the difference (bench/profile/summary.ts on each).
 *
 * `npx tsx bench/profile/inproc.ts [calls] [rounds]` (defaults 1000, 5)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startCluster } from '../../test/service/federation/support/gateway.js';
import { startModernUpstream } from '../../test/service/federation/support/upstream-fixtures.js';

const N = Number(process.argv[2] ?? 1000);
const ROUNDS = Number(process.argv[3] ?? 5);
const profDir = process.env['PROF_DIR'] ?? '/tmp/prof';
const profile = process.env['PROFILE'] === '1';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

const [cluster, modern] = await Promise.all([startCluster(1), startModernUpstream('bench')]);
const { apiKey } = await cluster.tenant('bench');
const r = await cluster.admin('POST', '/tenants/bench/upstreams', { name: 'm', url: modern.url, maxConcurrency: 64 });
if (r.status !== 201) throw new Error(JSON.stringify(r.body));
const connect = async (url: string, headers: Record<string, string>) => {
  const c = new Client({ name: 'bench', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await c.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return c;
};
const direct = await connect(modern.url, {});
const viaGateway = await connect(cluster.gateways[0]!.mcpUrl, { authorization: `Bearer ${apiKey}` });
const calls = {
  direct: () => direct.callTool({ name: 'echo', arguments: { text: 'x' } }),
  gateway: () => viaGateway.callTool({ name: 'm__echo', arguments: { text: 'x' } }),
  builtin: () => viaGateway.callTool({ name: 'diagnostics.echo', arguments: { text: 'x' } }),
};
for (let i = 0; i < 300; i++) for (const c of Object.values(calls)) await c();

const session = new Session();
if (profile) {
  mkdirSync(profDir, { recursive: true });
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: Number(process.env['PROF_INTERVAL_US'] ?? 100) });
}
const p50s: Record<keyof typeof calls, number[]> = { direct: [], gateway: [], builtin: [] };
/** Process CPU (user + system) per call, µs: everyone's work, since client, gateway and upstream share the process. */
const cpus: Record<keyof typeof calls, number[]> = { direct: [], gateway: [], builtin: [] };
const kinds = Object.keys(calls) as (keyof typeof calls)[];
for (let round = 0; round < ROUNDS; round++) {
  const last = round === ROUNDS - 1;
  if (profile && last) {
    // Profiled: one kind after the other (a profile per kind).
    for (const name of ['direct', 'gateway'] as const) {
      await session.post('Profiler.start');
      for (let i = 0; i < N; i++) await calls[name]();
      writeFileSync(`${profDir}/inproc-${name}.cpuprofile`, JSON.stringify((await session.post('Profiler.stop')).profile));
    }
    console.log(`profiled ${N} calls each into ${profDir}/inproc-{direct,gateway}.cpuprofile`);
    break;
  }
  // Interleaved (direct, gateway, built-in, direct, ...): slow drifts of the machine hit all kinds alike.
  const t: Record<string, number[]> = { direct: [], gateway: [], builtin: [] };
  const cpu: Record<string, number> = { direct: 0, gateway: 0, builtin: 0 };
  for (let i = 0; i < N; i++) {
    for (const k of kinds) {
      const c0 = process.cpuUsage();
      const s = process.hrtime.bigint();
      await calls[k]();
      t[k]!.push(Number(process.hrtime.bigint() - s) / 1e6);
      const c = process.cpuUsage(c0);
      cpu[k]! += c.user + c.system;
    }
  }
  for (const k of kinds) {
    p50s[k].push(median(t[k]!));
    cpus[k].push(cpu[k]! / N);
  }
  const row = (k: keyof typeof calls) => `${k} ${p50s[k].at(-1)!.toFixed(3)} ms (${cpus[k].at(-1)!.toFixed(0)} µs CPU)`;
  console.log(`round ${round + 1}: ${row('direct')}, ${row('gateway')}, ${row('builtin')}, ratio ${(p50s.gateway.at(-1)! / p50s.direct.at(-1)!).toFixed(2)}`);
}
const ratios = p50s.gateway.map((g, i) => g / p50s.direct[i]!);
console.log(`INPROC median p50: direct ${median(p50s.direct).toFixed(3)} ms, gateway ${median(p50s.gateway).toFixed(3)} ms, built-in ${median(p50s.builtin).toFixed(3)} ms, ratio ${median(ratios).toFixed(2)}x`);
console.log(`INPROC median CPU/call: direct ${median(cpus.direct).toFixed(0)} µs, gateway ${median(cpus.gateway).toFixed(0)} µs, built-in ${median(cpus.builtin).toFixed(0)} µs, gateway - direct ${(median(cpus.gateway) - median(cpus.direct)).toFixed(0)} µs`);
await Promise.all([direct.close(), viaGateway.close()]);
await cluster.stop();
await modern.close();
process.exit(0);
