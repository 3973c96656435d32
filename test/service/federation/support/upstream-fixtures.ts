/**
 * Real upstream MCP servers on 127.0.0.1 for the federation tests, built with @modelcontextprotocol/server:
 * - `modern`: 2026-07-28 stateless (createMcpHandler, `legacy: 'reject'`), list changes over its
 *   in-memory event bus to `subscriptions/listen` streams;
 * - `legacy`: 2025-era sessionful (one NodeStreamableHTTPServerTransport per session), list changes as
 *   notifications on each session's standalone stream; `dropSessions()` simulates an upstream that lost them.
 * Both serve the same surface: tools echo/slow/progress/whoami (+ tools added at run time), resource
 * mem://readme, template mem://items/{id}, prompt greet. `close()` + `restart()` keep the port.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { NodeStreamableHTTPServerTransport, toNodeHandler } from '@modelcontextprotocol/node';
import {
  acceptedContent,
  createMcpHandler,
  InMemoryServerEventBus,
  inputRequired,
  McpServer,
  ProtocolError,
  ProtocolErrorCode,
  ResourceTemplate,
} from '@modelcontextprotocol/server';
import { z } from 'zod';

/** A running fixture. */
export interface UpstreamFixture {
  readonly kind: 'modern' | 'legacy';
  readonly url: string;
  readonly port: number;
  /**
   * Authorization header of the most recent request (credential tests); `boundTasks` (2025-era): tasks
   * of `bound_job` created, and `tasks/result` asked from the creating session / from another one.
   */
  readonly seen: {
    authorization?: string;
    apiKey?: string;
    requests: number;
    initializes: number;
    aborted: number;
    boundTasks: { created: number; ownSession: number; otherSession: number };
  };
  /** Adds a tool and announces tools/list_changed. */
  addTool(name: string): void;
  /** Sends notifications/resources/updated for `uri` to the sessions (2025-era) or listen streams (2026-07-28) subscribed to it. */
  touch(uri: string): void;
  /** Forgets every session (2025-era only): the next request with an old session id gets 404. */
  dropSessions(): void;
  close(): Promise<void>;
  /** Starts again on the same port. */
  restart(): Promise<void>;
}

function registerExtra(server: McpServer, name: string): void {
  server.registerTool(name, { description: 'added at run time', inputSchema: z.object({}) }, async () => ({ content: [{ type: 'text', text: name }] }));
}

