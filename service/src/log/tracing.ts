/**
 * Tracing for every layer, over the OpenTelemetry API only (docs/tracing.md): span helpers, the W3C trace
 * context carried in HTTP headers, in an MCP request's `params._meta` (SEP-414: the unprefixed keys
 * `traceparent`, `tracestate`) and on task jobs, and the attribute names of the OpenTelemetry MCP semantic
 * conventions. The SDK (exporter, sampler, resource) is started by the process entries through
 * tracing-sdk.ts; until then, and always when no OTLP endpoint is configured, every helper here returns
 * after one boolean check: no span objects, no context switches.
 */
import {
  ROOT_CONTEXT,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanOptions,
  type TextMapGetter,
} from '@opentelemetry/api';

export type { Span } from '@opentelemetry/api';

/** The instrumentation scope of every span the service makes. */
export const TRACER_NAME = 'unified-mcp-platform';

/**
 * Attribute names. The `mcp.*`, `gen_ai.*`, `jsonrpc.*`, `rpc.*` and `messaging.*` keys are the
 * OpenTelemetry semantic conventions' (MCP, messaging; still "development", so copied here as the
 * semantic-conventions package advises, and checked against its incubating entry by the tests); the
 * `unified_mcp.*` keys are this service's own.
 */
export const ATTR = {
  MCP_METHOD_NAME: 'mcp.method.name',
  MCP_SESSION_ID: 'mcp.session.id',
  MCP_PROTOCOL_VERSION: 'mcp.protocol.version',
  MCP_RESOURCE_URI: 'mcp.resource.uri',
  JSONRPC_REQUEST_ID: 'jsonrpc.request.id',
  GEN_AI_TOOL_NAME: 'gen_ai.tool.name',
  GEN_AI_PROMPT_NAME: 'gen_ai.prompt.name',
  GEN_AI_OPERATION_NAME: 'gen_ai.operation.name',
  RPC_RESPONSE_STATUS_CODE: 'rpc.response.status_code',
  ERROR_TYPE: 'error.type',
  NETWORK_TRANSPORT: 'network.transport',
  NETWORK_PROTOCOL_NAME: 'network.protocol.name',
  SERVER_ADDRESS: 'server.address',
  SERVER_PORT: 'server.port',
  MESSAGING_SYSTEM: 'messaging.system',
  MESSAGING_OPERATION_TYPE: 'messaging.operation.type',
  MESSAGING_OPERATION_NAME: 'messaging.operation.name',
  MESSAGING_DESTINATION_NAME: 'messaging.destination.name',
  MESSAGING_MESSAGE_ID: 'messaging.message.id',
  TENANT_ID: 'unified_mcp.tenant.id',
  PIPELINE_STAGE: 'unified_mcp.pipeline.stage',
  UPSTREAM_NAMESPACE: 'unified_mcp.upstream.namespace',
  TASK_ID: 'unified_mcp.task.id',
  TASK_ATTEMPT: 'unified_mcp.task.attempt',
} as const;

let enabled = false;

/** True once tracing-sdk.ts has started an exporting SDK in this process. */
export function tracingEnabled(): boolean {
  return enabled;
}

/** Set by tracing-sdk.ts only. */
export function setTracingEnabled(on: boolean): void {
  enabled = on;
}

const tracer = () => trace.getTracer(TRACER_NAME);

/** `{mcp.method.name} {target}` (MCP semantic conventions), `target` being a tool or prompt name when there is one. */
export function mcpSpanName(method: string, target?: string): string {
  return target ? `${method} ${target}` : method;
}

/** Marks `span` failed by `err`: `error.type` is the error's code (a JSON-RPC code) or class name. */
export function recordError(span: Span, err: unknown): void {
  const code = (err as { code?: unknown } | null)?.code;
  const type = typeof code === 'number' || typeof code === 'string' ? String(code) : err instanceof Error ? err.name : 'Error';
  span.setAttribute(ATTR.ERROR_TYPE, type);
  if (typeof code === 'number') span.setAttribute(ATTR.RPC_RESPONSE_STATUS_CODE, String(code));
  // The message only: a stack or an error's fields could carry an argument value.
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message.slice(0, 500) : String(err).slice(0, 500) });
}

/**
 * Runs `fn` in a new span (active for everything `fn` starts), ended when `fn` settles; a throw marks it
 * failed and is rethrown. With tracing off, `fn` runs as it is (`span` undefined).
 */
