/**
 * Runs one tool call inside the worker exactly as the gateway would: a fresh per-tenant `McpServer`
 * (built-in toolsets + the tenant's upstreams, from the same factory the endpoint uses) connected to an
 * SDK `Client` over an in-memory transport. Progress notifications, elicitation requests and
 * cancellation therefore behave like they do for a direct call; the worker only bridges them to the task.
 */
import { Client } from '@modelcontextprotocol/client';
import { InMemoryTransport, type McpServer } from '@modelcontextprotocol/server';
import type { Principal } from '../domain/principal.js';
import { IDEMPOTENCY_KEY_META, TASK_RUN_META } from '../protocol/meta-keys.js';

/**
 * Builds the server a task's tool runs on (2025-era instance, the tenant's toolsets and upstreams). Its
 * tool-call pipeline surfaces a tool's exception as a JSON-RPC error carrying its code (the tasks extension
 * fails a task on it, and completes one on a tool's own error result): the worker's factory sets `runsTasks`.
 */
export type TaskServerBuilder = (principal: Principal) => Promise<McpServer>;

/** How the runner reports to the task while the tool runs. */
export interface RunHooks {
  readonly signal: AbortSignal;
  /** A progress notification of the tool. */
  onProgress(progress: { progress: number; total?: number; message?: string }): void;
  /**
   * The tool asks the client something (`elicitation/create`); `key` is stable across re-runs of the
   * same task (n-th request of the run). Resolves with the client's answer.
   */
  onInputRequest(key: string, request: { method: string; params: Record<string, unknown> }): Promise<Record<string, unknown>>;
}

/** The outcome of a call: the tool's result (possibly `isError`), or a JSON-RPC error it raised. */
export type RunOutcome = { kind: 'result'; result: Record<string, unknown> } | { kind: 'error'; code: number; message: string; data?: unknown };

/** Runs `tool` with `args` for `principal`; `idempotencyKey` travels in `_meta` to upstreams. */
export async function runTool(
  build: TaskServerBuilder,
  principal: Principal,
  call: { tool: string; arguments: Record<string, unknown>; idempotencyKey: string },
  hooks: RunHooks,
): Promise<RunOutcome> {
  const server = await build(principal);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'umcp-worker', version: '1' }, { capabilities: { elicitation: { form: {} } } });
  let sequence = 0;
  client.setRequestHandler('elicitation/create', async (req) => {
    const key = `input-${++sequence}`;
    return (await hooks.onInputRequest(key, { method: 'elicitation/create', params: req.params as Record<string, unknown> })) as never;
  });
  try {
    await server.connect(serverSide);
    await client.connect(clientSide);
    const result = await client.callTool(
      { name: call.tool, arguments: call.arguments, _meta: { [IDEMPOTENCY_KEY_META]: call.idempotencyKey, [TASK_RUN_META]: true } },
      { signal: hooks.signal, onprogress: (p) => hooks.onProgress(p), timeout: 24 * 3_600_000, resetTimeoutOnProgress: true },
    );
    return { kind: 'result', result: result as Record<string, unknown> };
  } catch (err) {
    return errorOutcome(err, hooks.signal);
  } finally {
    await client.close().catch(() => undefined);
    await server.close().catch(() => undefined);
  }
}

/** A JSON-RPC error (anything with a numeric code) as the run's outcome; an abort or other failure is rethrown. */
export function errorOutcome(err: unknown, signal: AbortSignal): RunOutcome {
  signal.throwIfAborted();
  const e = err as { code?: unknown; message?: unknown; data?: unknown };
  if (typeof e.code === 'number') return { kind: 'error', code: e.code, message: String(e.message ?? 'error'), ...(e.data !== undefined && { data: e.data }) };
  throw err;
}
