/**
 * `@modelcontextprotocol/sdk` (v1) as its users drive it: `Client` over Streamable HTTP with the API key
 * in `requestInit.headers`, `callTool` with `onprogress` and an AbortSignal, and the experimental tasks
 * API (`client.experimental.tasks.callToolStream` with `{ task }`, `getTask`, `listTasks`). The same
 * suite runs behind the mcp-remote stdio bridge (mcp-remote.ts).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { installed } from './cli-process.js';
import { CheckFailed, LONG_FEDERATED, check, expect, textOf, upstreamCancelled, type ClientRow, type Target } from '../matrix.js';

const { version: SDK_V1_VERSION } = installed('@modelcontextprotocol/sdk');

/** Drives every capability through a v1 `Client` connected over `transport()`. */
export async function driveV1(row: ClientRow, t: Target, transport: () => Transport): Promise<void> {
  const client = new Client({ name: `interop-${row.id}`, version: '1.0.0' });
  const arrived: { progress?: number; response?: true }[] = [];
  const connected = await check(row, 'connect', async () => {
    const tr = transport();
    await client.connect(tr);
    tapMessages(tr, arrived);
    const version = (client.transport as { protocolVersion?: string } | undefined)?.protocolVersion;
    if (version) row.negotiated = version;
    const info = client.getServerVersion();
    expect(info?.name === 'unified-mcp-platform', `serverInfo.name is ${info?.name}`);
  });
  if (!connected) return;
  try {
    await suite(client, row, t, arrived);
  } finally {
    await client.close().catch(() => undefined);
  }
}

/**
 * Records, in arrival order, the progress notifications and responses the transport hands the client.
 * The v1 `Protocol` dispatches a notification a microtask after it arrives but a response at once, so when
 * the last progress and the result arrive in one read (stdio, where a bridge writes them back to back), it
 * drops that progress as "unknown token" though it arrived first: the tap tells the two apart.
 */
function tapMessages(transport: Transport, arrived: { progress?: number; response?: true }[]): void {
  const deliver = transport.onmessage;
  transport.onmessage = (message, extra) => {
    const m = message as { method?: string; params?: { progress?: number }; result?: unknown; error?: unknown };
    if (m.method === 'notifications/progress') arrived.push({ progress: m.params?.progress });
    else if (m.result !== undefined || m.error !== undefined) arrived.push({ response: true });
    deliver?.(message, extra);
  };
}

async function suite(client: Client, row: ClientRow, t: Target, arrived: { progress?: number; response?: true }[]): Promise<void> {
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
    const from = arrived.length;
    await client.callTool({ name: 'diagnostics.stream', arguments: { count: 3, intervalMs: 10 } }, CallToolResultSchema, {
      onprogress: (p) => seen.push(p.progress),
    });
    const wire = arrived.slice(from).map((a) => (a.response ? 'result' : String(a.progress)));
    expect(wire.join(',') === '1,2,3,result', `arrived at the client: [${wire.join(',')}]`);
    if (seen.join(',') !== '1,2,3')
      return `all arrived before the result; the SDK's onprogress saw [${seen.join(',')}] (v1 dispatches notifications a microtask late)`;
  });
  await check(row, 'cancellation', async () => {
    const from = t.upstreamSent.length;
    const controller = new AbortController();
    const call = client.callTool(LONG_FEDERATED, CallToolResultSchema, { signal: controller.signal });
    const settled = call.then(
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
  await check(row, 'tasks', async () => {
    let taskId: string | undefined;
    let result: unknown;
    for await (const m of client.experimental.tasks.callToolStream({ name: 'diagnostics.sleep', arguments: { ms: 200 } }, CallToolResultSchema, {
      task: { ttl: 60_000 },
    })) {
      if (m.type === 'taskCreated') taskId = m.task.taskId;
      else if (m.type === 'result') result = m.result;
      else if (m.type === 'error') throw m.error;
    }
    expect(taskId, 'no task was created');
    expect(textOf(result) === 'slept 200 ms', `result: ${JSON.stringify(result)}`);
    const task = await client.experimental.tasks.getTask(taskId);
    expect(task.status === 'completed', `tasks/get status ${task.status}`);
    return 'callToolStream (task created, result), getTask';
  });
  await check(row, 'tasks/list', async () => {
    const { tasks } = await client.experimental.tasks.listTasks();
    expect(tasks.length > 0, 'tasks/list returned no task');
    return `${tasks.length} task(s)`;
  });
}

/** The row of the v1 client over Streamable HTTP. */
export async function sdkV1(t: Target): Promise<ClientRow> {
  const row: ClientRow = {
    id: 'sdk-v1',
    label: 'TypeScript SDK v1 client',
    pkg: '@modelcontextprotocol/sdk',
    version: SDK_V1_VERSION,
    how: 'Client + StreamableHTTPClientTransport, Authorization in requestInit; experimental tasks API',
    cells: {},
  };
  await driveV1(row, t, () => new StreamableHTTPClientTransport(new URL(t.mcpUrl), { requestInit: { headers: { Authorization: `Bearer ${t.apiKey}` } } }));
  return row;
}
