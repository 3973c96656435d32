/**
 * HTTP metrics (prom-client) on a per-gateway Registry: requests and latency by route, method and status,
 * plus the default process metrics. The MCP layer registers its per-method metrics on the same registry.
 */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { METRICS } from '../../../contract/index.js';

/** What the HTTP server records per request. */
export interface HttpMetrics {
  readonly registry: Registry;
  observe(route: string, method: string, status: number, seconds: number): void;
}

/** Creates the registry's HTTP metrics; `defaultMetrics` adds process CPU/memory/event-loop metrics. */
export function createHttpMetrics(registry: Registry = new Registry(), opts: { defaultMetrics?: boolean } = {}): HttpMetrics {
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: METRICS.httpRequests,
    help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: METRICS.httpDuration,
    help: 'HTTP request duration (until the response ends; SSE streams count their whole life) in seconds',
    labelNames: ['route', 'method', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  return {
    registry,
    observe(route, method, status, seconds) {
      const labels = { route, method, status: String(status) };
      requests.inc(labels);
      duration.observe(labels, seconds);
    },
  };
}
