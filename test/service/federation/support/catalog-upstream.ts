/**
 * A 2026-07-28 upstream with a large catalog, for tool search: `count` generated tools named
 * `<verb>_<noun>_<n>` ("Creates an invoice record (variant 3)."), plus a few hand-written ones whose
 * names and descriptions the ranking tests look for (`createPullRequest`, `list_issues`, `weather_forecast`).
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';

const VERBS = ['get', 'list', 'create', 'update', 'delete', 'archive', 'export', 'import', 'sync', 'validate'];
const NOUNS = ['invoice', 'customer', 'order', 'ticket', 'shipment', 'payment', 'report', 'contract', 'product', 'employee'];

/** The hand-written tools (name, title, description). */
export const KNOWN_TOOLS = [
  ['createPullRequest', 'Create pull request', 'Opens a pull request on a repository from a branch.'],
  ['list_issues', 'List issues', 'Lists the open issues of a repository, newest first.'],
  ['weather_forecast', 'Weather forecast', 'Returns the weather forecast for a city for the next days.'],
] as const;

/** A running catalog upstream. */
export interface CatalogUpstream {
  readonly url: string;
  /** Tools it lists. */
  readonly size: number;
  close(): Promise<void>;
}

/** Starts an upstream listing `count` generated tools plus {@link KNOWN_TOOLS}. */
export async function startCatalogUpstream(count: number): Promise<CatalogUpstream> {
  const Input = z.object({ id: z.string().describe('Record id') });
  const build = () => {
    const server = new McpServer({ name: 'catalog-fixture', version: '1.0.0' }, { capabilities: { tools: { listChanged: true } } });
    for (let i = 0; i < count; i++) {
      const verb = VERBS[i % VERBS.length]!;
      const noun = NOUNS[Math.floor(i / VERBS.length) % NOUNS.length]!;
      const variant = Math.floor(i / (VERBS.length * NOUNS.length));
      const name = `${verb}_${noun}_${variant}`;
      server.registerTool(
        name,
        { description: `${verb[0]!.toUpperCase()}${verb.slice(1)}s a ${noun} record (variant ${variant}).`, inputSchema: Input },
        async ({ id }) => ({
          content: [{ type: 'text', text: `${name}:${id}` }],
        }),
      );
    }
    for (const [name, title, description] of KNOWN_TOOLS) {
      server.registerTool(name, { title, description, inputSchema: z.object({ repo: z.string().optional() }) }, async () => ({
        content: [{ type: 'text', text: `ran ${name}` }],
      }));
    }
    return server;
  };
  const handler = toNodeHandler(createMcpHandler(build, { legacy: 'reject' }));
  const http: HttpServer = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    size: count + KNOWN_TOOLS.length,
    close: () =>
      new Promise((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}
