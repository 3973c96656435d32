/**
 * The paths of the endpoint that skip the SDK server: a 2026-07-28 caller's `tools/call` of
 * - a connected 2026-07-28 upstream's tool (pass-through): the request goes to the upstream as bytes
 *   (gateway/passthrough), with no SDK exchange on either side;
 * - a built-in tool of a direct toolset (the direct path, builtin-catalog.ts): the tool runs on the
 *   caller's cached instance, without a server built for the request.
 * The request is checked with the SDK's own inbound classification and runs through the tool-call pipeline
 * like any call (authorize, limits, task or direct, validation, audit, large-result offload). The answer
 * goes back as JSON, or as SSE once a notification (progress, log) comes before the response.
 *
 * Everything else goes the SDK's way, decided before anything is sent: a request the SDK's ladder would
 * answer itself, a round of a multi round-trip exchange (requestState, inputResponses: the gateway's sealed
 * state must be opened), `Mcp-Param-*` headers (validated at the front against the catalog), a caller that
 * declared the tasks extension, an upstream tool that runs as a gateway task, an upstream not connected yet.
 */
import {
  isCallToolResult,
  PROTOCOL_VERSION_META_KEY,
  ProtocolError,
  ProtocolErrorCode,
  SERVER_INFO_META_KEY,
  type InboundClassificationOutcome,
  type ServerContext,
} from '@modelcontextprotocol/server';
import type { Principal } from '../domain/principal.js';
import type { ToolCallParams, ToolTarget } from '../domain/tool-call.js';
import { declaresExtension, type TaskPolicyLookup } from '../tasks/mcp-tasks.js';
import type { RequestScope, ToolCallPipeline } from './pipeline/pipeline.js';
import type { BuiltinTools } from './pipeline/builtin-tools.js';
import { authInfoFor } from './server-factory.js';

/** What the pass-through and direct paths need. */
export interface PassThroughDeps {
  readonly pipeline: ToolCallPipeline;
  /** The pass-through target of a tenant's tool, when one serves it (Federation.resolvePassThrough). */
  readonly resolve?: (tenantId: string, name: string) => Promise<ToolTarget | undefined>;
  /** The caller's direct built-in tools (builtin-catalog.ts), when it has any. */
  readonly builtins?: (principal: Principal) => BuiltinTools | undefined;
  /** A new task-policy lookup (tasks/): a tool that runs as a gateway task is not passed through. */
  readonly taskPolicy?: () => TaskPolicyLookup;
  /** Stamped into results as the SDK stamps a server's own. */
  readonly serverInfo: { readonly name: string; readonly version: string };
}

type Body = { id?: unknown; method?: unknown; params?: Record<string, unknown> };

/** No built-ins: a pass-through call's target is an upstream's, resolved before the pipeline runs. */
const NO_BUILTINS: BuiltinTools = { target: () => undefined, validate: async () => undefined };

const header = (request: Request, name: string) => request.headers.get(name) ?? undefined;

/** The call when its body may take a path without the SDK server (the cheap checks), else undefined. */
function callOf(parsed: unknown): { id: string | number; params: ToolCallParams } | undefined {
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const body = parsed as Body;
  const params = body.params;
  if (body.method !== 'tools/call' || (typeof body.id !== 'string' && typeof body.id !== 'number')) return undefined;
  if (!params || typeof params['name'] !== 'string' || 'requestState' in params || 'inputResponses' in params || 'task' in params) return undefined;
  return { id: body.id, params: params as ToolCallParams };
}

/**
 * Whether the request, whose call has a target, may skip the SDK server (see the module comment); `route` is
 * the SDK's classification of it (the endpoint's, made once per request).
 */
function admissible(request: Request, route: InboundClassificationOutcome, params: ToolCallParams): boolean {
  if (route.kind !== 'modern' || route.messageKind !== 'request') return false;
  let paramHeaders = false;
  request.headers.forEach((_value, name) => void (paramHeaders ||= name.startsWith('mcp-param-')));
  if (paramHeaders) return false;
  // The SDK's standard-header rung (not exported): Mcp-Method present, Mcp-Name mirroring params.name. A
  // missing header, a Base64 sentinel or a mismatch goes the SDK's way, which answers it (-32020).
  if (header(request, 'mcp-method') === undefined || header(request, 'mcp-name')?.trim() !== params.name) return false;
  const meta = params._meta as Record<string, unknown> | undefined;
  if (meta?.[PROTOCOL_VERSION_META_KEY] !== '2026-07-28' || header(request, 'mcp-protocol-version') !== '2026-07-28') return false;
  return !declaresExtension({ mcpReq: { envelope: meta } });
}

/** The call's target on a path without the SDK server: a direct built-in first (as the resolve stage orders them), else a pass-through upstream. */
async function targetOf(deps: PassThroughDeps, principal: Principal, name: string): Promise<{ target: ToolTarget; builtins: BuiltinTools } | undefined> {
  const builtins = deps.builtins?.(principal);
  const builtin = builtins?.target(name);
  if (builtin) return { target: builtin, builtins: builtins! };
  const upstream = await deps.resolve?.(principal.tenantId, name);
  return upstream && { target: upstream, builtins: NO_BUILTINS };
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
 * Serves `request` (its body `parsed`, classified as `route`) on the pass-through or the direct path, or
 * resolves undefined when it must go the SDK's way (nothing has been sent then). `kind` says which path answered.
 */
export async function passThrough(
  deps: PassThroughDeps,
  request: Request,
  parsed: unknown,
  route: InboundClassificationOutcome,
  principal: Principal,
  requestId: string | undefined,
): Promise<{ response: Response; kind: 'passed' | 'direct' } | undefined> {
  const call = callOf(parsed);
  if (!call) return undefined;
  const found = await targetOf(deps, principal, call.params.name);
  if (!found || !admissible(request, route, call.params)) return undefined;
  const builtin = found.target.kind === 'builtin';
  const taskPolicy = deps.taskPolicy?.();
  // An upstream's tool that runs as a gateway task goes the SDK's way. A built-in's policy is the task
  // stage's to apply, as on the server path: this caller declared no tasks extension, so an optional task
  // tool runs now and a required one gets -32021.
  if (!builtin && (await taskPolicy?.(principal, call.params.name, false))) return undefined;
  const scope: RequestScope = { builtins: found.builtins, ...(builtin && taskPolicy && { taskPolicy }) };
  const response = await answer(deps, request, call, principal, requestId, found.target, scope);
  return { response, kind: builtin ? 'direct' : 'passed' };
}

/** Runs the call through the pipeline and answers it: JSON, or SSE once a notification comes first. */
function answer(
  deps: PassThroughDeps,
  request: Request,
  call: { id: string | number; params: ToolCallParams },
  principal: Principal,
  requestId: string | undefined,
  target: ToolTarget,
  scope: RequestScope,
): Promise<Response> {
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
      scope,
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
