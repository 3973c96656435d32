import * as k8s from '@pulumi/kubernetes';
import type * as pulumi from '@pulumi/pulumi';
import { HTTP, METRICS } from '../../../contract/index.js';
import { TIER_PORTS } from './types.js';

const METRICS_PATH = HTTP.metricsPath;

/** Where the runbook lives in the repository; every alert links to one of its sections. */
export const RUNBOOK_DOC = 'docs/operations.md';

/**
 * Default base of the alerts' `runbook_url`: a placeholder repository URL (set `alerting.runbookBaseUrl` to
 * where your copy of docs/operations.md is rendered, so the link in a page opens).
 */
export const DEFAULT_RUNBOOK_BASE_URL = `https://github.com/example/unified-mcp/blob/main/${RUNBOOK_DOC}`;

/** GitHub's heading anchor of `heading`: lowercase, punctuation dropped, spaces to dashes. */
export function runbookAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Alert thresholds (stack config `alerting.thresholds`). */
export interface AlertThresholds {
  /** Share of 5xx responses over 5 minutes (probe and scrape routes excluded). @defaultValue 0.05 */
  readonly errorRate?: number;
  /** p99 MCP request latency until the response starts, seconds. @defaultValue 2 */
  readonly p99LatencySeconds?: number;
  /** Age of the oldest waiting job in seconds. @defaultValue 300 */
  readonly queueAgeSeconds?: number;
  /** Dead-letter queue depth. @defaultValue 0 (any job in the DLQ alerts) */
  readonly dlqSize?: number;
  /** Queries waiting for a PostgreSQL connection, averaged over 5 minutes, per pod and pool. @defaultValue 0 */
  readonly poolWaiting?: number;
  /** Replica lag in seconds. @defaultValue 30 */
  readonly replicationLagSeconds?: number;
  /** Limit checks per second whose counters could not be read (5-minute rate). @defaultValue 0 (any) */
  readonly limitCounterErrorsPerSecond?: number;
  /** Label of the HTTP status on the request counter. @defaultValue "status" */
  readonly statusLabel?: string;
}

/** Options of {@link alertRules} besides the thresholds. */
export interface AlertRuleOptions {
  /** Base URL of docs/operations.md; `runbook_url` is `<base>#<alert anchor>`. @defaultValue {@link DEFAULT_RUNBOOK_BASE_URL} */
  readonly runbookBaseUrl?: string;
}

/** One Prometheus alerting rule. */
export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: 'page' | 'ticket' } & Record<string, string>;
  annotations: { summary: string; description: string; runbook_url: string } & Record<string, string>;
}

/**
 * The alert rules (exported for tests and docs). Every expression aggregates `by (namespace)` so the alert
 * keeps the namespace label: the Alertmanager's AlertmanagerConfig matcher strategy (OnNamespace) routes an
 * alert through the namespace's AlertmanagerConfig only when the label is there.
 */
