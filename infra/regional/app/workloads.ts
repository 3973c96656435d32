import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { HTTP } from '../../../contract/index.js';
import { TIER_PORTS, tierLabels, type ResolvedTier, type Tier } from './types.js';

/** What both Deployments share. */
export interface WorkloadContext {
  readonly name: string;
  readonly namespace: pulumi.Input<string>;
  readonly configMapName: pulumi.Input<string>;
  readonly secretName: pulumi.Input<string>;
  /** Forces a rollout when config or secret content changes. */
  readonly configHash: pulumi.Input<string>;
  readonly opts: pulumi.CustomResourceOptions;
}

const probe = (tier: Tier, path: string, periodSeconds: number, failureThreshold: number) => ({
  httpGet: { path, port: TIER_PORTS[tier].name },
  periodSeconds,
  failureThreshold,
  timeoutSeconds: 2,
});

const QUANTITY_UNITS: Record<string, number> = { '': 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

/**
 * V8's old-space limit (MiB) for a container whose memory limit is `memory` (a binary Kubernetes quantity,
 * as the stack config accepts it): half of it. Without a limit V8 sizes its heap from what it can see and
 * lets garbage pile up (measured: a gateway under load at 360 MB RSS with 55 MB live); with it, major
 * collections start long before the OOM killer would, and the other half is left to code, buffers, sockets
 * and the young generation.
 */
export function heapLimitMiB(memory: string): number {
  const m = /^(\d+)(Ki|Mi|Gi|Ti)?$/.exec(memory);
  if (!m) throw new Error(`memory "${memory}" is not a binary Kubernetes quantity such as "512Mi"`);
  return Math.max(64, Math.floor((Number(m[1]) * QUANTITY_UNITS[m[2] ?? '']!) / 2 ** 20 / 2));
}

/**
 * A tier's Deployment: requests (limits = requests for memory and ephemeral storage, no CPU limit),
 * startup/readiness/liveness probes on the contract's health paths, zone then host topology spread,
 * non-root read-only root filesystem, /tmp sized to the ephemeral-storage request, and the V8 heap sized to
 * the memory limit (`NODE_OPTIONS`, {@link heapLimitMiB}).
 */
export function deployment(tier: Tier, t: ResolvedTier, ctx: WorkloadContext, serviceAccountName: pulumi.Input<string>): k8s.apps.v1.Deployment {
  const labels = tierLabels(tier);
  const { cpu, memory, ephemeralStorage } = t.resources;
  const port = TIER_PORTS[tier];
  return new k8s.apps.v1.Deployment(
    `${ctx.name}-${tier}`,
    {
      metadata: { name: `umcp-${tier}`, namespace: ctx.namespace, labels },
      spec: {
        // No `replicas`: the HPA (gateway) and KEDA (worker) own the scale; setting it here would reset it on every up.
        revisionHistoryLimit: 5,
        selector: { matchLabels: labels },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } },
        template: {
          metadata: {
            labels,
            annotations: {
              'umcp.io/config-hash': ctx.configHash,
              'prometheus.io/scrape': 'true',
              'prometheus.io/port': String(port.containerPort),
              'prometheus.io/path': HTTP.metricsPath,
            },
          },
          spec: {
            serviceAccountName,
            terminationGracePeriodSeconds: 40, // > SHUTDOWN_GRACE_MS (25 s) and WORKER_SHUTDOWN_GRACE_MS (30 s): in-flight work finishes
            securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
            nodeSelector: t.nodeSelector,
            tolerations: t.tolerations,
            topologySpreadConstraints: [
              { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: labels } },
              { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: labels } },
            ],
            containers: [
              {
                name: tier,
                image: t.image,
                ports: [{ name: port.name, containerPort: port.containerPort, protocol: 'TCP' }],
                envFrom: [{ configMapRef: { name: ctx.configMapName } }, { secretRef: { name: ctx.secretName } }],
                env: [{ name: 'NODE_OPTIONS', value: `--max-old-space-size=${heapLimitMiB(memory)}` }],
                resources: {
                  requests: { cpu, memory, 'ephemeral-storage': ephemeralStorage },
                  limits: { memory, 'ephemeral-storage': ephemeralStorage },
                },
                startupProbe: probe(tier, HTTP.livenessPath, 2, 30),
                readinessProbe: probe(tier, HTTP.readinessPath, 5, 3),
                livenessProbe: probe(tier, HTTP.livenessPath, 10, 3),
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
                volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
              },
            ],
            volumes: [{ name: 'tmp', emptyDir: { sizeLimit: ephemeralStorage } }],
          },
        },
      },
    },
    ctx.opts,
  );
}

/** PodDisruptionBudget: at most one pod of the tier down during voluntary disruptions. */
export function disruptionBudget(tier: Tier, ctx: WorkloadContext): k8s.policy.v1.PodDisruptionBudget {
  return new k8s.policy.v1.PodDisruptionBudget(
    `${ctx.name}-${tier}`,
    {
      metadata: { name: `umcp-${tier}`, namespace: ctx.namespace, labels: tierLabels(tier) },
      spec: { maxUnavailable: 1, selector: { matchLabels: tierLabels(tier) } },
    },
    ctx.opts,
  );
}

