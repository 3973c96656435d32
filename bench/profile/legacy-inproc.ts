/**
 * The 2025-era row of bench/federation.ts alone, for quick A/B runs of the legacy leg's per-call cost: the
 * same process layout as bench/profile/inproc.ts (client, gateway and upstream fixture in one process), with
 * 2025-era clients (an Mcp-Session-Id session on the gateway's legacy leg, and directly on the 2025-era
 * upstream fixture). Direct, federated and built-in calls are measured interleaved, call by call; prints each
 * round's p50s, CPU per call and the median gateway/direct ratio. With PROFILE=1 a last round of the
 * federated call is profiled in-process into `<PROF_DIR>/legacy-gateway.cpuprofile` (and the direct call into
 * `legacy-direct.cpuprofile`; default /tmp/prof), for bench/profile/summary.ts and diff.ts.
 * Writes nothing under bench/results.
 *
 * `npx tsx bench/profile/legacy-inproc.ts [calls] [rounds]` (defaults 500, 3)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Session } from 'node:inspector/promises';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startCluster } from '../../test/service/federation/support/gateway.js';
import { startLegacyUpstream } from '../../test/service/federation/support/upstream-fixtures.js';

const N = Number(process.argv[2] ?? 500);
const ROUNDS = Number(process.argv[3] ?? 3);
const profDir = process.env['PROF_DIR'] ?? '/tmp/prof';
const profile = process.env['PROFILE'] === '1';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

const load = loadavg()[0]!;
const [cluster, legacy] = await Promise.all([startCluster(1), startLegacyUpstream('bench')]);
const { apiKey } = await cluster.tenant('bench');
const r = await cluster.admin('POST', '/tenants/bench/upstreams', { name: 'l', url: legacy.url, maxConcurrency: 64 });
if (r.status !== 201) throw new Error(JSON.stringify(r.body));
const connect = async (url: string, headers: Record<string, string>) => {
  const c = new Client({ name: 'bench', version: '1' }, { versionNegotiation: { mode: 'legacy' } });
  await c.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return c;
};
const direct = await connect(legacy.url, {});
const viaGateway = await connect(cluster.gateways[0]!.mcpUrl, { authorization: `Bearer ${apiKey}` });
const calls = {
  direct: () => direct.callTool({ name: 'echo', arguments: { text: 'x' } }),
  gateway: () => viaGateway.callTool({ name: 'l__echo', arguments: { text: 'x' } }),
  builtin: () => viaGateway.callTool({ name: 'diagnostics.echo', arguments: { text: 'x' } }),
};
for (let i = 0; i < 200; i++) for (const c of Object.values(calls)) await c();

const session = new Session();
if (profile) {
  mkdirSync(profDir, { recursive: true });
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: Number(process.env['PROF_INTERVAL_US'] ?? 100) });
}
const kinds = Object.keys(calls) as (keyof typeof calls)[];
const p50s: Record<string, number[]> = { direct: [], gateway: [], builtin: [] };
const cpus: Record<string, number[]> = { direct: [], gateway: [], builtin: [] };
console.log(`machine: 1-minute load average ${load.toFixed(2)} before the run`);
for (let round = 0; round < ROUNDS; round++) {
  if (profile && round === ROUNDS - 1) {
    for (const name of ['direct', 'gateway'] as const) {
      await session.post('Profiler.start');
      for (let i = 0; i < N; i++) await calls[name]();
      writeFileSync(`${profDir}/legacy-${name}.cpuprofile`, JSON.stringify((await session.post('Profiler.stop')).profile));
    }
    console.log(`profiled ${N} calls each into ${profDir}/legacy-{direct,gateway}.cpuprofile`);
    break;
  }
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
    p50s[k]!.push(median(t[k]!));
    cpus[k]!.push(cpu[k]! / N);
  }
  const row = (k: string) => `${k} ${p50s[k]!.at(-1)!.toFixed(3)} ms (${cpus[k]!.at(-1)!.toFixed(0)} µs CPU)`;
  console.log(`round ${round + 1}: ${row('direct')}, ${row('gateway')}, ${row('builtin')}, ratio ${(p50s.gateway!.at(-1)! / p50s.direct!.at(-1)!).toFixed(2)}`);
}
const ratios = p50s.gateway!.map((g, i) => g / p50s.direct![i]!);
console.log(`LEGACY median p50: direct ${median(p50s.direct!).toFixed(3)} ms, gateway ${median(p50s.gateway!).toFixed(3)} ms, built-in ${median(p50s.builtin!).toFixed(3)} ms, ratio ${median(ratios).toFixed(2)}x`);
console.log(`LEGACY median CPU/call: direct ${median(cpus.direct!).toFixed(0)} µs, gateway ${median(cpus.gateway!).toFixed(0)} µs, built-in ${median(cpus.builtin!).toFixed(0)} µs`);
await Promise.all([direct.close(), viaGateway.close()]);
await cluster.stop();
await legacy.close();
process.exit(0);
