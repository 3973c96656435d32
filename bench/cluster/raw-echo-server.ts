/**
 * The runtime's ceiling for the bench: a bare node:http server that parses a JSON-RPC body and answers it
 * with a JSON result, no MCP, no auth, no storage. `PORT=<port> node --import tsx bench/cluster/raw-echo-server.ts`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let id: unknown = null;
    let args: unknown;
    try {
      const msg = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { id?: unknown; params?: { arguments?: unknown } };
      id = msg.id ?? null;
      args = msg.params?.arguments;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}');
      return;
    }
    const body = JSON.stringify({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: (args as { text?: string } | undefined)?.text ?? '' }] } });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () =>
  process.stdout.write(`RAW_ECHO_URL=http://127.0.0.1:${(server.address() as AddressInfo).port}/\n`),
);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
