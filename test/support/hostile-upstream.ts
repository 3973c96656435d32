/**
 * A misbehaving upstream MCP server, for the hostile-upstream suite and `npm run flood`. It speaks the
 * 2025-era Streamable HTTP protocol by hand (stateless: no session id; GET and DELETE 405), so it can
 * break it in every way the SDK would not. Each behaviour has its own path, `/mcp/<mode>`, so one process
 * serves a tenant's whole set of bad upstreams; `tools/list` works in every mode unless the mode is about
 * the listing, and lists `probe` (whose call misbehaves) and `echo` (which answers `<mode>:<text>`).
 *
 * Modes (what `tools/call probe` does, or what `tools/list` returns):
 * - `good`: answers normally;
 * - `stall`: never sends response headers;
 * - `sse-endless`: an SSE stream of progress-like comments and notifications that never carries the result;
 * - `huge`: a JSON answer of HUGE_MB MiB (default 300) streamed as fast as it is read, no Content-Length;
 * - `huge-sized`: the same with its Content-Length announced;
 * - `huge-sse`: one SSE event of HUGE_MB MiB;
 * - `malformed`: `{"jsonrpc":"2.0","id":` and nothing more that parses;
 * - `wrong-id`: a well-formed result whose id is not the request's;
 * - `other-results`: a batch of results for other request ids, carrying a LEAK marker;
 * - `many-tools`: `tools/list` returns MANY_TOOLS (default 30000) tools;
 * - `big-descriptions`: `tools/list` returns tools with 2 MiB descriptions;
 * - `bad-names`: `tools/list` returns names with path separators and control characters (plus one good one);
 * - `redirect-metadata` / `redirect-private`: every POST is redirected (307) to the cloud metadata
 *   address / a private address.
 *
 * `GET /stats` answers the bytes each mode wrote and how many of its answers the client cut short.
 * Run as a child process (startHostileUpstream), so its own memory and CPU do not count as the gateway's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export const MODES = [
  'good',
  'stall',
  'sse-endless',
  'huge',
  'huge-sized',
  'huge-sse',
  'malformed',
  'wrong-id',
  'other-results',
  'many-tools',
  'big-descriptions',
  'bad-names',
  'redirect-metadata',
  'redirect-private',
] as const;
export type HostileMode = (typeof MODES)[number];

/** Bytes written per mode and answers cut short by the client. */
export interface HostileStats {
  bytes: Record<string, number>;
  cutShort: Record<string, number>;
  requests: Record<string, number>;
}

/** The running fixture (a child process). */
export interface HostileUpstream {
  url(mode: HostileMode): string;
  stats(): Promise<HostileStats>;
  stop(): Promise<void>;
}