export function alertRules(t: AlertThresholds = {}, o: AlertRuleOptions = {}): AlertRule[] {
  const status = t.statusLabel ?? 'status';
  const base = o.runbookBaseUrl ?? DEFAULT_RUNBOOK_BASE_URL;
  const rule = (alert: string, expr: string, forDuration: string, severity: 'page' | 'ticket', summary: string, description: string): AlertRule => ({
    alert,
    expr,
    for: forDuration,
    labels: { severity },
    annotations: { summary, description, runbook_url: `${base}#${runbookAnchor(alert)}` },
  });
  // Kubelet probes and Prometheus scrapes are not client traffic (a draining pod's /readyz answers 503).
  const clientRoutes = `route!~"${[HTTP.livenessPath, HTTP.readinessPath, HTTP.metricsPath].join('|')}"`;
  return [
    rule(
      'UmcpHighErrorRate',
      `sum by (namespace) (rate(${METRICS.httpRequests}{${status}=~"5..",${clientRoutes}}[5m])) / clamp_min(sum by (namespace) (rate(${METRICS.httpRequests}{${clientRoutes}}[5m])), 1e-9) > ${t.errorRate ?? 0.05}`,
      '5m',
      'page',
      'More than the allowed share of requests fail with 5xx',
      `{{ $value | humanizePercentage }} of requests in {{ $labels.namespace }} answered 5xx over 5 minutes (threshold alerting.thresholds.errorRate = ${t.errorRate ?? 0.05}).`,
    ),
    rule(
      'UmcpHighLatency',
      `histogram_quantile(0.99, sum by (namespace, le) (rate(${METRICS.mcpDuration}_bucket[5m]))) > ${t.p99LatencySeconds ?? 2}`,
      '10m',
      'page',
      'p99 MCP request latency above target',
      `p99 time until an MCP response starts is {{ $value | humanizeDuration }} in {{ $labels.namespace }} (threshold alerting.thresholds.p99LatencySeconds = ${t.p99LatencySeconds ?? 2} s).`,
    ),
    rule(
      'UmcpQueueBacklogOld',
      `max by (namespace) (${METRICS.queueOldestWaitingAge}) > ${t.queueAgeSeconds ?? 300}`,
      '5m',
      'page',
      'Oldest waiting task is too old: workers are not keeping up',
      `The oldest waiting task job has waited {{ $value | humanizeDuration }} (threshold alerting.thresholds.queueAgeSeconds = ${t.queueAgeSeconds ?? 300} s).`,
    ),
    rule(
      'UmcpDeadLetters',
      `max by (namespace) (${METRICS.dlqSize}) > ${t.dlqSize ?? 0}`,
      '15m',
      'ticket',
      'Jobs in the dead-letter queue; inspect and replay',
      `{{ $value }} task jobs are in the dead-letter queue (threshold alerting.thresholds.dlqSize = ${t.dlqSize ?? 0}).`,
    ),
    rule(
      'UmcpPgPoolSaturated',
      `max by (namespace, pod, shard, role) (avg_over_time(${METRICS.pgPoolWaiting}[5m])) > ${t.poolWaiting ?? 0}`,
      '10m',
      'ticket',
      'Queries wait for a PostgreSQL connection: the pool is exhausted',
      `{{ $labels.pod }} ({{ $labels.shard }}/{{ $labels.role }}): on average {{ $value | printf "%.1f" }} queries waited for a connection over 5 minutes (threshold alerting.thresholds.poolWaiting = ${t.poolWaiting ?? 0}).`,
    ),
    rule(
      'UmcpReplicationLag',
      `max by (namespace) (${METRICS.replicationLag}) > ${t.replicationLagSeconds ?? 30}`,
      '5m',
      'page',
      'Read replicas lag behind the writer',
      `The most lagging read replica is {{ $value | humanizeDuration }} behind (threshold alerting.thresholds.replicationLagSeconds = ${t.replicationLagSeconds ?? 30} s).`,
    ),
    rule(
      'UmcpLimitCountersUnavailable',
      `sum by (namespace) (rate(${METRICS.limitCounterErrors}[5m])) > ${t.limitCounterErrorsPerSecond ?? 0}`,
      '5m',
      'page',
      'Tenant limits cannot read their counters: rates are not enforced, quotas refuse calls',
      `{{ $value | printf "%.2f" }} limit checks per second could not read their Redis counters over 5 minutes (threshold alerting.thresholds.limitCounterErrorsPerSecond = ${t.limitCounterErrorsPerSecond ?? 0}).`,
    ),
  ];
}

/** PrometheusRule (Prometheus operator CRD) with the platform alerts. */
export function prometheusRule(
  name: string,
  namespace: pulumi.Input<string>,
  t: AlertThresholds,
  opts: pulumi.CustomResourceOptions,
  o: AlertRuleOptions = {},
): k8s.apiextensions.CustomResource {
  return new k8s.apiextensions.CustomResource(
    `${name}-alerts`,
    {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: { name: 'umcp-alerts', namespace, labels: { 'app.kubernetes.io/part-of': 'unified-mcp', role: 'alert-rules' } },
      spec: { groups: [{ name: 'unified-mcp', rules: alertRules(t, o) }] },
    },
    opts,
  );
}

/** PodMonitor so the Prometheus operator scrapes both tiers' /metrics. */
export function podMonitor(name: string, namespace: pulumi.Input<string>, opts: pulumi.CustomResourceOptions): k8s.apiextensions.CustomResource {
  return new k8s.apiextensions.CustomResource(
    `${name}-pod-monitor`,
    {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PodMonitor',
      metadata: { name: 'umcp', namespace, labels: { 'app.kubernetes.io/part-of': 'unified-mcp' } },
      spec: {
        selector: { matchLabels: { 'app.kubernetes.io/part-of': 'unified-mcp' } },
        // One endpoint per tier's port name: a pod yields a target only for a port it declares (gateway `http`,
        // worker `metrics`), so each tier is scraped once, on the port that serves its /metrics.
        podMetricsEndpoints: [...new Set(Object.values(TIER_PORTS).map((p) => p.name))].map((port) => ({ port, path: METRICS_PATH, interval: '15s' })),
      },
    },
    opts,
  );
}