/** Arguments of the gateway's Service + Ingress. */
export interface IngressArgs {
  readonly hostname: string;
  /** Further hosts routed to the gateway (e.g. the global MCP hostname). @defaultValue [] */
  readonly extraHostnames?: string[];
  /** @defaultValue "alb" */
  readonly ingressClassName?: string;
  /** ACM certificate ARN; with it the ALB listens on HTTPS 443 only. */
  readonly certificateArn?: string;
  /**
   * Source CIDRs admitted by the ALB's security group (`inbound-cidrs`), e.g. the edge's published ranges.
   * @defaultValue none: the controller opens the listener to 0.0.0.0/0
   */
  readonly inboundCidrs?: string[];
  /**
   * A header every listener rule requires (`conditions.<service>`, http-header) with one of `values` (at
   * most 3, e.g. the current and the previous secret); requests without it match no rule and get the
   * controller's default 404. @defaultValue none
   */
  readonly requiredHeader?: { readonly name: string; readonly values: pulumi.Input<string>[] };
}

/** Backend Service of the gateway Ingress (also the name its ALB listener-rule conditions are keyed by). */
export const GATEWAY_SERVICE = 'umcp-gateway';

/**
 * ALB annotations (AWS Load Balancer Controller); SSE streams need the long idle timeout. With
 * `inboundCidrs` and/or `requiredHeader`, only the edge reaches the gateway (docs/edge.md, "Origin access").
 */
export function albAnnotations(a: IngressArgs): Record<string, pulumi.Input<string>> {
  const tls = a.certificateArn !== undefined;
  return {
    'alb.ingress.kubernetes.io/scheme': 'internet-facing',
    'alb.ingress.kubernetes.io/target-type': 'ip',
    'alb.ingress.kubernetes.io/healthcheck-path': HTTP.readinessPath,
    'alb.ingress.kubernetes.io/healthcheck-port': 'traffic-port',
    'alb.ingress.kubernetes.io/listen-ports': JSON.stringify(tls ? [{ HTTPS: 443 }] : [{ HTTP: 80 }]),
    ...(tls
      ? { 'alb.ingress.kubernetes.io/certificate-arn': a.certificateArn!, 'alb.ingress.kubernetes.io/ssl-policy': 'ELBSecurityPolicy-TLS13-1-2-2021-06' }
      : {}),
    'alb.ingress.kubernetes.io/load-balancer-attributes': 'idle_timeout.timeout_seconds=3600,routing.http.drop_invalid_header_fields.enabled=true',
    'alb.ingress.kubernetes.io/target-group-attributes': 'deregistration_delay.timeout_seconds=30',
    ...(a.inboundCidrs?.length ? { 'alb.ingress.kubernetes.io/inbound-cidrs': a.inboundCidrs.join(',') } : {}),
    ...(a.requiredHeader ? { [`alb.ingress.kubernetes.io/conditions.${GATEWAY_SERVICE}`]: requiredHeaderCondition(a.requiredHeader) } : {}),
  };
}

/** The listener-rule condition JSON; secret, since it carries the header's values. */
function requiredHeaderCondition(h: NonNullable<IngressArgs['requiredHeader']>): pulumi.Output<string> {
  if (h.values.length < 1 || h.values.length > 3)
    throw new Error(`requiredHeader ${h.name}: expected 1 to 3 values (ALB limit per condition), found ${h.values.length}`);
  return pulumi.secret(pulumi.jsonStringify([{ field: 'http-header', httpHeaderConfig: { httpHeaderName: h.name, values: h.values } }]));
}

/** Controller-specific annotations: ALB settings, or unbuffered long-lived streams for ingress-nginx. */
export function ingressAnnotations(className: string, a: IngressArgs): Record<string, pulumi.Input<string>> {
  if (className === 'alb') return albAnnotations(a);
  if (className === 'nginx') {
    return {
      'nginx.ingress.kubernetes.io/proxy-buffering': 'off',
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600',
      'nginx.ingress.kubernetes.io/proxy-send-timeout': '3600',
      'nginx.ingress.kubernetes.io/proxy-body-size': '8m',
    };
  }
  return {};
}

/** ClusterIP Service and Ingress for the gateway. */
export function gatewayIngress(a: IngressArgs, ctx: WorkloadContext): { service: k8s.core.v1.Service; ingress: k8s.networking.v1.Ingress } {
  const labels = tierLabels('gateway');
  const service = new k8s.core.v1.Service(
    `${ctx.name}-gateway`,
    {
      metadata: { name: 'umcp-gateway', namespace: ctx.namespace, labels },
      spec: { type: 'ClusterIP', selector: labels, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
    },
    ctx.opts,
  );
  const className = a.ingressClassName ?? 'alb';
  const ingress = new k8s.networking.v1.Ingress(
    `${ctx.name}-gateway`,
    {
      metadata: { name: 'umcp-gateway', namespace: ctx.namespace, labels, annotations: ingressAnnotations(className, a) },
      spec: {
        ingressClassName: className,
        rules: [a.hostname, ...(a.extraHostnames ?? [])].map((host) => ({
          host,
          http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: GATEWAY_SERVICE, port: { name: 'http' } } } }] },
        })),
      },
    },
    ctx.opts,
  );
  return { service, ingress };
}
