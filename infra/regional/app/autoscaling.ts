import * as k8s from '@pulumi/kubernetes';
import type * as pulumi from '@pulumi/pulumi';
import { QUEUE } from '../../../contract/index.js';
import { REQUESTS_PER_SECOND_METRIC } from './metric-names.js';
import { tierLabels, type ResolvedTier } from './types.js';
import type { WorkloadContext } from './workloads.js';

/** The BullMQ wait list KEDA measures (`bull:<queue>:wait`). */
export const QUEUE_WAIT_LIST = `${QUEUE.prefix}:${QUEUE.name}:wait`;

/** Gateway HPA thresholds. */
export interface GatewayScaling {
  /** @defaultValue 70 */
  readonly cpuUtilization?: number;
  /** Target requests per second per pod. @defaultValue 50 */
  readonly requestsPerSecond?: number;
}

/** HPA for the gateway on CPU utilisation and requests per second per pod (a Pods metric). */
export function gatewayHpa(t: ResolvedTier, ctx: WorkloadContext, s: GatewayScaling = {}): k8s.autoscaling.v2.HorizontalPodAutoscaler {
  return new k8s.autoscaling.v2.HorizontalPodAutoscaler(
    `${ctx.name}-gateway`,
    {
      metadata: {
        name: 'umcp-gateway',
        namespace: ctx.namespace,
        labels: tierLabels('gateway'),
        // The off-hours CronJob patches min/maxReplicas; take the fields back on the next `pulumi up`.
        annotations: { 'pulumi.com/patchForce': 'true' },
      },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'umcp-gateway' },
        minReplicas: t.minReplicas,
        maxReplicas: t.maxReplicas,
        metrics: [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: s.cpuUtilization ?? 70 } } },
          {
            type: 'Pods',
            pods: { metric: { name: REQUESTS_PER_SECOND_METRIC }, target: { type: 'AverageValue', averageValue: String(s.requestsPerSecond ?? 50) } },
          },
        ],
        behavior: {
          scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: 'Percent', value: 100, periodSeconds: 30 }] },
          // Long SSE streams: scale in slowly.
          scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] },
        },
      },
    },
    ctx.opts,
  );
}

/** The queue KEDA measures when it is not the BullMQ wait list (`queue.backend` of the stack). */
export type BrokerQueueTrigger =
  /** Amazon MQ for RabbitMQ: ready messages of the task queue; the broker URL (with credentials) from the app Secret. */
  | { readonly backend: 'rabbitmq'; readonly queueName: string; readonly hostKey?: string }
  /** Amazon SQS: visible messages of the task queue, read with the KEDA operator's Pod Identity. */
  | { readonly backend: 'sqs'; readonly queueUrl: pulumi.Input<string>; readonly region: string };

/** Worker queue scaling. */
export interface WorkerScaling {
  /** Redis (state role) `host:port` (BullMQ). */
  readonly redisAddress: pulumi.Input<string>;
  /** Secret key holding the Redis AUTH token. @defaultValue "REDIS_PASSWORD" */
  readonly passwordKey?: string;
  /** Waiting jobs per worker replica. @defaultValue 10 */
  readonly jobsPerReplica?: number;
  /** A broker queue instead of the BullMQ wait list. @defaultValue the BullMQ wait list */
  readonly queue?: BrokerQueueTrigger;
}