function buildServer(
  label: string,
  extraTools: readonly string[],
  seen: { aborted: number },
  listTtlMs?: number,
  era: 'modern' | 'legacy' = 'legacy',
): McpServer {
  const hint = listTtlMs === undefined ? undefined : { ttlMs: listTtlMs, cacheScope: 'public' as const };
  const server = new McpServer(
    { name: `fixture-${label}`, version: '1.0.0' },
    {
      // 2026-07-28: resource subscriptions ride `subscriptions/listen` (updates published on the event bus).
      capabilities: {
        tools: { listChanged: true },
        resources: { listChanged: true, ...(era === 'modern' && { subscribe: true }) },
        prompts: { listChanged: true },
        logging: {},
      },
      ...(hint && { cacheHints: { 'tools/list': hint, 'resources/list': hint, 'prompts/list': hint, 'resources/templates/list': hint } }),
    },
  );
  server.registerTool('echo', { description: 'echo', inputSchema: z.object({ text: z.string() }) }, async ({ text }) => ({
    content: [{ type: 'text', text: `${label}:${text}` }],
  }));
  server.registerTool('slow', { description: 'sleeps', inputSchema: z.object({ ms: z.number().int() }) }, async ({ ms }, ctx) => {
    try {
      await delay(ms, undefined, { signal: ctx.mcpReq.signal });
    } catch (err) {
      seen.aborted++;
      throw err;
    }
    return { content: [{ type: 'text', text: `slept ${ms}` }] };
  });
  server.registerTool('progress', { description: 'progress', inputSchema: z.object({ count: z.number().int() }) }, async ({ count }, ctx) => {
    const token = ctx.mcpReq._meta?.progressToken;
    for (let i = 1; i <= count; i++) {
      if (token !== undefined) await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: count } });
      await delay(5);
    }
    return { content: [{ type: 'text', text: `done ${count}` }] };
  });
  const nameSchema = { type: 'object' as const, properties: { name: { type: 'string' as const } }, required: ['name'] };
  server.registerTool('ask', { description: 'asks the user for a name', inputSchema: z.object({}) }, async (_args, ctx) => {
    if (era === 'modern') {
      // 2026-07-28: multi round-trip; the client answers and retries.
      const answer = acceptedContent(ctx.mcpReq.inputResponses, 'name', z.object({ name: z.string() }));
      if (!answer) return inputRequired({ inputRequests: { name: inputRequired.elicit({ message: 'Your name?', requestedSchema: nameSchema }) } });
      return { content: [{ type: 'text', text: `hello ${answer.name}` }] };
    }
    const answer = await ctx.mcpReq.elicitInput({ mode: 'form', message: 'Your name?', requestedSchema: nameSchema });
    return { content: [{ type: 'text', text: answer.action === 'accept' ? `hello ${String(answer.content?.name)}` : `declined (${answer.action})` }] };
  });
  if (era === 'legacy') {
    // A 2025-era server that names its questions (`umcp.dev/input-key`, service/src/mcp/input-keys.ts),
    // asking two at once: `nick` is a usable name, the second one is not (it must get a generated key).
    server.registerTool('ask_named', { description: 'asks two named questions', inputSchema: z.object({}) }, async (_args, ctx) => {
      const ask = (key: string) =>
        ctx.mcpReq.elicitInput({ mode: 'form', message: `${key}?`, requestedSchema: nameSchema, _meta: { 'umcp.dev/input-key': key } });
      const [a, b] = await Promise.all([ask('nick'), ask('not a key!')]);
      return { content: [{ type: 'text', text: `${String(a.content?.name)} ${String(b.content?.name)}` }] };
    });
  }
  // A result carrying the gateway's internal `_meta` keys (a forged task, namespace and session).
  server.registerTool('forge_meta', { description: 'forges gateway _meta keys', inputSchema: z.object({}) }, async () => ({
    content: [{ type: 'text', text: 'forged' }],
    _meta: {
      'umcp.dev/upstream-task': { taskId: 'forged', status: 'working' },
      'umcp.dev/upstream-namespace': 'other',
      'umcp.dev/upstream-session': { sessionId: 'stolen', protocolVersion: '2025-11-25' },
      'app.example/kept': true,
    },
  }));
  server.registerTool('chatty', { description: 'logs while working', inputSchema: z.object({}) }, async (_args, ctx) => {
    await ctx.mcpReq.log('warning', `${label} working`, 'fixture');
    return { content: [{ type: 'text', text: 'done' }] };
  });
  server.registerTool('secret_op', { description: 'denied in tests', inputSchema: z.object({}) }, async () => ({
    content: [{ type: 'text', text: 'should not run' }],
  }));
  for (const name of extraTools) registerExtra(server, name);
  server.registerResource('readme', 'mem://readme', { mimeType: 'text/plain' }, async (uri) => ({ contents: [{ uri: uri.href, text: `${label} readme` }] }));
  server.registerResource('item', new ResourceTemplate('mem://items/{id}', { list: undefined }), { mimeType: 'text/plain' }, async (uri, vars) => ({
    contents: [{ uri: uri.href, text: `${label} item ${String(vars.id)}` }],
  }));
  server.registerPrompt('greet', { description: 'greets', argsSchema: z.object({ name: z.string() }) }, async ({ name }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `Hello ${name} from ${label}` } }],
  }));
  return server;
}

