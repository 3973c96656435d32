/**
 * Alert delivery inside the cluster: an AlertmanagerConfig (Prometheus operator CRD, v1alpha1) in the app
 * namespace that routes the platform's alerts by severity (`page`, `ticket`) to the receivers the stack
 * configures: an SNS topic (Alertmanager's sns_configs, signed with SigV4 by the Alertmanager pod's own AWS
 * identity) and/or a webhook whose URL lives only in a Kubernetes Secret. Cloud-neutral on purpose: the SNS
 * topic, its key and the Alertmanager's IAM role are made by the AWS side (infra/regional/alerting/).
 *
 * The Alertmanager must select this object: kube-prometheus-stack values in
 * infra/regional/cluster/addons.ts on EKS; on an existing cluster see docs/operations.md (Alert routing).
 */
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';

/** Labels of the AlertmanagerConfig; the Alertmanager's `alertmanagerConfigSelector` matches them. */
export const ALERTMANAGER_CONFIG_LABELS = { 'unified-mcp/alertmanager-config': 'true' } as const;

/** Name of the Secret holding the webhook URL, and its key. */
export const ALERT_WEBHOOK_SECRET = { name: 'umcp-alert-webhook', key: 'url' } as const;

/** A receiver integration the routes can name. */
export type ReceiverKind = 'sns' | 'webhook';

/** Where alerts go. At least one of `sns` and `webhookUrl` for any notification to leave the cluster. */
export interface AlertReceivers {
  /** SNS topic Alertmanager publishes to (SigV4 with the pod's ambient AWS credentials). @defaultValue none */
  readonly sns?: {
    readonly topicArn: pulumi.Input<string>;
    /** Region of the topic (SigV4 signing region). */
    readonly region: string;
  };
  /** Webhook URL (a secret: it usually embeds a token); stored only in a Secret. @defaultValue none */
  readonly webhookUrl?: pulumi.Input<string>;
  /** Receivers of `severity=page` alerts. @defaultValue every configured receiver */
  readonly page?: readonly ReceiverKind[];
  /** Receivers of `severity=ticket` alerts. @defaultValue every configured receiver */
  readonly ticket?: readonly ReceiverKind[];
  /** How long a firing page repeats. @defaultValue "1h" */
  readonly pageRepeatInterval?: string;
  /** How long a firing ticket repeats. @defaultValue "12h" */
  readonly ticketRepeatInterval?: string;
}

/** Rejects contradictory receivers; returns the message or undefined. */
export function checkAlertReceivers(r: AlertReceivers): string | undefined {
  const configured = configuredKinds(r);
  for (const severity of ['page', 'ticket'] as const) {
    for (const kind of r[severity] ?? []) {
      if (!configured.includes(kind)) return `alerting.${severity} names "${kind}", which is not configured (configured: ${configured.join(', ') || 'none'})`;
    }
  }
  for (const d of [r.pageRepeatInterval, r.ticketRepeatInterval]) {
    if (d !== undefined && !/^\d+[smh]$/.test(d)) return `repeat interval "${d}" is not a duration such as "1h"`;
  }
  return undefined;
}

function configuredKinds(r: AlertReceivers): ReceiverKind[] {
  return [...(r.sns ? ['sns' as const] : []), ...(r.webhookUrl !== undefined ? ['webhook' as const] : [])];
}

/** The receiver names the AlertmanagerConfig defines (namespaced by the operator as `<ns>/<config>/<name>`). */
export const RECEIVER_NAMES = { page: 'umcp-page', ticket: 'umcp-ticket' } as const;

/**
 * The AlertmanagerConfig spec: one receiver per severity holding the integrations that severity goes to,
 * a root route to the page receiver (an alert without a known severity is not lost) with child routes per
 * severity. The operator adds the `namespace="<this namespace>"` matcher to the first-level route.
 */
