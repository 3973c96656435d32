/**
 * The pass-through path of the endpoint: a 2026-07-28 caller's `tools/call` of a connected 2026-07-28
 * upstream's tool skips the SDK on both sides. The request is checked with the SDK's own inbound
 * classification, runs through the tool-call pipeline like any call (authorize, task or direct, audit,
 * large-result offload), and its target sends it to the upstream as bytes (gateway/passthrough). The answer
 * goes back as JSON, or as SSE once the upstream sends a notification (progress, log) before its response.
 *
 * Everything else goes the SDK's way, decided before anything is sent: a request the SDK's ladder would
 * answer itself, a round of a multi round-trip exchange (requestState, inputResponses: the gateway's sealed
 * state must be opened), `Mcp-Param-*` headers (validated at the front against the catalog), a caller that
 * declared the tasks extension, a tool that runs as a gateway task, an upstream not connected yet.
 */
import {
  classifyInboundRequest,
  isCallToolResult,
  PROTOCOL_VERSION_META_KEY,
  ProtocolError,
  ProtocolErrorCode,
  SERVER_INFO_META_KEY,
  type ServerContext,
} from '@modelcontextprotocol/server';
import type { Principal } from '../domain/principal.js';
import type { ToolCallParams, ToolTarget } from '../domain/tool-call.js';
import { declaresExtension, type TaskPolicyLookup } from '../tasks/mcp-tasks.js';
import type { ToolCallPipeline } from './pipeline/pipeline.js';
import type { BuiltinTools } from './pipeline/builtin-tools.js';
import { authInfoFor } from './server-factory.js';

/** What the pass-through path needs. */
export interface PassThroughDeps {
  readonly pipeline: ToolCallPipeline;
  /** The pass-through target of a tenant's tool, when one serves it (Federation.resolvePassThrough). */
  readonly resolve: (tenantId: string, name: string) => Promise<ToolTarget | undefined>;
  /** A new task-policy lookup (tasks/): a tool that runs as a gateway task is not passed through. */
  readonly taskPolicy?: () => TaskPolicyLookup;
  /** Stamped into results as the SDK stamps a server's own. */
  readonly serverInfo: { readonly name: string; readonly version: string };
}

type Body = { id?: unknown; method?: unknown; params?: Record<string, unknown> };

/** No built-ins: a pass-through call's target is resolved before the pipeline runs. */
const NO_BUILTINS: BuiltinTools = { target: () => undefined, validate: async () => undefined };

const header = (request: Request, name: string) => request.headers.get(name) ?? undefined;

/** The call when it may be passed through (see the module comment), else undefined. */
function eligible(request: Request, parsed: unknown): { id: string | number; params: ToolCallParams } | undefined {
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const body = parsed as Body;
  const params = body.params;
  if (body.method !== 'tools/call' || (typeof body.id !== 'string' && typeof body.id !== 'number')) return undefined;
  if (!params || typeof params['name'] !== 'string' || 'requestState' in params || 'inputResponses' in params || 'task' in params) return undefined;
  let paramHeaders = false;
  request.headers.forEach((_value, name) => void (paramHeaders ||= name.startsWith('mcp-param-')));
  if (paramHeaders) return undefined;
  const route = classifyInboundRequest({
    httpMethod: 'POST',
    protocolVersionHeader: header(request, 'mcp-protocol-version'),
    mcpMethodHeader: header(request, 'mcp-method'),
    mcpNameHeader: header(request, 'mcp-name'),
    body: parsed,
  });
  if (route.kind !== 'modern' || route.messageKind !== 'request') return undefined;
  const meta = params['_meta'] as Record<string, unknown> | undefined;
  if (meta?.[PROTOCOL_VERSION_META_KEY] !== '2026-07-28' || header(request, 'mcp-protocol-version') !== '2026-07-28') return undefined;
  if (declaresExtension({ mcpReq: { envelope: meta } })) return undefined;
  return { id: body.id, params: params as ToolCallParams };
}

/** The JSON-RPC error object of a failed call (internals never on the wire). */
function errorOf(err: unknown): { code: number; message: string; data?: unknown } {
  if (err instanceof ProtocolError) return { code: err.code, message: err.message, ...(err.data !== undefined && { data: err.data }) };
  return { code: ProtocolErrorCode.InternalError, message: 'Internal error' };
}

/** A complete result as the SDK sends a server's own: `resultType` and the server's info in `_meta`. */
function delivered(result: Record<string, unknown>, serverInfo: PassThroughDeps['serverInfo']): Record<string, unknown> {
  const kind = result['resultType'];
  if (kind === 'input_required' || kind === 'task') return result;
  if (!isCallToolResult(result)) throw new ProtocolError(ProtocolErrorCode.InternalError, 'upstream answered a tools/call with an invalid result');
  return { ...result, resultType: 'complete', _meta: { ...(result['_meta'] as object), [SERVER_INFO_META_KEY]: serverInfo } };
}

/**
 * Serves `request` on the pass-through path, or resolves undefined when it must go the SDK's way (nothing
 * has been sent then).
 */
export async function passThrough(
  deps: PassThroughDeps,
  request: Request,
  parsed: unknown,
  principal: Principal,
  requestId: string | undefined,
): Promise<Response | undefined> {
  const call = eligible(request, parsed);
  if (!call) return undefined;
  const target = await deps.resolve(principal.tenantId, call.params.name);
  if (!target) return undefined;
  if (await deps.taskPolicy?.()(principal, call.params.name, false)) return undefined;
  return new Promise<Response>((resolve) => {
    const encoder = new TextEncoder();
    const event = (message: unknown) => encoder.encode(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
    let stream: ReadableStreamDefaultController<Uint8Array> | undefined;
    const open = () => {
      if (stream) return stream;
      const body = new ReadableStream<Uint8Array>({ start: (c) => void (stream = c) });
      resolve(new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } }));
      return stream!;
    };
    const finish = (message: Record<string, unknown>, status: number) => {
      if (stream) {
        stream.enqueue(event(message));
        stream.close();
      } else resolve(new Response(JSON.stringify(message), { status, headers: { 'content-type': 'application/json' } }));
    };
    const meta = call.params._meta ?? {};
    const ctx = {
      mcpReq: {
        id: call.id,
        method: 'tools/call',
        _meta: meta,
        envelope: meta,
        signal: request.signal,
        requestState: () => undefined,
        notify: async (n: { method: string; params?: Record<string, unknown> }) => void open().enqueue(event({ jsonrpc: '2.0', ...n })),
      },
      http: { authInfo: authInfoFor(principal, requestId), req: request },
    } as unknown as ServerContext;
    const run = deps.pipeline.runResolved({
      principal,
      era: 'modern',
      ...(requestId && { requestId }),
      params: call.params,
      ctx,
      target,
      scope: { builtins: NO_BUILTINS },
    });
    run.then(
      (result) => {
        try {
          finish({ jsonrpc: '2.0', id: call.id, result: delivered(result, deps.serverInfo) }, 200);
        } catch (err) {
          finish({ jsonrpc: '2.0', id: call.id, error: errorOf(err) }, 200);
        }
      },
      (err: unknown) => {
        const error = errorOf(err);
        // As the SDK answers in-band errors: 400 for a missing client capability (-32021), else 200.
        finish({ jsonrpc: '2.0', id: call.id, error }, error.code === ProtocolErrorCode.MissingRequiredClientCapability ? 400 : 200);
      },
    );
  });
}
