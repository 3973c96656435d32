/**
 * `@modelcontextprotocol/server-everything` as a real upstream process for the federation tests: its
 * Streamable HTTP transport (`dist/index.js streamableHttp`, port from `PORT`) started on a free loopback
 * port, behind a recording pass-through proxy so a test can see which JSON-RPC messages the gateway sent
 * to the upstream (e.g. `notifications/cancelled`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** A running server-everything with a recording proxy in front. */
export interface EverythingUpstream {
  /** The proxy's MCP URL (register this one). */
  readonly url: string;
  /** JSON-RPC messages POSTed to the upstream, in order. */
  readonly sent: { method?: string; id?: unknown; params?: Record<string, unknown> }[];
  /** The process's stdout+stderr so far (for failure messages). */
  output(): string;
  /** Kills the process (SIGKILL, as a crash or a redeploy would) and starts a new one on the same port: every upstream session is gone. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

function entryPoint(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@modelcontextprotocol/server-everything/package.json')), 'dist', 'index.js');
}

/** One server-everything process on `port`; resolves once it listens. */
async function spawnEverything(port: number, log: (chunk: string) => void, output: () => string): Promise<ChildProcess> {
  const child: ChildProcess = spawn(process.execPath, [entryPoint(), 'streamableHttp'], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let mine = '';
  const onData = (d: Buffer) => {
    mine += d.toString();
    log(d.toString());
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server-everything did not start within 15 s:\n${output()}`)), 15_000);
      const check = () => {
        if (mine.includes(`listening on port ${port}`)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', check);
      child.stderr!.on('data', check);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`server-everything exited (${code}):\n${output()}`));
      });
    });
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return child;
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

/** Starts server-everything (Streamable HTTP) and the proxy; resolves once the upstream listens. */
export async function startEverythingUpstream(): Promise<EverythingUpstream> {
  const port = await freePort();
  let out = '';
  const log = (chunk: string) => (out += chunk);
  let child = await spawnEverything(port, log, () => out);

  const sent: EverythingUpstream['sent'] = [];
  const proxy: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.method === 'POST' && body.length) {
        try {
          const parsed = JSON.parse(body.toString('utf8')) as unknown;
          for (const m of Array.isArray(parsed) ? parsed : [parsed]) sent.push(m as EverythingUpstream['sent'][number]);
        } catch {
          // not JSON: forwarded as is
        }
      }
      const headers = { ...req.headers, host: `127.0.0.1:${port}` };
      const up = request({ host: '127.0.0.1', port, path: req.url, method: req.method, headers }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      });
      up.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      res.on('close', () => up.destroy());
      up.end(body);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const proxyPort = (proxy.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${proxyPort}/mcp`,
    sent,
    output: () => out,
    async restart() {
      await stopChild(child, 'SIGKILL');
      child = await spawnEverything(port, log, () => out);
    },
    async close() {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await stopChild(child, 'SIGTERM');
    },
  };
}