export function alertmanagerConfigSpec(r: AlertReceivers): Record<string, unknown> {
  const configured = configuredKinds(r);
  const integrations = (kinds: readonly ReceiverKind[], severity: 'page' | 'ticket') => ({
    ...(kinds.includes('sns') && r.sns
      ? {
          snsConfigs: [
            {
              sendResolved: true,
              topicARN: r.sns.topicArn,
              // No keys: SigV4 signs with the Alertmanager pod's credentials (EKS Pod Identity), region of the topic.
              sigv4: { region: r.sns.region },
              // SNS limits an email subject to 100 ASCII characters; alert names are short.
              subject: `[${severity.toUpperCase()}] {{ .Status | toUpper }} {{ .GroupLabels.alertname }} ({{ .CommonLabels.namespace }})`,
              attributes: { severity },
            },
          ],
        }
      : {}),
    ...(kinds.includes('webhook') && r.webhookUrl !== undefined
      ? {
          webhookConfigs: [
            {
              sendResolved: true,
              urlSecret: { name: ALERT_WEBHOOK_SECRET.name, key: ALERT_WEBHOOK_SECRET.key },
            },
          ],
        }
      : {}),
  });
  return {
    route: {
      receiver: RECEIVER_NAMES.page,
      groupBy: ['alertname'],
      groupWait: '30s',
      groupInterval: '5m',
      repeatInterval: r.pageRepeatInterval ?? '1h',
      routes: [
        { receiver: RECEIVER_NAMES.page, matchers: [{ name: 'severity', value: 'page', matchType: '=' }], repeatInterval: r.pageRepeatInterval ?? '1h' },
        { receiver: RECEIVER_NAMES.ticket, matchers: [{ name: 'severity', value: 'ticket', matchType: '=' }], repeatInterval: r.ticketRepeatInterval ?? '12h' },
      ],
    },
    receivers: [
      { name: RECEIVER_NAMES.page, ...integrations(r.page ?? configured, 'page') },
      { name: RECEIVER_NAMES.ticket, ...integrations(r.ticket ?? configured, 'ticket') },
    ],
  };
}

/**
 * Creates the webhook Secret (when a webhook is configured) and the AlertmanagerConfig. Returns undefined
 * when no receiver is configured (nothing to route to: the chart's default route keeps the alerts).
 */
export function alertmanagerConfig(
  name: string,
  namespace: pulumi.Input<string>,
  r: AlertReceivers,
  opts: pulumi.CustomResourceOptions,
): k8s.apiextensions.CustomResource | undefined {
  if (configuredKinds(r).length === 0) return undefined;
  const labels = { 'app.kubernetes.io/part-of': 'unified-mcp' };
  const dependsOn: pulumi.Resource[] = [];
  if (r.webhookUrl !== undefined) {
    dependsOn.push(
      new k8s.core.v1.Secret(
        `${name}-alert-webhook`,
        {
          metadata: { name: ALERT_WEBHOOK_SECRET.name, namespace, labels },
          type: 'Opaque',
          stringData: { [ALERT_WEBHOOK_SECRET.key]: pulumi.secret(r.webhookUrl) },
        },
        opts,
      ),
    );
  }
  return new k8s.apiextensions.CustomResource(
    `${name}-alertmanager-config`,
    {
      apiVersion: 'monitoring.coreos.com/v1alpha1',
      kind: 'AlertmanagerConfig',
      metadata: { name: 'umcp-alert-routing', namespace, labels: { ...labels, ...ALERTMANAGER_CONFIG_LABELS } },
      spec: alertmanagerConfigSpec(r),
    },
    { ...opts, dependsOn: [...toArray(opts.dependsOn), ...dependsOn] },
  );
}

function toArray(d: pulumi.CustomResourceOptions['dependsOn']): pulumi.Input<pulumi.Resource>[] {
  if (d === undefined) return [];
  return Array.isArray(d) ? d : [d as pulumi.Input<pulumi.Resource>];
}
