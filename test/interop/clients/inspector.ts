/**
 * The MCP Inspector's CLI mode (`npx @modelcontextprotocol/inspector --cli <url> --header "Authorization:
 * Bearer <key>" --method ...`), one process per request as its users run it: once with its default
 * protocol era for ad-hoc URLs (legacy, a 2025-11-25 session) and once with `--protocol-era auto`.
 * `tools/list` also runs with `--strict`, the Inspector's schema-portability check.
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { byDesign, check, expect, textOf, type ClientRow, type Target } from '../matrix.js';
import { describe, errorEnvelope, installed, jsonOut, runCli } from './cli-process.js';

const { dir: PKG, version: VERSION } = installed('@modelcontextprotocol/inspector');
const LAUNCHER = join(PKG, 'clients', 'launcher', 'build', 'index.js');

async function drive(t: Target, era: 'default' | 'auto'): Promise<ClientRow> {
  const row: ClientRow = {
    id: era === 'default' ? 'inspector' : 'inspector-auto',
    label: `MCP Inspector CLI${era === 'auto' ? ', --protocol-era auto' : ''}`,
    pkg: '@modelcontextprotocol/inspector',
    version: VERSION,
    how: `inspector --cli <MCP_URL> --header "Authorization: Bearer <key>"${era === 'auto' ? ' --protocol-era auto' : ''} --method ...`,
    cells: {},
  };
  const home = join(t.scratch, row.id);
  mkdirSync(home, { recursive: true });
  const env = { HOME: home, MCP_CATALOG_PATH: join(home, 'mcp.json'), MCP_CLIENT_CONFIG_PATH: join(home, 'client.json') };
  const base = ['--cli', t.mcpUrl, '--header', `Authorization: Bearer ${t.apiKey}`, ...(era === 'auto' ? ['--protocol-era', 'auto'] : [])];
  const run = (...args: string[]) => runCli(LAUNCHER, [...base, ...args], env);
  const call = async (name: string, args: Record<string, unknown>) => {
    const r = await run('--method', 'tools/call', '--tool-name', name, '--tool-args-json', JSON.stringify(args), '--format', 'json');
    return { r, out: jsonOut<{ result?: unknown; error?: { code: string; message: string } }>(r) };
  };

  const connected = await check(row, 'connect', async () => {
    const r = await run('--method', 'initialize', '--format', 'json');
    const init = jsonOut<{ result?: { serverInfo?: { name?: string }; protocolVersion?: string } }>(r)?.result;
    expect(r.code === 0 && init?.serverInfo?.name === 'unified-mcp-platform', describe(r));
    row.negotiated = init.protocolVersion;
  });
  if (!connected) return row;
  await check(row, 'tools/list', async () => {
    const r = await run('--method', 'tools/list', '--format', 'json');
    const names = (jsonOut<{ result?: { tools?: { name: string }[] } }>(r)?.result?.tools ?? []).map((x) => x.name);
    expect(r.code === 0 && names.includes('diagnostics.echo') && names.includes('ev__echo'), describe(r));
    // --strict: the Inspector's portability check of every tool schema (warnings and errors on stderr).
    const strict = await run('--method', 'tools/list', '--strict');
    const output = strict.stderr + strict.stdout;
    // With findings the Inspector prints them and a summary line; with none, only the list.
    const summary = /(\d+) errors?, (\d+) warnings?/.exec(output);
    const clean = summary ? summary[1] === '0' && summary[2] === '0' : !/Warning: tool|Error: tool/.test(output);
    expect(
      strict.code === 0 && clean,
      `--strict: ${summary?.[0] ?? describe(strict)} (${/Warning: tool "[^"]+"\n\s*Path: \S+/.exec(output)?.[0].replace(/\s+/g, ' ') ?? ''})`,
    );
    return `${names.length} tools; --strict: no portability warnings`;
  });
  await check(row, 'built-in call', async () => {
    const { r, out } = await call('diagnostics.echo', { text: 'hello' });
    expect(r.code === 0 && textOf(out?.result) === 'hello', describe(r));
  });
  await check(row, 'federated call', async () => {
    const { r, out } = await call('ev__echo', { message: 'hi' });
    expect(r.code === 0 && textOf(out?.result) === 'Echo: hi', describe(r));
  });
  row.cells.progress = byDesign('--cli sends no progress token and prints only the final result');
  row.cells.cancellation = byDesign('--cli runs one request per process: there is no way to cancel a call in flight');
  await check(row, 'error', async () => {
    // A tool's isError result and an unknown tool both end the process non-zero with an error envelope.
    const failed = await call('diagnostics.fail', { message: 'boom' });
    const failedErr = errorEnvelope(failed.r);
    expect(failed.r.code !== 0 && (failedErr?.code === 'tool_is_error' || failedErr?.message === 'boom'), `isError result: ${describe(failed.r)}`);
    const missing = await call('nope__missing', {});
    const missingErr = errorEnvelope(missing.r);
    expect(missing.r.code !== 0 && /nope__missing/.test(missingErr?.message ?? ''), `unknown tool: ${describe(missing.r)}`);
    return `isError: exit ${failed.r.code} (${failedErr?.code}: ${failedErr?.message}); unknown tool: exit ${missing.r.code} (${missingErr?.code}: ${missingErr?.message})`;
  });
  const noTasks = byDesign(`--cli ${VERSION} offers no tasks/* methods (its list: initialize, tools/*, resources/*, prompts/*, logging/setLevel, skills/*)`);
  row.cells.tasks = noTasks;
  row.cells['tasks/list'] = noTasks;
  return row;
}

/** Two rows: the default era (legacy for ad-hoc URLs) and --protocol-era auto. */
export async function inspector(t: Target): Promise<ClientRow[]> {
  return [await drive(t, 'default'), await drive(t, 'auto')];
}
