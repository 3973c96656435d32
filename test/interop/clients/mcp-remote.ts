/**
 * `mcp-remote` as the stdio bridge a stdio-only client (Claude Desktop, Cursor...) launches: the
 * process gets the URL and `--header Authorization:${AUTH_HEADER}` with AUTH_HEADER="Bearer <key>" in
 * its environment (the README's copy-paste config, which mcp-remote expands itself), and the SDK v1
 * client speaks stdio to it, exactly as those clients do. Everything goes through the bridge, so the
 * suite is the v1 client's (sdk-v1.ts).
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { driveV1 } from './sdk-v1.js';
import { installed } from './cli-process.js';
import type { ClientRow, Target } from '../matrix.js';

const { dir: PKG, version: VERSION } = installed('mcp-remote');

export async function mcpRemote(t: Target): Promise<ClientRow> {
  const row: ClientRow = {
    id: 'mcp-remote',
    label: 'mcp-remote (stdio bridge) + SDK v1 stdio client',
    pkg: 'mcp-remote',
    version: VERSION,
    how: 'mcp-remote <MCP_URL> --header Authorization:${AUTH_HEADER} --transport http-only; the client speaks stdio',
    cells: {},
  };
  const home = join(t.scratch, 'mcp-remote');
  mkdirSync(home, { recursive: true });
  await driveV1(
    row,
    t,
    () =>
      new StdioClientTransport({
        command: process.execPath,
        args: [join(PKG, 'dist', 'proxy.js'), t.mcpUrl, '--header', 'Authorization:${AUTH_HEADER}', '--transport', 'http-only'],
        // Its token/config cache under the scratch dir, never the user's ~/.mcp-auth.
        env: { PATH: process.env.PATH ?? '', HOME: home, MCP_REMOTE_CONFIG_DIR: home, AUTH_HEADER: `Bearer ${t.apiKey}` },
        stderr: 'ignore',
      }),
  );
  return row;
}
