/**
 * The built-in tools of one server instance as pipeline targets. The toolsets registered them through a
 * recording surface (tools/surface.ts), so their `RegisteredTool`s are at hand; a call is answered by the
 * SDK's own `tools/call` handler of `McpServer` (input validation, a tool's exception as an `isError`
 * result, output validation and projection), recorded by server-handlers.ts.
 *
 * A task's worker needs the other answer to an exception: the tasks extension fails a task on a protocol
 * error and completes it on a tool's own error result. With `surfaceErrors`, the tool runs here instead
 * (the same steps through the public `RegisteredTool`) and an exception is thrown as a JSON-RPC error
 * carrying its code.
 */
import { ProtocolError, ProtocolErrorCode, type RegisteredTool, type ServerContext } from '@modelcontextprotocol/server';
import type { ToolCall, ToolTarget } from '../../domain/tool-call.js';
import type { RecordingSurface } from '../../tools/surface.js';
import type { ServerHandlers } from './server-handlers.js';

/** The built-in tools of one instance. */
export interface BuiltinTools {
  /** The target for `name`, or undefined when no enabled built-in tool has that name. */
  target(name: string): ToolTarget | undefined;
  /** Validates `args` against the tool's input schema; throws -32602 as the SDK words it. */
  validate(name: string, args: unknown): Promise<void>;
}

type Issue = { message: string; path?: readonly (PropertyKey | { key: PropertyKey })[] };

function formatIssue(issue: Issue): string {
  if (!issue.path?.length) return issue.message;
  return `${issue.path.map((p) => String(typeof p === 'object' ? p.key : p)).join('.')}: ${issue.message}`;
}

/** Runs a standard schema; the issues joined as the SDK joins them, or the parsed value. */
async function check(schema: NonNullable<RegisteredTool['inputSchema']>, value: unknown): Promise<{ ok: true; value: unknown } | { ok: false; error: string }> {
  const result = await schema['~standard'].validate(value);
  if (result.issues?.length) return { ok: false, error: result.issues.map((i) => formatIssue(i as Issue)).join(', ') };
  return { ok: true, value: (result as { value: unknown }).value };
}

async function parseArgs(tool: RegisteredTool, name: string, args: unknown): Promise<unknown> {
  if (!tool.inputSchema) return undefined;
  const parsed = await check(tool.inputSchema, args ?? {});
  if (!parsed.ok) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Input validation error: Invalid arguments for tool ${name}: ${parsed.error}`);
  return parsed.value;
}

async function checkOutput(tool: RegisteredTool, name: string, result: Record<string, unknown>): Promise<void> {
  if (!tool.outputSchema || result['isError'] || result['resultType'] === 'input_required') return;
  if (result['structuredContent'] === undefined)
    throw new ProtocolError(
      ProtocolErrorCode.InvalidParams,
      `Output validation error: Tool ${name} has an output schema but no structured content was provided`,
    );
  const parsed = await check(tool.outputSchema, result['structuredContent']);
  if (!parsed.ok)
    throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Output validation error: Invalid structured content for tool ${name}: ${parsed.error}`);
}

/** Runs a tool with exceptions as JSON-RPC errors (see the module comment). */
async function runSurfaced(tool: RegisteredTool, name: string, call: ToolCall): Promise<Record<string, unknown>> {
  const args = await parseArgs(tool, name, call.params.arguments);
  const handler = tool.handler as (...a: unknown[]) => Promise<Record<string, unknown>>;
  let result: Record<string, unknown>;
  try {
    result = tool.inputSchema ? await handler(args, call.ctx) : await handler(call.ctx);
  } catch (err) {
    if (err instanceof ProtocolError) throw err;
    throw new ProtocolError(ProtocolErrorCode.InternalError, err instanceof Error ? err.message : String(err));
  }
  await checkOutput(tool, name, result);
  return result;
}

/** The built-in tools registered through `surface` on the instance whose handlers are `handlers`. */
export function builtinTools(surface: RecordingSurface, handlers: ServerHandlers, opts: { surfaceErrors: boolean }): BuiltinTools {
  const sdkCall = handlers.original('tools/call');
  const toolOf = (name: string) => {
    const tool = surface.tools.get(name);
    return tool?.enabled ? tool : undefined;
  };
  const invoke = (name: string, tool: RegisteredTool) => (call: ToolCall) =>
    opts.surfaceErrors || !sdkCall ? runSurfaced(tool, name, call) : sdkCall({ method: 'tools/call', params: { ...call.params } }, call.ctx as ServerContext);
  return {
    target(name) {
      const tool = toolOf(name);
      if (!tool) return undefined;
      return { kind: 'builtin', authorize: () => undefined, invoke: invoke(name, tool) };
    },
    async validate(name, args) {
      const tool = toolOf(name);
      if (tool) await parseArgs(tool, name, args);
    },
  };
}
