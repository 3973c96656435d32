/**
 * Child of bench/profile/run.ts: one gateway (startCluster(1), as bench/federation.ts starts it) with the
 * upstreams given in UPSTREAMS (JSON [[namespace, url], ...]) registered for tenant `bench`. Prints one
 * JSON line {mcpUrl, apiKey}; then the stdin line `start` starts the V8 CPU profiler, `stop <file>` writes
 * the profile there, and the end of stdin stops the gateway. The parent runs the load and the upstream
 * fixtures, so the profile holds the gateway's work alone (warm-up excluded).
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { createInterface } from 'node:readline';
import { startCluster } from '../../test/service/federation/support/gateway.js';
import { startModernUpstream } from '../../test/service/federation/support/upstream-fixtures.js';

const upstreams = JSON.parse(process.env['UPSTREAMS'] ?? '[]') as [string, string][];
const env = JSON.parse(process.env['GATEWAY_ENV'] ?? '{}') as Record<string, string>;
let stop: () => Promise<unknown>;
if (process.env['SERVE'] === 'fixture') {
  // The baseline: the 2026-07-28 upstream fixture alone (the SDK's createMcpHandler, no gateway).
  const fixture = await startModernUpstream('bench');
  stop = () => fixture.close();
  process.stdout.write(`${JSON.stringify({ mcpUrl: fixture.url, apiKey: '' })}\n`);
} else {
  const cluster = await startCluster(1, env);
  stop = () => cluster.stop();
  const { apiKey } = await cluster.tenant('bench');
  for (const [name, url] of upstreams) {
    const r = await cluster.admin('POST', '/tenants/bench/upstreams', { name, url, maxConcurrency: 64 });
    if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  }
  process.stdout.write(`${JSON.stringify({ mcpUrl: cluster.gateways[0]!.mcpUrl, apiKey })}\n`);
}
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: Number(process.env['PROF_INTERVAL_US'] ?? 200) });
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const [cmd, file] = line.split(' ');
  void (async () => {
    if (cmd === 'start') await session.post('Profiler.start');
    if (cmd === 'stop') await writeFile(file!, JSON.stringify((await session.post('Profiler.stop')).profile));
    process.stdout.write(`${cmd} done\n`);
  })();
});
lines.on('close', () => {
  void stop().then(() => process.exit(0));
});