/** The KEDA trigger authentication and queue trigger of a backend. */
function queueTrigger(ctx: WorkloadContext, w: WorkerScaling): { auth: Record<string, unknown>; trigger: Record<string, unknown> } {
  const perReplica = String(w.jobsPerReplica ?? 10);
  const q = w.queue;
  if (q?.backend === 'rabbitmq') {
    return {
      auth: { secretTargetRef: [{ parameter: 'host', name: ctx.secretName, key: q.hostKey ?? 'AMQP_URL' }] },
      trigger: { type: 'rabbitmq', metadata: { protocol: 'amqp', queueName: q.queueName, mode: 'QueueLength', value: perReplica } },
    };
  }
  if (q?.backend === 'sqs') {
    return {
      auth: { podIdentity: { provider: 'aws' } },
      trigger: { type: 'aws-sqs-queue', metadata: { queueURL: q.queueUrl, queueLength: perReplica, awsRegion: q.region, scaleOnInFlight: 'true' } },
    };
  }
  return {
    auth: { secretTargetRef: [{ parameter: 'password', name: ctx.secretName, key: w.passwordKey ?? 'REDIS_PASSWORD' }] },
    trigger: {
      type: 'redis',
      metadata: { address: w.redisAddress, listName: QUEUE_WAIT_LIST, listLength: perReplica, enableTLS: 'true', databaseIndex: '0' },
    },
  };
}

/**
 * KEDA ScaledObject (+ TriggerAuthentication) scaling workers on the task queue's length and CPU: the BullMQ
 * wait list (`redis`), the RabbitMQ queue (`rabbitmq`) or the SQS queue (`aws-sqs-queue`, Pod Identity).
 */
export function workerScaledObject(t: ResolvedTier, ctx: WorkloadContext, w: WorkerScaling): k8s.apiextensions.CustomResource {
  const { auth: authSpec, trigger } = queueTrigger(ctx, w);
  const authName = `umcp-worker-${w.queue?.backend ?? 'redis'}`;
  const auth = new k8s.apiextensions.CustomResource(
    `${ctx.name}-${authName.replace('umcp-', '')}-auth`,
    {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'TriggerAuthentication',
      metadata: { name: authName, namespace: ctx.namespace, labels: tierLabels('worker') },
      spec: authSpec,
    },
    ctx.opts,
  );
  return new k8s.apiextensions.CustomResource(
    `${ctx.name}-worker`,
    {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata: { name: 'umcp-worker', namespace: ctx.namespace, labels: tierLabels('worker') },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'umcp-worker' },
        minReplicaCount: t.minReplicas,
        maxReplicaCount: t.maxReplicas,
        pollingInterval: 15,
        cooldownPeriod: 300,
        triggers: [
          { ...trigger, authenticationRef: { name: authName } },
          { type: 'cpu', metricType: 'Utilization', metadata: { value: '75' } },
        ],
      },
    },
    { ...ctx.opts, dependsOn: [auth] },
  );
}

/** Off-hours schedule for non-prod. */
export interface ScaleDownSchedule {
  /** Cron (UTC) to scale down. */
  readonly down: string;
  /** Cron (UTC) to scale back up. */
  readonly up: string;
  /** kubectl image, fully qualified and pinned. @defaultValue {@link kubectlImage} of {@link DEFAULT_KUBECTL_MINOR} */
  readonly image?: string;
}

/**
 * The Kubernetes project's own kubectl image (registry.k8s.io/kubectl, published for every release since
 * v1.28; debian-base with a shell, kubectl at /bin/kubectl), one verified patch release per minor.
 * Bitnami's `bitnami/kubectl:<version>` tags are gone (versioned free images ended in 2025), and a
 * CronJob stuck in ImagePullBackOff fails silently: the environment simply never scales down.
 */
export const KUBECTL_TAGS: Readonly<Record<string, string>> = { '1.32': 'v1.32.3', '1.33': 'v1.33.6', '1.34': 'v1.34.1' };
export const DEFAULT_KUBECTL_MINOR = '1.33';

/**
 * kubectl image for a cluster's Kubernetes minor version (kubectl supports the API server's minor ±1).
 * @throws Error naming the known minors when there is no verified tag for `minor`.
 */
