/** Child processes of the bench besides the cluster: the raw echo server and mcp-hub. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../service/src/local/free-port.js';
import { ManagedProcess, waitFor } from '../../service/src/local/cluster/managed-process.js';
import { REPO_ROOT } from '../../service/src/local/cluster/local-cluster.js';
import { openHubSession } from './drivers.js';

/** Starts bench/cluster/raw-echo-server.ts; resolves with its URL and process. */
export async function startRawEcho(dir: string): Promise<{ url: string; process: ManagedProcess }> {
  const port = await freePort();
  const proc = new ManagedProcess({
    name: 'raw-echo',
    command: process.execPath,
    args: ['--import', 'tsx', 'bench/cluster/raw-echo-server.ts'],
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: String(port) },
    logFile: join(dir, 'raw-echo.log'),
  });
  proc.start();
  const url = `http://127.0.0.1:${port}/`;
  await waitFor('raw echo server', async () => (await fetch(url, { method: 'POST', body: '{}' })).ok, { timeoutMs: 30_000, proc });
  return { url, process: proc };
}

/** Starts mcp-hub (npm) aggregating `upstreamUrl` as server `fixture`; resolves once its echo tool is listed. */
export async function startMcpHub(dir: string, upstreamUrl: string): Promise<{ baseUrl: string; echoTool: string; process: ManagedProcess }> {
  const cli = join(REPO_ROOT, 'node_modules', 'mcp-hub', 'dist', 'cli.js');
  const home = join(dir, 'mcp-hub-home');
  mkdirSync(home, { recursive: true });
  const config = join(home, 'servers.json');
  writeFileSync(config, JSON.stringify({ mcpServers: { fixture: { url: upstreamUrl } } }));
  const port = await freePort();
  const proc = new ManagedProcess({
    name: 'mcp-hub',
    command: process.execPath,
    args: [cli, '--port', String(port), '--config', config],
    cwd: home,
    env: { ...process.env, HOME: home, XDG_STATE_HOME: home, XDG_CONFIG_HOME: home, XDG_DATA_HOME: home },
    logFile: join(dir, 'mcp-hub.log'),
  });
  proc.start();
  const baseUrl = `http://127.0.0.1:${port}`;
  let echoTool = '';
  await waitFor(
    'mcp-hub',
    async () => {
      const s = await openHubSession(baseUrl);
      try {
        echoTool = (await s.listTools()).find((n) => /echo$/.test(n)) ?? '';
        return echoTool !== '';
      } finally {
        s.close();
      }
    },
    { timeoutMs: 60_000, intervalMs: 500, proc },
  );
  return { baseUrl, echoTool, process: proc };
}
