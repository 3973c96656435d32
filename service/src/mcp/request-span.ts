/**
 * The server span of one MCP request (docs/tracing.md), per the OpenTelemetry MCP semantic conventions:
 * named `{mcp.method.name} {target}` (the tool or prompt name), kind SERVER, a child of the caller's trace
 * context (`params._meta.traceparent`, else the `traceparent` header), with the method, tool/prompt name,
 * resource URI, JSON-RPC id, session id, protocol version, network attributes and the tenant. Never an
 * argument value. It stays active while the request is served (the pipeline's stage spans and upstream
 * client spans are its children) and ends when the response has been sent: at once for JSON, when the
 * stream closes for SSE (a `subscriptions/listen` stream: once established).
 */
import { SpanKind, type Attributes } from '@opentelemetry/api';
import type { Principal } from '../domain/principal.js';
import { ATTR, callerContext, mcpSpanName, tracingEnabled, withStartedSpan, type Span } from '../log/tracing.js';

const PROTOCOL_VERSION_META = 'io.modelcontextprotocol/protocolVersion';

type Message = { method?: unknown; id?: unknown; params?: { name?: unknown; uri?: unknown; _meta?: unknown } };

/** The single JSON-RPC request or notification a POST carries; undefined for a batch, a response, or no JSON. */
export function tracedMessage(parsed: unknown): (Message & { method: string }) | undefined {
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const m = parsed as Message;
  return typeof m.method === 'string' ? (m as Message & { method: string }) : undefined;
}

function attributesOf(request: Request, message: Message & { method: string }, principal: Principal): { name: string; attributes: Attributes } {
  const params = message.params && typeof message.params === 'object' ? message.params : {};
  const meta = params._meta && typeof params._meta === 'object' ? (params._meta as Record<string, unknown>) : undefined;
  const target = typeof params.name === 'string' && (message.method === 'tools/call' || message.method === 'prompts/get') ? params.name : undefined;
  const url = new URL(request.url);
  const version = request.headers.get('mcp-protocol-version') ?? (typeof meta?.[PROTOCOL_VERSION_META] === 'string' ? meta[PROTOCOL_VERSION_META] : undefined);
  const session = request.headers.get('mcp-session-id');
  const attributes: Attributes = {
    [ATTR.MCP_METHOD_NAME]: message.method,
    [ATTR.TENANT_ID]: principal.tenantId,
    [ATTR.NETWORK_TRANSPORT]: 'tcp',
    [ATTR.NETWORK_PROTOCOL_NAME]: 'http',
    [ATTR.SERVER_ADDRESS]: url.hostname,
    ...(url.port && { [ATTR.SERVER_PORT]: Number(url.port) }),
    ...((typeof message.id === 'string' || typeof message.id === 'number') && { [ATTR.JSONRPC_REQUEST_ID]: String(message.id) }),
    ...(version && { [ATTR.MCP_PROTOCOL_VERSION]: version }),
    ...(session && { [ATTR.MCP_SESSION_ID]: session }),
  };
  if (message.method === 'tools/call' && target) {
    attributes[ATTR.GEN_AI_TOOL_NAME] = target;
    attributes[ATTR.GEN_AI_OPERATION_NAME] = 'execute_tool';
  }
  if (message.method === 'prompts/get' && target) attributes[ATTR.GEN_AI_PROMPT_NAME] = target;
  if (typeof params.uri === 'string' && message.method.startsWith('resources/')) attributes[ATTR.MCP_RESOURCE_URI] = params.uri;
  return { name: mcpSpanName(message.method, target), attributes };
}

/**
 * Ends `span` once `response` has been sent (its body read to the end or cancelled); a listen stream's
 * span ends when the stream is established (it stays open for as long as the client listens).
 */
function endAfter(span: Span, response: Response, method: string): Response {
  if (response.status >= 400) span.setAttribute(ATTR.ERROR_TYPE, String(response.status));
  if (!response.body || method === 'subscriptions/listen' || !response.headers.get('content-type')?.includes('text/event-stream')) {
    span.end();
    return response;
  }
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    span.end();
  };
  const body = response.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ flush: end, cancel: end } as Transformer<Uint8Array, Uint8Array>));
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/**
 * Serves `message` inside its server span (see the file comment); `serve` as it is for what is not one
 * request (GET, DELETE, batches, responses) or with tracing off (no span).
 */
export async function withRequestSpan(request: Request, parsed: unknown, principal: Principal, serve: () => Promise<Response>): Promise<Response> {
  const message = tracingEnabled() ? tracedMessage(parsed) : undefined;
  if (!message) return serve();
  const meta = message.params?._meta && typeof message.params._meta === 'object' ? (message.params._meta as Record<string, unknown>) : undefined;
  const parent = callerContext(request.headers, meta);
  const { name, attributes } = attributesOf(request, message, principal);
  return withStartedSpan(name, { kind: SpanKind.SERVER, attributes, parent }, async (span) => {
    if (!span) return serve();
    let response: Response;
    try {
      response = await serve();
    } catch (err) {
      span.setAttribute(ATTR.ERROR_TYPE, err instanceof Error ? err.name : 'Error');
      span.end();
      throw err;
    }
    return endAfter(span, response, message.method);
  });
}
