/**
 * `@modelcontextprotocol/client` (v2) in each way a user picks the protocol generation:
 * `versionNegotiation: { mode: 'auto' }` (2026-07-28 when the server offers it, else a 2025-era session),
 * `{ pin: '2026-07-28' }`, and `'legacy'` (a 2025-11-25 session). Each mode is a row of its own.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { installed } from './cli-process.js';
import { CheckFailed, LONG_FEDERATED, byDesign, check, expect, textOf, upstreamCancelled, type ClientRow, type Target } from '../matrix.js';

type Mode = 'auto' | 'legacy' | { pin: '2026-07-28' };

const { version: VERSION } = installed('@modelcontextprotocol/client');

const MODES: { id: string; mode: Mode; label: string; expect: string }[] = [
  { id: 'sdk-v2-auto', mode: 'auto', label: "TypeScript SDK v2 client, mode 'auto'", expect: '2026-07-28' },
  { id: 'sdk-v2-pin', mode: { pin: '2026-07-28' }, label: 'TypeScript SDK v2 client, pinned 2026-07-28', expect: '2026-07-28' },
  { id: 'sdk-v2-legacy', mode: 'legacy', label: "TypeScript SDK v2 client, mode 'legacy'", expect: '2025-11-25' },
];

async function drive(t: Target, spec: (typeof MODES)[number]): Promise<ClientRow> {
  const row: ClientRow = {
    id: spec.id,
    label: spec.label,
    pkg: '@modelcontextprotocol/client',
    version: VERSION,
    how: `Client({ versionNegotiation: { mode: ${JSON.stringify(spec.mode)} } }) + StreamableHTTPClientTransport`,
    cells: {},
  };
  const client = new Client({ name: `interop-${spec.id}`, version: '1.0.0' }, { versionNegotiation: { mode: spec.mode } });
  const connected = await check(row, 'connect', async () => {
    await client.connect(new StreamableHTTPClientTransport(new URL(t.mcpUrl), { requestInit: { headers: { Authorization: `Bearer ${t.apiKey}` } } }));
    row.negotiated = client.getNegotiatedProtocolVersion();
    expect(row.negotiated === spec.expect, `negotiated ${row.negotiated}, expected ${spec.expect}`);
    return `negotiated ${row.negotiated}`;
  });
  if (!connected) return row;
  try {
    await check(row, 'tools/list', async () => {
      const names = (await client.listTools()).tools.map((x) => x.name);
      expect(names.includes('diagnostics.echo') && names.includes('ev__echo'), `tools: ${names.join(', ')}`);
      return `${names.length} tools`;
    });
    await check(row, 'built-in call', async () => {
      const r = await client.callTool({ name: 'diagnostics.echo', arguments: { text: 'hello' } });
      expect(textOf(r) === 'hello', `got ${JSON.stringify(r)}`);
    });
    await check(row, 'federated call', async () => {
      const r = await client.callTool({ name: 'ev__echo', arguments: { message: 'hi' } });
      expect(textOf(r) === 'Echo: hi', `got ${JSON.stringify(r)}`);
    });
    await check(row, 'progress', async () => {
      const seen: number[] = [];
      await client.callTool({ name: 'diagnostics.stream', arguments: { count: 3, intervalMs: 10 } }, { onprogress: (p) => seen.push(p.progress) });
      expect(seen.join(',') === '1,2,3', `progress notifications: [${seen.join(',')}]`);
    });
    await check(row, 'cancellation', async () => {
      const from = t.upstreamSent.length;
      const controller = new AbortController();
      const settled = client.callTool(LONG_FEDERATED, { signal: controller.signal }).then(
        () => 'resolved',
        () => 'rejected',
      );
      await new Promise((r) => setTimeout(r, 300));
      controller.abort('user cancelled');
      expect((await settled) === 'rejected', 'the aborted call still resolved');
      await upstreamCancelled(t, from);
      return 'notifications/cancelled reached the upstream';
    });
    await check(row, 'error', async () => {
      const toolError = await client.callTool({ name: 'diagnostics.fail', arguments: { message: 'boom' } });
      expect(toolError.isError === true && textOf(toolError) === 'boom', `tool error: ${JSON.stringify(toolError)}`);
      try {
        await client.callTool({ name: 'nope__missing', arguments: {} });
      } catch (err) {
        expect(/nope__missing/.test((err as Error).message), `protocol error without the tool's name: ${(err as Error).message}`);
        return 'isError result and a JSON-RPC error naming the tool';
      }
      throw new CheckFailed('calling an unknown tool did not fail');
    });
    const noTasks = byDesign(
      `@modelcontextprotocol/client ${VERSION} has no tasks API: a v2 application calls task-capable tools through @modelcontextprotocol/ext-tasks (or plain callTool, which runs them synchronously)`,
    );
    row.cells.tasks = noTasks;
    row.cells['tasks/list'] = noTasks;
  } finally {
    await client.close().catch(() => undefined);
  }
  return row;
}

/** One row per negotiation mode. */
export async function sdkV2(t: Target): Promise<ClientRow[]> {
  const rows: ClientRow[] = [];
  for (const spec of MODES) rows.push(await drive(t, spec));
  return rows;
}