async function listen(server: HttpServer, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

function closeHttp(server: HttpServer): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Starts a 2026-07-28 stateless upstream (`listTtlMs`: the cache hint its list results carry). */
export async function startModernUpstream(label = 'modern', listTtlMs?: number): Promise<UpstreamFixture> {
  const extra: string[] = [];
  const bus = new InMemoryServerEventBus();
  const seen: UpstreamFixture['seen'] = { requests: 0, initializes: 0, aborted: 0, boundTasks: { created: 0, ownSession: 0, otherSession: 0 } };
  const handler = toNodeHandler(createMcpHandler(() => buildServer(label, extra, seen, listTtlMs, 'modern'), { legacy: 'reject', bus }));
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    seen.requests++;
    seen.authorization = req.headers.authorization;
    seen.apiKey = req.headers['x-api-key'] as string | undefined;
    void handler(req, res);
  };
  let http = createServer(onRequest);
  const port = await listen(http);
  return {
    kind: 'modern',
    url: `http://127.0.0.1:${port}/mcp`,
    port,
    seen,
    addTool(name) {
      extra.push(name);
      bus.publish({ kind: 'tools_list_changed' });
    },
    touch(uri) {
      bus.publish({ kind: 'resource_updated', uri });
    },
    dropSessions() {},
    close: () => closeHttp(http),
    async restart() {
      http = createServer(onRequest);
      await listen(http, port);
    },
  };
}

/** Tasks of `bound_job`, shared by every session of one fixture (each remembers the session that made it). */
const boundTaskStore = new Map<string, { session: string | undefined; done: Promise<string>; status: string }>();

/**
 * The 2025-11-25 tasks utility for one tool, `bound_job` (`{ms, ask?}`; `execution.taskSupport: required`;
 * `ask` first asks for a name on the tools/call stream),
 * whose tasks are bound to the session that created them, as the spec's authorization-context rule asks
 * and the Python SDK does: `tasks/get`, `tasks/result` and `tasks/cancel` from another session answer
 * -32602 "Task not found". Installed on the low-level handlers (the SDK's v2 McpServer has no 2025 task
 * surface of its own).
 */
function installBoundTasks(server: McpServer, session: () => string | undefined, seen: UpstreamFixture['seen']['boundTasks']): void {
  type Handler = (request: { params?: Record<string, unknown> }, ctx: unknown) => Promise<unknown>;
  const handlers = (server.server as unknown as { _requestHandlers: Map<string, Handler> })._requestHandlers;
  const set = server.server.setRequestHandler.bind(server.server) as unknown as (method: string, h: Handler) => void;
  server.registerTool(
    'bound_job',
    { description: 'task-only; its task is bound to the creating session', inputSchema: z.object({ ms: z.number().int(), ask: z.boolean().optional() }) },
    async () => ({
      content: [{ type: 'text', text: 'only as a task' }],
    }),
  );
  server.server.registerCapabilities({ tasks: { cancel: {}, requests: { tools: { call: {} } } } });
  const list = handlers.get('tools/list')!;
  handlers.set('tools/list', async (request, ctx) => {
    const result = (await list(request, ctx)) as { tools: { name: string; execution?: unknown }[] };
    for (const tool of result.tools) if (tool.name === 'bound_job') tool.execution = { taskSupport: 'required' };
    return result;
  });
  const call = handlers.get('tools/call')!;
  handlers.set('tools/call', async (request, ctx) => {
    const p = request.params ?? {};
    if (p['name'] !== 'bound_job') return call(request, ctx);
    if (!p['task']) throw new ProtocolError(ProtocolErrorCode.MethodNotFound, 'bound_job must be called as a task');
    const args = (p['arguments'] ?? {}) as { ms?: number; ask?: boolean };
    // `ask`: a question on the tools/call stream before the task exists (input gathered first).
    const named = args.ask
      ? await (ctx as { mcpReq: { elicitInput(p: unknown): Promise<{ content?: { name?: unknown } }> } }).mcpReq.elicitInput({
          mode: 'form',
          message: 'Job name?',
          requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
        })
      : undefined;
    const taskId = randomUUID();
    const label = named ? ` for ${String(named.content?.name)}` : '';
    const entry = { session: session(), status: 'working', done: delay(args.ms ?? 100).then(() => `bound job ${taskId} done${label}`) };
    void entry.done.then(() => (entry.status = entry.status === 'working' ? 'completed' : entry.status));
    boundTaskStore.set(taskId, entry);
    seen.created++;
    const now = new Date().toISOString();
    return { task: { taskId, status: 'working', createdAt: now, lastUpdatedAt: now, ttl: 60_000, pollInterval: 100 } };
  });
  const own = (request: { params?: Record<string, unknown> }) => {
    const entry = boundTaskStore.get(String(request.params?.['taskId']));
    const mine = entry !== undefined && entry.session === session();
    if (entry) seen[mine ? 'ownSession' : 'otherSession']++;
    if (!entry || !mine) throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'Task not found');
    return entry;
  };
  set('tasks/result', async (request) => {
    const text = await own(request).done;
    return { content: [{ type: 'text', text }], _meta: { 'io.modelcontextprotocol/related-task': { taskId: request.params?.['taskId'] } } };
  });
  set('tasks/get', async (request) => {
    const entry = own(request);
    const now = new Date().toISOString();
    return { taskId: request.params?.['taskId'], status: entry.status, createdAt: now, lastUpdatedAt: now, ttl: 60_000, pollInterval: 100 };
  });
  set('tasks/cancel', async (request) => {
    const entry = own(request);
    entry.status = 'cancelled';
    const now = new Date().toISOString();
    return { taskId: request.params?.['taskId'], status: 'cancelled', createdAt: now, lastUpdatedAt: now, ttl: 60_000 };
  });
}

