/**
 * The cluster's fixture upstream: a small stateless MCP server (official SDK, createMcpHandler; 2026-07-28, and
 * 2025-era clients through the SDK's stateless legacy fallback, which mcp-hub in the bench needs)
 * that the gateways federate under the `fixture` namespace. Tools: `echo {text}` and `slow {ms <= 30000, key?}`
 * (registered as long-running, so it runs as a task on the workers). `GET /stats` counts `slow` executions
 * per key, the ones running and the ones aborted (caller gone): the chaos run reads it to prove a worker was
 * killed mid-job and to count re-executions.
 * Run as its own process: `PORT=<port> node --import tsx service/src/local/cluster/fixture-upstream.ts`;
 * prints `FIXTURE_URL=http://127.0.0.1:<port>/mcp` once listening. SIGTERM/SIGINT end it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';

const stats = { executions: {} as Record<string, number>, active: 0, aborted: 0, completed: 0, httpRequests: 0 };

function buildServer(): McpServer {
  const server = new McpServer({ name: 'umcp-fixture-upstream', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.registerTool('echo', { description: 'Returns its text', inputSchema: z.object({ text: z.string().max(100_000) }) }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  const slowInput = z.object({ ms: z.number().int().min(0).max(30_000), key: z.string().max(200).optional() });
  server.registerTool('slow', { description: 'Sleeps ms (<= 30000), then answers', inputSchema: slowInput }, async ({ ms, key }, ctx) => {
    if (key) stats.executions[key] = (stats.executions[key] ?? 0) + 1;
    stats.active++;
    try {
      await delay(ms, undefined, { signal: ctx.mcpReq.signal });
      stats.completed++;
    } catch (err) {
      stats.aborted++;
      throw err;
    } finally {
      stats.active--;
    }
    return { content: [{ type: 'text', text: `slept ${ms}${key ? ` ${key}` : ''}` }] };
  });
  return server;
}

const handler = toNodeHandler(createMcpHandler(() => buildServer(), { legacy: 'stateless' }));
const http = createServer((req, res) => {
  if (req.url === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
    return;
  }
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  stats.httpRequests++;
  void handler(req, res);
});
http.keepAliveTimeout = 65_000;
http.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`FIXTURE_URL=http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp\n`);
});
const stop = () => http.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
