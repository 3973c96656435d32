export { App, checkAppArgs, type AppArgs } from './app.js';
export { alertRules, runbookAnchor, DEFAULT_RUNBOOK_BASE_URL, RUNBOOK_DOC, type AlertRule, type AlertThresholds } from './alerts.js';
export { QUEUE_WAIT_LIST, type BrokerQueueTrigger } from './autoscaling.js';
export { REQUESTS_PER_SECOND_METRIC } from './metric-names.js';
export { DEFAULT_REQUESTS, TIER_PORTS, resolveTier, type TierArgs, type ResourceRequests } from './types.js';
export {
  ALERTMANAGER_CONFIG_LABELS,
  ALERT_WEBHOOK_SECRET,
  RECEIVER_NAMES,
  alertmanagerConfigSpec,
  checkAlertReceivers,
  type AlertReceivers,
  type ReceiverKind,
} from './alert-routing.js';
