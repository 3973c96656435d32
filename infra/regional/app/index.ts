export { App, checkAppArgs, type AppArgs } from './app.js';
export { alertRules, type AlertThresholds } from './alerts.js';
export { QUEUE_WAIT_LIST } from './autoscaling.js';
export { REQUESTS_PER_SECOND_METRIC } from './metric-names.js';
export { DEFAULT_REQUESTS, resolveTier, type TierArgs, type ResourceRequests } from './types.js';
