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
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { measureInterleaved } from './interleaved.js';
import { startCluster } from '../../test/service/federation/support/gateway.js';
import { startModernUpstream } from '../../test/service/federation/support/upstream-fixtures.js';

const N = Number(process.argv[2] ?? 1000);
const ROUNDS = Number(process.argv[3] ?? 5);

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
await measureInterleaved(calls, { n: N, rounds: ROUNDS, warmup: 300, label: 'INPROC', profilePrefix: 'inproc' });
await Promise.all([direct.close(), viaGateway.close()]);
await cluster.stop();
await modern.close();
process.exit(0);
