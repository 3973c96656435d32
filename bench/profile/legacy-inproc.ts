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
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { measureInterleaved } from './interleaved.js';
import { startCluster } from '../../test/service/federation/support/gateway.js';
import { startLegacyUpstream } from '../../test/service/federation/support/upstream-fixtures.js';

const N = Number(process.argv[2] ?? 500);
const ROUNDS = Number(process.argv[3] ?? 3);

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
await measureInterleaved(calls, { n: N, rounds: ROUNDS, warmup: 200, label: 'LEGACY', profilePrefix: 'legacy' });
await Promise.all([direct.close(), viaGateway.close()]);
await cluster.stop();
await legacy.close();
process.exit(0);
