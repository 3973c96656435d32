/**
 * Counters of per-user upstream credentials, by outcome (bounded label values): consent rounds finished
 * (`connected`, or the ConsentError code: `access_denied`, `used_state`, `expired_state`, ...), refreshes
 * (`ok`, `failed`) and RFC 8693 exchanges (`ok`, `failed`).
 */
import { Counter, type Registry } from 'prom-client';
import { METRICS } from '../../../../contract/index.js';

/** Where the per-user credential code reports outcomes. */
export interface UserOAuthMetrics {
  consent(outcome: string): void;
  refresh(outcome: 'ok' | 'failed'): void;
  exchange(outcome: 'ok' | 'failed'): void;
}

/** Outcomes nobody counts (workers, tests without a registry). */
export const NO_METRICS: UserOAuthMetrics = { consent: () => undefined, refresh: () => undefined, exchange: () => undefined };

/** Counters registered on `registry`. */
export function userOAuthMetrics(registry: Registry): UserOAuthMetrics {
  const counter = (name: string, help: string) => new Counter({ name, help, labelNames: ['outcome'], registers: [registry] });
  const consents = counter(METRICS.upstreamUserConsents, 'Per-user upstream consent rounds ended, by outcome (connected or the error code)');
  const refreshes = counter(METRICS.upstreamUserTokenRefreshes, "Refreshes of users' upstream tokens, by outcome");
  const exchanges = counter(METRICS.upstreamTokenExchanges, 'RFC 8693 token exchanges for upstreams, by outcome');
  return {
    consent: (outcome) => consents.inc({ outcome }),
    refresh: (outcome) => refreshes.inc({ outcome }),
    exchange: (outcome) => exchanges.inc({ outcome }),
  };
}
