/**
 * The legacy leg's gauges (names from contract/index.ts): active sessions across the deployment (counted in
 * Redis at scrape time) and SSE streams open on this process. Reuses a metric another module registered
 * under the same name, so several handlers (tests run two replicas in one process) share one registry.
 */
import { Gauge, register as defaultRegistry, type Registry } from 'prom-client';
import { METRICS } from '../../../../contract/index.js';

/** The gauges one handler updates. */
export interface LegacyMetrics {
  readonly openStreams: Gauge;
}

/** Registers (or reuses) the gauges; `countActive` is read at scrape time. */
export function legacyMetrics(countActive: () => Promise<number>, registry: Registry = defaultRegistry): LegacyMetrics {
  if (!registry.getSingleMetric(METRICS.activeSessions)) {
    registry.registerMetric(
      new Gauge({
        name: METRICS.activeSessions,
        help: 'Active 2025-era MCP sessions (all replicas)',
        registers: [],
        async collect() {
          this.set(await countActive());
        },
      }),
    );
  }
  let openStreams = registry.getSingleMetric(METRICS.openSseStreams) as Gauge | undefined;
  if (!openStreams) {
    openStreams = new Gauge({ name: METRICS.openSseStreams, help: 'Open MCP SSE streams on this process', registers: [] });
    registry.registerMetric(openStreams);
  }
  return { openStreams };
}
