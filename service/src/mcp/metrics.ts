/**
 * MCP-layer Prometheus metrics on prom-client's default registry (names from contract/index.ts).
 * Metrics are created on first use and reused (both protocol legs import this module), so a second
 * endpoint in the same process (tests run two replicas) never re-registers a name.
 */
import client from 'prom-client';
import { METRICS } from '../../../contract/index.js';

/** MCP methods used as label values; anything else is `other` (bounded cardinality). */
const KNOWN_METHODS = new Set([
  'initialize', 'ping', 'server/discover', 'tools/list', 'tools/call', 'resources/list', 'resources/read',
  'resources/templates/list', 'resources/subscribe', 'resources/unsubscribe', 'prompts/list', 'prompts/get',
  'completion/complete', 'logging/setLevel', 'subscriptions/listen', 'notifications/initialized',
  'notifications/cancelled', 'notifications/progress', 'notifications/roots/list_changed',
  'tasks/get', 'tasks/result', 'tasks/list', 'tasks/cancel', 'tasks/update',
]);

/** Maps a JSON-RPC method (or the shape of a body) to a bounded label value. */
export function methodLabel(method: unknown): string {
  if (typeof method !== 'string') return 'none';
  return KNOWN_METHODS.has(method) ? method : 'other';
}

function getOrCreate<T>(name: string, create: () => T): T {
  return (client.register.getSingleMetric(name) as T | undefined) ?? create();
}

/** Requests by MCP method, protocol era and HTTP status. */
export const mcpRequests = getOrCreate(
  METRICS.mcpRequests,
  () => new client.Counter({ name: METRICS.mcpRequests, help: 'MCP requests by method, era and HTTP status', labelNames: ['method', 'era', 'status'] as const }),
);

/** Time to response headers (for SSE: until the stream opens) by MCP method and era. */
export const mcpDuration = getOrCreate(
  METRICS.mcpDuration,
  () =>
    new client.Histogram({
      name: METRICS.mcpDuration,
      help: 'MCP request latency until the response starts, seconds',
      labelNames: ['method', 'era'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    }),
);

/** SSE streams currently open on this replica (both legs; unlabelled, shared with the legacy leg). */
export const openSseStreams = getOrCreate(
  METRICS.openSseStreams,
  () => new client.Gauge({ name: METRICS.openSseStreams, help: 'Open MCP SSE streams on this process' }),
);
