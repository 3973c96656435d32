/**
 * The client span of one upstream call (docs/tracing.md), per the OpenTelemetry MCP semantic conventions:
 * `tools/call {tool}`, `prompts/get {prompt}` or `resources/read`, kind CLIENT, with the upstream's tool or
 * prompt name (or the resource URI), address and namespace and the tenant; never an argument value. While it runs, the upstream's HTTP requests carry its context in the
 * `traceparent` header (dispatcher-fetch.ts) and the call's `params._meta` (SEP-414), so the upstream's
 * own server span is its child. With tracing off, `fn` runs as it is.
 */
import { SpanKind, type Attributes } from '@opentelemetry/api';
import { ATTR, inSpan, mcpSpanName, tracingEnabled } from '../log/tracing.js';
import type { ResolvedUpstream } from './upstream-config.js';

/** Runs `fn` (the upstream call of tool `name`) in its client span. */
export function inUpstreamCallSpan<T>(up: ResolvedUpstream, name: string, fn: () => Promise<T>): Promise<T> {
  return inUpstreamSpan(up, 'tools/call', { [ATTR.GEN_AI_TOOL_NAME]: name, [ATTR.GEN_AI_OPERATION_NAME]: 'execute_tool' }, name, fn);
}

/** `prompts/get {prompt}` to an upstream, in its client span. */
export function inUpstreamPromptSpan<T>(up: ResolvedUpstream, name: string, fn: () => Promise<T>): Promise<T> {
  return inUpstreamSpan(up, 'prompts/get', { [ATTR.GEN_AI_PROMPT_NAME]: name }, name, fn);
}

/** `resources/read` to an upstream (the URI an attribute, not in the name: unbounded cardinality), in its client span. */
export function inUpstreamReadSpan<T>(up: ResolvedUpstream, uri: string, fn: () => Promise<T>): Promise<T> {
  return inUpstreamSpan(up, 'resources/read', { [ATTR.MCP_RESOURCE_URI]: uri }, undefined, fn);
}

function inUpstreamSpan<T>(up: ResolvedUpstream, method: string, own: Attributes, target: string | undefined, fn: () => Promise<T>): Promise<T> {
  if (!tracingEnabled()) return fn();
  let address: URL | undefined;
  try {
    address = new URL(up.url);
  } catch {
    address = undefined;
  }
  const port = address ? Number(address.port || (address.protocol === 'https:' ? 443 : 80)) : undefined;
  return inSpan(
    mcpSpanName(method, target),
    {
      kind: SpanKind.CLIENT,
      attributes: {
        [ATTR.MCP_METHOD_NAME]: method,
        ...own,
        [ATTR.UPSTREAM_NAMESPACE]: up.namespace,
        [ATTR.TENANT_ID]: up.tenantId,
        [ATTR.NETWORK_TRANSPORT]: 'tcp',
        [ATTR.NETWORK_PROTOCOL_NAME]: 'http',
        ...(address && { [ATTR.SERVER_ADDRESS]: address.hostname }),
        ...(port && { [ATTR.SERVER_PORT]: port }),
      },
    },
    fn,
  );
}
