/**
 * mcporter (a CLI and runtime for configured MCP servers) as its users set it up: a `mcporter.json`
 * with the server's `baseUrl` and an `Authorization: Bearer ${UMCP_API_KEY}` header (expanded from the
 * environment at run time), then `mcporter list` and `mcporter call`. The platform's built-in tool names
 * contain a dot, which mcporter's `server.tool` selector would split, so calls name the tool with
 * `--server umcp --tool <name>` (what its docs offer for such names).
 */
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { ByDesign, LONG_FEDERATED, byDesign, check, expect, textOf, upstreamCancelled, type ClientRow, type Target } from '../matrix.js';
import { describe, installed, jsonOut, runCli } from './cli-process.js';

const { dir: PKG, version: VERSION } = installed('mcporter');
const CLI = join(PKG, 'dist', 'cli.js');

export async function mcporter(t: Target): Promise<ClientRow> {
  const row: ClientRow = {
    id: 'mcporter',
    label: 'mcporter',
    pkg: 'mcporter',
    version: VERSION,
    how: 'mcporter.json { baseUrl, headers: { Authorization: "Bearer ${UMCP_API_KEY}" } }; mcporter list / call --server --tool',
    cells: {},
  };
  const home = join(t.scratch, 'mcporter');
  mkdirSync(home, { recursive: true });
  const config = join(home, 'mcporter.json');
  // `imports: []`: only this file, never the editors' configs of whoever runs the matrix.
  writeFileSync(config, JSON.stringify({ mcpServers: { umcp: { baseUrl: t.mcpUrl, headers: { Authorization: 'Bearer ${UMCP_API_KEY}' } } }, imports: [] }));
  const env = { HOME: home, XDG_CONFIG_HOME: home, XDG_DATA_HOME: home, UMCP_API_KEY: t.apiKey };
  const run = (...args: string[]) => runCli(CLI, ['--config', config, ...args], env);
  const call = async (name: string, args: Record<string, unknown>, ...extra: string[]) => {
    const r = await run('call', '--server', 'umcp', '--tool', name, '--args', JSON.stringify(args), '--output', 'json', ...extra);
    return { r, out: jsonOut<{ content?: unknown; isError?: boolean; error?: string }>(r) };
  };

  const connected = await check(row, 'connect', async () => {
    const r = await run('list', 'umcp', '--json');
    const listed = jsonOut<{ status?: string; tools?: { name: string }[] }>(r);
    expect(r.code === 0 && listed?.status === 'ok', describe(r));
  });
  if (!connected) return row;
  await check(row, 'tools/list', async () => {
    const r = await run('list', 'umcp', '--json');
    const names = (jsonOut<{ tools?: { name: string }[] }>(r)?.tools ?? []).map((x) => x.name);
    expect(names.includes('diagnostics.echo') && names.includes('ev__echo'), describe(r));
    return `${names.length} tools`;
  });
  await check(row, 'built-in call', async () => {
    const { r, out } = await call('diagnostics.echo', { text: 'hello' });
    expect(r.code === 0 && textOf(out) === 'hello', describe(r));
  });
  await check(row, 'federated call', async () => {
    const { r, out } = await call('ev__echo', { message: 'hi' });
    expect(r.code === 0 && textOf(out) === 'Echo: hi', describe(r));
  });
  row.cells.progress = byDesign('`mcporter call` sends no progress token and prints only the final result');
  await check(row, 'cancellation', async () => {
    const from = t.upstreamSent.length;
    const { r } = await call(LONG_FEDERATED.name, LONG_FEDERATED.arguments, '--timeout', '1500');
    expect(r.code !== 0 && /timed out/.test(r.stdout + r.stderr), `--timeout did not end the call: ${describe(r)}`);
    try {
      await upstreamCancelled(t, from, 3_000);
      return '--timeout cancels: notifications/cancelled reached the upstream';
    } catch {
      // Its only way to stop a call is --timeout, whose own race wins over the SDK's timeout (which would
      // send notifications/cancelled): it closes the connection instead, and a closed Streamable HTTP
      // stream is not a cancellation (the specification says so), so the call finishes upstream.
      throw new ByDesign(
        `\`mcporter call --timeout\` abandons the call (closes its connection without notifications/cancelled; a closed stream is not a cancellation), so the upstream runs it to the end`,
      );
    }
  });
  await check(row, 'error', async () => {
    const failed = await call('diagnostics.fail', { message: 'boom' });
    expect(failed.r.code !== 0 && failed.out?.isError === true && textOf(failed.out) === 'boom', `isError result: ${describe(failed.r)}`);
    const missing = await call('nope__missing', {});
    expect(missing.r.code !== 0 && /nope__missing/.test(missing.out?.error ?? ''), `unknown tool: ${describe(missing.r)}`);
    return `exit ${failed.r.code} with the isError result; "${missing.out?.error}"`;
  });
  const noTasks = byDesign(`mcporter ${VERSION} has no tasks support (call runs the tool synchronously)`);
  row.cells.tasks = noTasks;
  row.cells['tasks/list'] = noTasks;
  return row;
}