export function kubectlImage(minor: string = DEFAULT_KUBECTL_MINOR): string {
  const tag = KUBECTL_TAGS[minor];
  if (!tag) {
    throw new Error(
      `no verified registry.k8s.io/kubectl tag for Kubernetes ${minor} (known: ${Object.keys(KUBECTL_TAGS).join(', ')}); ` +
        'add one to KUBECTL_TAGS or set app.scheduledScaleDown.image',
    );
  }
  return `registry.k8s.io/kubectl:${tag}`;
}

/**
 * Scheduled scale-down of non-prod: a CronJob pins the gateway HPA to 1 replica and pauses the worker
 * ScaledObject at 0 (KEDA's `paused-replicas` annotation); a second CronJob restores both. The next
 * `pulumi up` also restores the HPA bounds.
 */
export function scheduledScaleDown(gateway: ResolvedTier, s: ScaleDownSchedule, ctx: WorkloadContext): k8s.batch.v1.CronJob[] {
  const labels = { 'app.kubernetes.io/name': 'umcp-scaler', 'app.kubernetes.io/part-of': 'unified-mcp' };
  const meta = (name: string) => ({ name, namespace: ctx.namespace, labels });
  const sa = new k8s.core.v1.ServiceAccount(`${ctx.name}-scaler`, { metadata: meta('umcp-scaler') }, ctx.opts);
  const role = new k8s.rbac.v1.Role(
    `${ctx.name}-scaler`,
    {
      metadata: meta('umcp-scaler'),
      rules: [
        { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], resourceNames: ['umcp-gateway'], verbs: ['get', 'patch'] },
        { apiGroups: ['keda.sh'], resources: ['scaledobjects'], resourceNames: ['umcp-worker'], verbs: ['get', 'patch'] },
      ],
    },
    ctx.opts,
  );
  new k8s.rbac.v1.RoleBinding(
    `${ctx.name}-scaler`,
    {
      metadata: meta('umcp-scaler'),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'umcp-scaler' },
      subjects: [{ kind: 'ServiceAccount', name: 'umcp-scaler', namespace: ctx.namespace }],
    },
    { ...ctx.opts, dependsOn: [role, sa] },
  );

  const job = (id: 'down' | 'up', schedule: string, script: string) =>
    new k8s.batch.v1.CronJob(
      `${ctx.name}-scale-${id}`,
      {
        metadata: meta(`umcp-scale-${id}`),
        spec: {
          schedule,
          timeZone: 'Etc/UTC',
          concurrencyPolicy: 'Forbid',
          successfulJobsHistoryLimit: 1,
          failedJobsHistoryLimit: 3,
          jobTemplate: {
            spec: {
              backoffLimit: 2,
              template: {
                metadata: { labels },
                spec: {
                  serviceAccountName: 'umcp-scaler',
                  restartPolicy: 'OnFailure',
                  securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } },
                  containers: [
                    {
                      name: 'kubectl',
                      image: s.image ?? kubectlImage(),
                      command: ['/bin/sh', '-c', script],
                      env: [{ name: 'HOME', value: '/tmp' }],
                      volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
                      resources: {
                        requests: { cpu: '50m', memory: '64Mi', 'ephemeral-storage': '100Mi' },
                        limits: { memory: '128Mi', 'ephemeral-storage': '100Mi' },
                      },
                      securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
                    },
                  ],
                  volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '100Mi' } }],
                },
              },
            },
          },
        },
      },
      ctx.opts,
    );
  const hpa = (min: number, max: number) => `kubectl patch hpa umcp-gateway --type merge -p '{"spec":{"minReplicas":${min},"maxReplicas":${max}}}'`;
  return [
    job('down', s.down, `set -e; ${hpa(1, 1)}; kubectl annotate scaledobject umcp-worker autoscaling.keda.sh/paused-replicas=0 --overwrite`),
    job('up', s.up, `set -e; ${hpa(gateway.minReplicas, gateway.maxReplicas)}; kubectl annotate scaledobject umcp-worker autoscaling.keda.sh/paused-replicas-`),
  ];
}
