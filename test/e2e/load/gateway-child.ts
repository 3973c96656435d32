/**
 * Child process of the flood suite: one real gateway (startCluster(1): real MCP endpoint, the test
 * PostgreSQL and Redis, its own database and prefix) with two tenants, `calm` and `loud`, both with the
 * diagnostics toolset. GATEWAY_ENV (JSON) adds configuration (the limits under test). Prints one JSON
 * line {url, mcpUrl, calm, loud, pid}; SIGTERM (or the end of stdin) stops it and drops its database.
 * Its own process, so the load generator's work never counts as the gateway's (CPU, RSS, event loop).
 */
import { startCluster } from '../../service/federation/support/gateway.js';

const env = JSON.parse(process.env['GATEWAY_ENV'] ?? '{}') as Record<string, string>;
const cluster = await startCluster(1, env);
const calm = await cluster.tenant('calm', ['diagnostics']);
const loud = await cluster.tenant('loud', ['diagnostics']);
const gw = cluster.gateways[0]!;
process.stdout.write(`${JSON.stringify({ url: gw.url, mcpUrl: gw.mcpUrl, calm: calm.apiKey, loud: loud.apiKey, pid: process.pid })}\n`);
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await cluster.stop().catch(() => undefined);
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.stdin.on('end', () => void stop());
process.stdin.resume();