export function inSpan<T>(name: string, options: SpanOptions & { parent?: Context }, fn: (span: Span | undefined) => Promise<T>): Promise<T> {
  if (!enabled) return fn(undefined);
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(name, options, parent);
  return context.with(trace.setSpan(parent, span), async () => {
    try {
      return await fn(span);
    } catch (err) {
      recordError(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/**
 * Starts a span (not ended here: `end` it when the work is done, e.g. when a streamed response closes)
 * and runs `fn` with it active. Undefined span with tracing off.
 */
export function withStartedSpan<T>(name: string, options: SpanOptions & { parent?: Context }, fn: (span: Span | undefined) => T): T {
  if (!enabled) return fn(undefined);
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(name, options, parent);
  return context.with(trace.setSpan(parent, span), () => fn(span));
}

/** The span active in the current context, when tracing is on and one is. */
export function activeSpan(): Span | undefined {
  return enabled ? trace.getActiveSpan() : undefined;
}

/** W3C trace context as carried in `_meta`, on task jobs and in headers. */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

const headersGetter: TextMapGetter<Headers> = {
  keys: (h) => {
    const keys: string[] = [];
    h.forEach((_v, k) => keys.push(k));
    return keys;
  },
  get: (h, key) => h.get(key) ?? undefined,
};

const recordGetter: TextMapGetter<Record<string, unknown>> = {
  keys: (r) => Object.keys(r),
  get: (r, key) => (typeof r[key] === 'string' ? (r[key] as string) : undefined),
};

/**
 * The caller's trace context: `params._meta.traceparent` (per MCP message, SEP-414) when present, else the
 * HTTP request's `traceparent` header; the root context when neither is valid. Only with tracing on.
 */
export function callerContext(headers: Headers, meta: Record<string, unknown> | undefined): Context {
  if (!enabled) return ROOT_CONTEXT;
  if (meta && typeof meta['traceparent'] === 'string') {
    const fromMeta = propagation.extract(ROOT_CONTEXT, meta, recordGetter);
    if (trace.getSpanContext(fromMeta)) return fromMeta;
  }
  return propagation.extract(ROOT_CONTEXT, headers, headersGetter);
}

/** The context a carrier (a task job's, a stored one) names; the root context when it names none. */
export function contextOf(carrier: TraceCarrier | undefined): Context {
  if (!enabled || !carrier) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, carrier as Record<string, unknown>, recordGetter);
}

/** The active trace context as a carrier (traceparent, tracestate), or undefined with tracing off or no span. */
export function currentCarrier(): TraceCarrier | undefined {
  if (!enabled || !trace.getActiveSpan()) return undefined;
  const out: Record<string, string> = {};
  propagation.inject(context.active(), out);
  return out['traceparent'] ? { traceparent: out['traceparent'], ...(out['tracestate'] && { tracestate: out['tracestate'] }) } : undefined;
}

/**
 * `_meta` of a request sent upstream with the active trace context in it (`traceparent`, `tracestate`,
 * replacing the caller's: the upstream's span is the gateway's client span's child). Unchanged with tracing off.
 */
export function withTraceMeta<M extends Record<string, unknown> | undefined>(meta: M): M | Record<string, unknown> {
  const carrier = currentCarrier();
  if (!carrier) return meta;
  const { traceparent: _p, tracestate: _s, ...rest } = (meta ?? {}) as Record<string, unknown>;
  return { ...rest, ...carrier };
}

/** `{ _meta: { traceparent, tracestate } }` of the active span, to spread into request params; `{}` with tracing off. */
export function traceMetaParam(): { _meta?: Record<string, unknown> } {
  const carrier = currentCarrier();
  return carrier ? { _meta: { ...carrier } } : {};
}

/** Sets the active trace context's `traceparent` / `tracestate` on outgoing HTTP headers (in place). */
export function injectTraceHeaders(headers: Record<string, string>): void {
  const carrier = currentCarrier();
  if (!carrier) return;
  headers['traceparent'] = carrier.traceparent!;
  if (carrier.tracestate) headers['tracestate'] = carrier.tracestate;
  else delete headers['tracestate'];
}

/** A link to the span a context names (messaging consumers link their producer). */
export function linkTo(ctx: Context, attributes?: Attributes): Link[] {
  const sc = trace.getSpanContext(ctx);
  return sc ? [{ context: sc, ...(attributes && { attributes }) }] : [];
}
