import { METRICS } from '../../../contract/index.js';

/**
 * Per-pod request rate the gateway HPA scales on. prometheus-adapter derives it from the contract's
 * request counter (`<counter>_total` → `<counter>_per_second`, a 2-minute rate), see cluster/addons.ts.
 */
export const REQUESTS_PER_SECOND_METRIC = METRICS.httpRequests.replace(/_total$/, '_per_second');
