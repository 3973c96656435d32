import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { createHash } from 'node:crypto';
import { alertmanagerConfig, checkAlertReceivers, type AlertReceivers } from './alert-routing.js';
import { prometheusRule, podMonitor, type AlertThresholds } from './alerts.js';
import { gatewayHpa, scheduledScaleDown, workerScaledObject, type BrokerQueueTrigger, type GatewayScaling, type ScaleDownSchedule } from './autoscaling.js';
import { networkPolicies } from './network-policies.js';
import { resolveTier, tierLabels, type ResolvedTier, type TierArgs } from './types.js';
import { deployment, disruptionBudget, gatewayIngress, type IngressArgs, type WorkloadContext } from './workloads.js';

/**
 * Arguments of {@link App}. Cloud-neutral on purpose: a Kubernetes provider, images, connection strings
 * and a few names; nothing here knows which cloud the cluster or the data services run in.
 */
export interface AppArgs {
  /** Provider of the target cluster (EKS from this stack, or any cluster from a kubeconfig). */
  readonly provider: k8s.Provider;
  /** @defaultValue "umcp" */
  readonly namespace?: string;
  readonly gateway: TierArgs;
  readonly worker: TierArgs;
  /** Non-secret environment (ConfigMap), e.g. REGION, PUBLIC_URL. @defaultValue {} */
  readonly env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Secret environment (Secret), e.g. DATABASE_URL, REDIS_URL; must include REDIS_PASSWORD for KEDA. */
  readonly secretEnv: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** State Redis `host:port` for the KEDA queue trigger. */
  readonly queueRedisAddress: pulumi.Input<string>;
  /** The broker queue KEDA measures instead (`queue.backend` rabbitmq or sqs). @defaultValue the BullMQ wait list */
  readonly queueTrigger?: BrokerQueueTrigger;
  readonly ingress: IngressArgs;
  /** CIDRs of the databases and caches (NetworkPolicy egress). */
  readonly dataCidrs: string[];
  /** CIDRs the load balancer reaches pods from. @defaultValue [] */
  readonly ingressSourceCidrs?: string[];
  /** Off-hours scale-down (non-prod). @defaultValue none */
  readonly scheduledScaleDown?: ScaleDownSchedule;
  readonly gatewayScaling?: GatewayScaling;
  readonly alerts?: AlertThresholds;
  /** Base URL of docs/operations.md for the alerts' `runbook_url`. @defaultValue DEFAULT_RUNBOOK_BASE_URL (alerts.ts) */
  readonly runbookBaseUrl?: string;
  /** Alertmanager receivers (AlertmanagerConfig in the namespace). @defaultValue none: no AlertmanagerConfig */
  readonly alertReceivers?: AlertReceivers;
}

/** Rejects contradictory args; returns the message or undefined. */
export function checkAppArgs(args: AppArgs): string | undefined {
  for (const [tier, t] of [
    ['gateway', args.gateway],
    ['worker', args.worker],
  ] as const) {
    const r = resolveTier(t);
    if (r.minReplicas > r.maxReplicas) return `${tier}: minReplicas ${r.minReplicas} exceeds maxReplicas ${r.maxReplicas}`;
  }
  if (args.ingress.ingressClassName && args.ingress.ingressClassName !== 'alb' && args.ingress.certificateArn) {
    return `certificateArn is an ALB setting but ingressClassName is "${args.ingress.ingressClassName}"`;
  }
  if (args.scheduledScaleDown && args.scheduledScaleDown.down === args.scheduledScaleDown.up) {
    return 'scheduledScaleDown: down and up schedules are identical';
  }
  if (args.alertReceivers) return checkAlertReceivers(args.alertReceivers);
  return undefined;
}

/**
 * The workloads: namespace, service accounts, config and Secret, gateway and worker Deployments with
 * PDBs, Service + Ingress, HPA (CPU + requests/s), KEDA ScaledObject on the BullMQ wait list, optional
 * off-hours scale-down, default-deny NetworkPolicies with the needed allows, PodMonitor, alerts and their
 * routing to the configured receivers (AlertmanagerConfig).
 */
