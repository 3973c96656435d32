/**
 * A minimal legacy HTTP+SSE upstream (protocol 2024-11-05 transport): `GET /sse` opens the stream and
 * announces `event: endpoint` with the POST URL; `POST /messages?sessionId=` delivers client messages
 * (202) whose answers go out on the stream. The SDK v2 ships only the client side of this transport, so
 * the server side is this small Transport feeding a real McpServer.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer, type JSONRPCMessage, type Transport } from '@modelcontextprotocol/server';
import { z } from 'zod';

class SseServerTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport['onmessage'];
  readonly sessionId = randomUUID();

  constructor(private readonly res: ServerResponse) {}

  async start(): Promise<void> {
    this.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    this.res.write(`event: endpoint\ndata: /messages?sessionId=${this.sessionId}\n\n`);
    this.res.on('close', () => this.onclose?.());
  }

  async send(message: JSONRPCMessage): Promise<void> {
    this.res.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
  }

  async close(): Promise<void> {
    this.res.end();
  }
}

/** A running SSE upstream. */
export interface SseUpstream {
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the SSE upstream with one tool, `echo`. */
export async function startSseUpstream(label = 'sse'): Promise<SseUpstream> {
  const transports = new Map<string, SseServerTransport>();
  const http = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname === '/sse') {
      const transport = new SseServerTransport(res);
      transports.set(transport.sessionId, transport);
      const server = new McpServer({ name: `fixture-${label}`, version: '1.0.0' });
      server.registerTool('echo', { description: 'echo', inputSchema: z.object({ text: z.string() }) }, async ({ text }) => ({
        content: [{ type: 'text', text: `${label}:${text}` }],
      }));
      void server.connect(transport);
      return;
    }
    if (req.method === 'POST' && url.pathname === '/messages') {
      const transport = transports.get(url.searchParams.get('sessionId') ?? '');
      if (!transport) return void res.writeHead(404).end('unknown session');
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        res.writeHead(202).end('Accepted');
        transport.onmessage?.(JSON.parse(body) as JSONRPCMessage);
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
  const port = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/sse`,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}
