import * as k8s from '@pulumi/kubernetes';
import type * as pulumi from '@pulumi/pulumi';
import { HTTP, METRICS } from '../../../contract/index.js';

const METRICS_PATH = HTTP.metricsPath;

/** Alert thresholds. */
export interface AlertThresholds {
  /** Share of 5xx responses over 5 minutes. @defaultValue 0.05 */
  readonly errorRate?: number;
  /** p99 request latency in seconds. @defaultValue 2 */
  readonly p99LatencySeconds?: number;
  /** Age of the oldest waiting job in seconds. @defaultValue 300 */
  readonly queueAgeSeconds?: number;
  /** Dead-letter queue depth. @defaultValue 0 (any job in the DLQ alerts) */
  readonly dlqSize?: number;
  /** Share of the PostgreSQL pool in use. @defaultValue 0.9 */
  readonly poolSaturation?: number;
  /** Replica lag in seconds. @defaultValue 30 */
  readonly replicationLagSeconds?: number;
  /** Label of the HTTP status on the request counter. @defaultValue "status" */
  readonly statusLabel?: string;
}

/** The alert rules (exported for tests and docs). */
export function alertRules(t: AlertThresholds = {}): Array<{ alert: string; expr: string; for: string; labels: Record<string, string>; annotations: Record<string, string> }> {
  const status = t.statusLabel ?? 'status';
  const rule = (alert: string, expr: string, forDuration: string, severity: 'page' | 'ticket', summary: string) =>
    ({ alert, expr, for: forDuration, labels: { severity }, annotations: { summary, runbook: `docs/operations.md#${alert.toLowerCase()}` } });
  return [
    rule('UmcpHighErrorRate',
      `sum(rate(${METRICS.httpRequests}{${status}=~"5.."}[5m])) / clamp_min(sum(rate(${METRICS.httpRequests}[5m])), 1e-9) > ${t.errorRate ?? 0.05}`,
      '5m', 'page', 'More than the allowed share of requests fail with 5xx'),
    rule('UmcpHighLatency',
      `histogram_quantile(0.99, sum by (le) (rate(${METRICS.httpDuration}_bucket[5m]))) > ${t.p99LatencySeconds ?? 2}`,
      '10m', 'page', 'p99 request latency above target'),
    rule('UmcpQueueBacklogOld', `max(${METRICS.queueOldestWaitingAge}) > ${t.queueAgeSeconds ?? 300}`,
      '5m', 'page', 'Oldest waiting task is too old: workers are not keeping up'),
    rule('UmcpDeadLetters', `max(${METRICS.dlqSize}) > ${t.dlqSize ?? 0}`,
      '15m', 'ticket', 'Jobs in the dead-letter queue; inspect and replay'),
    rule('UmcpPgPoolSaturated',
      `max by (pod) ((${METRICS.pgPoolTotal} - ${METRICS.pgPoolIdle}) / clamp_min(${METRICS.pgPoolTotal}, 1)) > ${t.poolSaturation ?? 0.9} or max by (pod) (${METRICS.pgPoolWaiting}) > 0`,
      '10m', 'ticket', 'PostgreSQL pool nearly exhausted or requests waiting for a connection'),
    rule('UmcpReplicationLag', `max(${METRICS.replicationLag}) > ${t.replicationLagSeconds ?? 30}`,
      '5m', 'page', 'Read replicas lag behind the writer'),
  ];
}

/** PrometheusRule (Prometheus operator CRD) with the platform alerts. */
export function prometheusRule(name: string, namespace: pulumi.Input<string>, t: AlertThresholds, opts: pulumi.CustomResourceOptions): k8s.apiextensions.CustomResource {
  return new k8s.apiextensions.CustomResource(`${name}-alerts`, {
    apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule',
    metadata: { name: 'umcp-alerts', namespace, labels: { 'app.kubernetes.io/part-of': 'unified-mcp', role: 'alert-rules' } },
    spec: { groups: [{ name: 'unified-mcp', rules: alertRules(t) }] },
  }, opts);
}

/** PodMonitor so the Prometheus operator scrapes both tiers' /metrics. */
export function podMonitor(name: string, namespace: pulumi.Input<string>, opts: pulumi.CustomResourceOptions): k8s.apiextensions.CustomResource {
  return new k8s.apiextensions.CustomResource(`${name}-pod-monitor`, {
    apiVersion: 'monitoring.coreos.com/v1', kind: 'PodMonitor',
    metadata: { name: 'umcp', namespace, labels: { 'app.kubernetes.io/part-of': 'unified-mcp' } },
    spec: {
      selector: { matchLabels: { 'app.kubernetes.io/part-of': 'unified-mcp' } },
      podMetricsEndpoints: [{ port: 'http', path: METRICS_PATH, interval: '15s' }],
    },
  }, opts);
}