export class App extends pulumi.ComponentResource {
  readonly namespace: pulumi.Output<string>;
  /** Load balancer hostname from the Ingress status. */
  readonly ingressHostname: pulumi.Output<string>;
  readonly gateway: ResolvedTier;
  readonly worker: ResolvedTier;

  constructor(name: string, args: AppArgs, opts?: pulumi.ComponentResourceOptions) {
    super('unified-mcp:app:App', name, {}, opts);
    const problem = checkAppArgs(args);
    if (problem) throw new pulumi.ResourceError(problem, this);
    const k = { parent: this, provider: args.provider };
    this.gateway = resolveTier(args.gateway);
    this.worker = resolveTier(args.worker);

    const ns = new k8s.core.v1.Namespace(
      `${name}-ns`,
      {
        metadata: {
          name: args.namespace ?? 'umcp',
          labels: { 'app.kubernetes.io/part-of': 'unified-mcp', 'pod-security.kubernetes.io/enforce': 'restricted' },
        },
      },
      k,
    );
    const namespace = ns.metadata.name;
    const inNs = { ...k, dependsOn: [ns] };

    const config = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      {
        metadata: { name: 'umcp-config', namespace, labels: { 'app.kubernetes.io/part-of': 'unified-mcp' } },
        data: args.env ?? {},
      },
      inNs,
    );
    const secret = new k8s.core.v1.Secret(
      `${name}-secret`,
      {
        metadata: { name: 'umcp-secrets', namespace, labels: { 'app.kubernetes.io/part-of': 'unified-mcp' } },
        type: 'Opaque',
        stringData: pulumi.secret(args.secretEnv),
      },
      inNs,
    );
    // Roll the pods when config or secrets change; only a hash of the values reaches the pod template.
    const configHash = pulumi.all([pulumi.output(args.env ?? {}), pulumi.unsecret(pulumi.output(args.secretEnv))]).apply(([env, sec]) =>
      createHash('sha256')
        .update(JSON.stringify([env, sec]))
        .digest('hex')
        .slice(0, 16),
    );
    const ctx: WorkloadContext = { name, namespace, configMapName: config.metadata.name, secretName: secret.metadata.name, configHash, opts: inNs };

    const accounts = (['gateway', 'worker'] as const).map(
      (tier) =>
        new k8s.core.v1.ServiceAccount(
          `${name}-${tier}`,
          {
            metadata: { name: `umcp-${tier}`, namespace, labels: tierLabels(tier), annotations: this[tier].serviceAccountAnnotations },
          },
          inNs,
        ),
    );
    const gw = deployment('gateway', this.gateway, ctx, accounts[0]!.metadata.name);
    deployment('worker', this.worker, ctx, accounts[1]!.metadata.name);
    disruptionBudget('gateway', ctx);
    disruptionBudget('worker', ctx);
    const { ingress } = gatewayIngress(args.ingress, { ...ctx, opts: { ...inNs, dependsOn: [ns, gw] } });
    gatewayHpa(this.gateway, ctx, args.gatewayScaling);
    workerScaledObject(this.worker, ctx, { redisAddress: args.queueRedisAddress, ...(args.queueTrigger && { queue: args.queueTrigger }) });
    if (args.scheduledScaleDown) scheduledScaleDown(this.gateway, args.scheduledScaleDown, ctx);
    networkPolicies({
      name,
      namespace,
      dataCidrs: args.dataCidrs,
      opts: inNs,
      ...(args.ingressSourceCidrs ? { ingressSourceCidrs: args.ingressSourceCidrs } : {}),
    });
    podMonitor(name, namespace, inNs);
    prometheusRule(name, namespace, args.alerts ?? {}, inNs, args.runbookBaseUrl ? { runbookBaseUrl: args.runbookBaseUrl } : {});
    if (args.alertReceivers) alertmanagerConfig(name, namespace, args.alertReceivers, inNs);

    this.namespace = namespace;
    this.ingressHostname = ingress.status.apply((s) => s?.loadBalancer?.ingress?.[0]?.hostname ?? s?.loadBalancer?.ingress?.[0]?.ip ?? '');
    this.registerOutputs({ namespace: this.namespace, ingressHostname: this.ingressHostname });
  }
}
