/**
 * The cluster's fixture upstream: a small 2026-07-28 stateless MCP server (official SDK, createMcpHandler)
 * that the gateways federate under the `fixture` namespace. Tools: `echo {text}` and `slow {ms <= 30000}`.
 * Run as its own process: `PORT=<port> node --import tsx service/src/local/cluster/fixture-upstream.ts`;
 * prints `FIXTURE_URL=http://127.0.0.1:<port>/mcp` once listening. SIGTERM/SIGINT end it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';

function buildServer(): McpServer {
  const server = new McpServer({ name: 'umcp-fixture-upstream', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.registerTool('echo', { description: 'Returns its text', inputSchema: z.object({ text: z.string().max(100_000) }) }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
  server.registerTool('slow', { description: 'Sleeps ms (<= 30000), then answers', inputSchema: z.object({ ms: z.number().int().min(0).max(30_000) }) }, async ({ ms }, ctx) => {
    await delay(ms, undefined, { signal: ctx.mcpReq.signal });
    return { content: [{ type: 'text', text: `slept ${ms}` }] };
  });
  return server;
}

const handler = toNodeHandler(createMcpHandler(() => buildServer(), { legacy: 'reject' }));
const http = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  void handler(req, res);
});
http.keepAliveTimeout = 65_000;
http.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`FIXTURE_URL=http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp\n`);
});
const stop = () => http.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