/** Starts the fixture as a child process; resolves once it listens. */
export async function startHostileUpstream(env: Record<string, string> = {}): Promise<HostileUpstream> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    env: { ...process.env, ...env, HOSTILE_UPSTREAM_MAIN: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const base = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /HOSTILE_UPSTREAM_URL=(\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`hostile upstream exited (${code}) before listening`)));
  });
  return {
    url: (mode) => `${base}/mcp/${mode}`,
    stats: async () => (await (await fetch(`${base}/stats`)).json()) as HostileStats,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// The server (runs in the child).

const MiB = 1024 * 1024;
const stats: HostileStats = { bytes: {}, cutShort: {}, requests: {} };
const count = (mode: string, n: number) => void (stats.bytes[mode] = (stats.bytes[mode] ?? 0) + n);

interface Rpc {
  jsonrpc: '2.0';
  id?: number | string;
  method: string;
  params?: { name?: string; arguments?: { text?: string } };
}

function tool(name: string, description = `${name} tool`) {
  return { name, description, inputSchema: { type: 'object', properties: { text: { type: 'string' } } } };
}

function toolsFor(mode: HostileMode): unknown[] {
  switch (mode) {
    case 'many-tools':
      return Array.from({ length: Number(process.env.MANY_TOOLS ?? 30_000) }, (_, i) => tool(`t${i}`));
    case 'big-descriptions':
      return [tool('probe', 'D'.repeat(2 * MiB)), tool('echo', `${'é'.repeat(MiB)}`)];
    case 'bad-names':
      return [tool('../../etc/passwd'), tool('a/b'), tool('back\\slash'), tool('nul\u0000byte'), tool('tab\tname'), tool('esc\u001b[31m'), tool('echo')];
    default:
      return [tool('probe'), tool('echo')];
  }
}

function send(res: ServerResponse, mode: string, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  count(mode, Buffer.byteLength(text));
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(text);
}

/** Writes `total` bytes of `piece` (after `head`, before `tail`) as fast as the client reads them. */
function stream(res: ServerResponse, mode: string, head: string, total: number, tail: string): void {
  const piece = Buffer.alloc(MiB, 'x');
  let sent = 0;
  let closed = false;
  res.on('close', () => {
    if (!res.writableFinished) {
      closed = true;
      stats.cutShort[mode] = (stats.cutShort[mode] ?? 0) + 1;
    }
  });
  res.write(head);
  count(mode, head.length);
  const pump = () => {
    while (!closed && sent < total) {
      const n = Math.min(piece.byteLength, total - sent);
      sent += n;
      count(mode, n);
      if (!res.write(n === piece.byteLength ? piece : piece.subarray(0, n))) return void res.once('drain', pump);
    }
    if (!closed) res.end(tail);
  };
  pump();
}

function call(mode: HostileMode, rpc: Rpc, res: ServerResponse): void {
  const id = rpc.id ?? null;
  const name = rpc.params?.name;
  if (name === 'echo' || mode === 'good' || !['probe'].includes(name ?? '')) {
    return send(res, mode, 200, { jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: `${mode}:${rpc.params?.arguments?.text ?? ''}` }] } });
  }
  const hugeBytes = Number(process.env.HUGE_MB ?? 300) * MiB;
  switch (mode) {
    case 'stall':
      return; // never answers; the socket stays open until the client gives up
    case 'sse-endless': {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      let n = 0;
      const timer = setInterval(() => {
        const event = `: keep-alive ${n++}\n\nevent: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: `tick ${n}` } })}\n\n`;
        count(mode, event.length);
        res.write(event);
      }, 10);
      res.on('close', () => clearInterval(timer));
      return;
    }
    case 'huge':
    case 'huge-sized': {
      const head = `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"content":[{"type":"text","text":"`;
      const tail = '"}]}}';
      res.writeHead(200, {
        'content-type': 'application/json',
        ...(mode === 'huge-sized' && { 'content-length': String(head.length + hugeBytes + tail.length) }),
      });
      return stream(res, mode, head, hugeBytes, tail);
    }
    case 'huge-sse': {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      return stream(
        res,
        mode,
        `event: message\ndata: {"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"content":[{"type":"text","text":"`,
        hugeBytes,
        '"}]}}\n\n',
      );
    }
    case 'malformed':
      count(mode, 24);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":');
      return;
    case 'wrong-id':
      return send(res, mode, 200, {
        jsonrpc: '2.0',
        id: typeof id === 'number' ? id + 1000 : `${id}-other`,
        result: { content: [{ type: 'text', text: 'LEAK-wrong-id' }] },
      });
    case 'other-results':
      return send(
        res,
        mode,
        200,
        [1, 2, 3, 4, 5].map((k) => ({
          jsonrpc: '2.0',
          id: typeof id === 'number' ? id + k * 7 : `x${k}`,
          result: { content: [{ type: 'text', text: 'LEAK-other-results' }] },
        })),
      );
    default:
      return send(res, mode, 200, { jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: `${mode}:probe` }] } });
  }
}

function handle(mode: HostileMode, rpc: Rpc, res: ServerResponse): void {
  if (rpc.id === undefined) {
    res.writeHead(202).end();
    return;
  }
  switch (rpc.method) {
    case 'initialize':
      return send(res, mode, 200, {
        jsonrpc: '2.0',
        id: rpc.id,
        result: { protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: `hostile-${mode}`, version: '1.0.0' } },
      });
    case 'ping':
      return send(res, mode, 200, { jsonrpc: '2.0', id: rpc.id, result: {} });
    case 'tools/list':
      return send(res, mode, 200, { jsonrpc: '2.0', id: rpc.id, result: { tools: toolsFor(mode) } });
    case 'tools/call':
      return call(mode, rpc, res);
    default:
      return send(res, mode, 200, { jsonrpc: '2.0', id: rpc.id, error: { code: -32601, message: `method not found: ${rpc.method}` } });
  }
}

function serve(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  if (url === '/stats') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
  const mode = /^\/mcp\/([a-z-]+)$/.exec(url)?.[1] as HostileMode | undefined;
  if (!mode || !MODES.includes(mode)) return void res.writeHead(404).end();
  stats.requests[mode] = (stats.requests[mode] ?? 0) + 1;
  if (mode === 'redirect-metadata' || mode === 'redirect-private') {
    const target = mode === 'redirect-metadata' ? 'http://169.254.169.254/latest/meta-data/iam/security-credentials/' : 'http://10.0.0.1/mcp';
    return void res.writeHead(307, { location: target }).end();
  }
  if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let rpc: Rpc;
    try {
      rpc = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Rpc;
    } catch {
      return void res.writeHead(400).end();
    }
    handle(mode, rpc, res);
  });
}

if (process.env.HOSTILE_UPSTREAM_MAIN === '1') {
  const server = createServer(serve);
  server.keepAliveTimeout = 5_000;
  server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
    process.stdout.write(`HOSTILE_UPSTREAM_URL=http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
  });
  const stop = () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
