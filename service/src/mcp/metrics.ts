/**
 * MCP-layer Prometheus metrics (names from contract/index.ts) in the gateway's registry (prom-client's
 * default when none is given). A metric another endpoint in the same registry already created is reused,
 * so two replicas in one process (tests) never re-register a name.
 */
import client from 'prom-client';
import { METRICS } from '../../../contract/index.js';

/** MCP methods used as label values; anything else is `other` (bounded cardinality). */
const KNOWN_METHODS = new Set([
  'initialize',
  'ping',
  'server/discover',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/read',
  'resources/templates/list',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'subscriptions/listen',
  'notifications/initialized',
  'notifications/cancelled',
  'notifications/progress',
  'notifications/roots/list_changed',
  'tasks/get',
  'tasks/result',
  'tasks/list',
  'tasks/cancel',
  'tasks/update',
]);

/** Maps a JSON-RPC method (or the shape of a body) to a bounded label value. */
export function methodLabel(method: unknown): string {
  if (typeof method !== 'string') return 'none';
  return KNOWN_METHODS.has(method) ? method : 'other';
}

/** The MCP layer's metrics in one registry. */
export interface McpMetrics {
  /** Requests by MCP method, protocol era and HTTP status. */
  readonly requests: client.Counter<'method' | 'era' | 'status'>;
  /** Time until the response starts (for SSE: until the stream opens), by MCP method and era. */
  readonly duration: client.Histogram<'method' | 'era'>;
  /** SSE streams open on this process (unlabelled; shared with the legacy leg). */
  readonly openSseStreams: client.Gauge;
  /** tools/call requests of 2026-07-28 callers forwarded to a 2026-07-28 upstream as bytes (pass-through). */
  readonly passedThrough: client.Counter;
  readonly direct: client.Counter;
}

/** Registers (or reuses, when another endpoint in this process did) the MCP metrics in `registry`. */
export function mcpMetrics(registry: client.Registry = client.register): McpMetrics {
  const getOrCreate = <T extends client.Metric>(name: string, create: () => T): T => {
    const existing = registry.getSingleMetric(name) as T | undefined;
    if (existing) return existing;
    const metric = create();
    registry.registerMetric(metric);
    return metric;
  };
  return {
    requests: getOrCreate(
      METRICS.mcpRequests,
      () =>
        new client.Counter({
          name: METRICS.mcpRequests,
          help: 'MCP requests by method, era and HTTP status',
          labelNames: ['method', 'era', 'status'] as const,
          registers: [],
        }),
    ),
    duration: getOrCreate(
      METRICS.mcpDuration,
      () =>
        new client.Histogram({
          name: METRICS.mcpDuration,
          help: 'MCP request latency until the response starts, seconds',
          labelNames: ['method', 'era'] as const,
          buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
          registers: [],
        }),
    ),
    openSseStreams: getOrCreate(
      METRICS.openSseStreams,
      () => new client.Gauge({ name: METRICS.openSseStreams, help: 'Open MCP SSE streams on this process', registers: [] }),
    ),
    passedThrough: getOrCreate(
      METRICS.toolCallsPassedThrough,
      () =>
        new client.Counter({
          name: METRICS.toolCallsPassedThrough,
          help: 'tools/call requests forwarded to a 2026-07-28 upstream as bytes (pass-through), not through the SDK',
          registers: [],
        }),
    ),
    direct: getOrCreate(
      METRICS.toolCallsDirect,
      () =>
        new client.Counter({
          name: METRICS.toolCallsDirect,
          help: 'tools/call requests of a built-in tool answered on the direct path (no per-request server; builtin-catalog.ts)',
          registers: [],
        }),
    ),
  };
}