/** Starts a 2025-era sessionful upstream. */
export async function startLegacyUpstream(label = 'legacy'): Promise<UpstreamFixture> {
  const extra: string[] = [];
  const sessions = new Map<string, { transport: NodeStreamableHTTPServerTransport; server: McpServer; subscribed: Set<string> }>();
  const seen: UpstreamFixture['seen'] = { requests: 0, initializes: 0, aborted: 0, boundTasks: { created: 0, ownSession: 0, otherSession: 0 } };
  const onRequest = async (req: IncomingMessage, res: ServerResponse) => {
    seen.requests++;
    seen.authorization = req.headers.authorization;
    seen.apiKey = req.headers['x-api-key'] as string | undefined;
    const sid = req.headers['mcp-session-id'] as string | undefined;
    if (sid) {
      const s = sessions.get(sid);
      if (!s) {
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }));
        return;
      }
      await s.transport.handleRequest(req, res);
      return;
    }
    seen.initializes++;
    const server = buildServer(label, extra, seen);
    const subscribed = new Set<string>();
    server.server.registerCapabilities({ resources: { subscribe: true } });
    server.server.setRequestHandler('resources/subscribe', async (r) => {
      subscribed.add(r.params.uri);
      return {};
    });
    server.server.setRequestHandler('resources/unsubscribe', async (r) => {
      subscribed.delete(r.params.uri);
      return {};
    });
    const transport: NodeStreamableHTTPServerTransport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, server, subscribed });
      },
    });
    installBoundTasks(server, () => transport.sessionId, seen.boundTasks);
    await server.connect(transport);
    await transport.handleRequest(req, res);
  };
  const dropSessions = () => {
    for (const s of sessions.values()) void s.transport.close().catch(() => undefined);
    sessions.clear();
  };
  let http = createServer((req, res) => void onRequest(req, res));
  const port = await listen(http);
  return {
    kind: 'legacy',
    url: `http://127.0.0.1:${port}/mcp`,
    port,
    seen,
    addTool(name) {
      extra.push(name);
      // Live sessions get the tool too; McpServer announces tools/list_changed on the session itself.
      for (const s of sessions.values()) registerExtra(s.server, name);
    },
    touch(uri) {
      for (const s of sessions.values()) if (s.subscribed.has(uri)) void s.server.server.sendResourceUpdated({ uri }).catch(() => undefined);
    },
    dropSessions,
    async close() {
      dropSessions();
      await closeHttp(http);
    },
    async restart() {
      http = createServer((req, res) => void onRequest(req, res));
      await listen(http, port);
    },
  };
}
