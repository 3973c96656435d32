import type * as pulumi from '@pulumi/pulumi';
import { HTTP } from '../../../contract/index.js';

/** Container resource requests of a tier. */
export interface ResourceRequests {
  /** @defaultValue "500m" */
  readonly cpu?: string;
  /** Also the memory limit. @defaultValue "512Mi" */
  readonly memory?: string;
  /** Also the ephemeral-storage limit and the /tmp emptyDir size. @defaultValue "10Gi" */
  readonly ephemeralStorage?: string;
}

/** One tier (gateway or worker). */
export interface TierArgs {
  readonly image: pulumi.Input<string>;
  /** @defaultValue 500m CPU / 512Mi memory / 10Gi ephemeral storage */
  readonly resources?: ResourceRequests;
  /** @defaultValue 2 */
  readonly minReplicas?: number;
  /** @defaultValue 10 */
  readonly maxReplicas?: number;
  /** Node selector (e.g. the EKS pool label). @defaultValue {} */
  readonly nodeSelector?: Record<string, string>;
  /** Tolerations (e.g. the spot taint). @defaultValue [] */
  readonly tolerations?: Array<{ key: string; operator?: string; value?: string; effect: string }>;
  /** Service account annotations (e.g. IRSA role ARN); Pod Identity needs none. @defaultValue {} */
  readonly serviceAccountAnnotations?: Record<string, string>;
}

export const DEFAULT_REQUESTS = { cpu: '500m', memory: '512Mi', ephemeralStorage: '10Gi' } as const;

/** Resolved tier, defaults applied. */
export interface ResolvedTier {
  image: pulumi.Input<string>;
  resources: Required<ResourceRequests>;
  minReplicas: number;
  maxReplicas: number;
  nodeSelector: Record<string, string>;
  tolerations: Array<{ key: string; operator?: string; value?: string; effect: string }>;
  serviceAccountAnnotations: Record<string, string>;
}

export function resolveTier(t: TierArgs): ResolvedTier {
  return {
    image: t.image,
    resources: { ...DEFAULT_REQUESTS, ...Object.fromEntries(Object.entries(t.resources ?? {}).filter(([, v]) => v !== undefined)) },
    minReplicas: t.minReplicas ?? 2,
    maxReplicas: t.maxReplicas ?? 10,
    nodeSelector: t.nodeSelector ?? {},
    tolerations: t.tolerations ?? [],
    serviceAccountAnnotations: t.serviceAccountAnnotations ?? {},
  };
}

export type Tier = 'gateway' | 'worker';

/** Labels of a tier's pods. */
export function tierLabels(tier: Tier): Record<string, string> {
  return { 'app.kubernetes.io/name': `umcp-${tier}`, 'app.kubernetes.io/component': tier, 'app.kubernetes.io/part-of': 'unified-mcp' };
}

/**
 * The one port each tier's process listens on (contract/index.ts): the gateway serves /mcp, health and
 * /metrics on PORT; the worker serves only /healthz, /readyz and /metrics on WORKER_METRICS_PORT. Probes,
 * the Prometheus annotations and the PodMonitor use these names; the runtime contract test runs the real
 * entrypoints against them.
 */
export const TIER_PORTS: Record<Tier, { readonly name: string; readonly containerPort: number }> = {
  gateway: { name: 'http', containerPort: HTTP.containerPort },
  worker: { name: 'metrics', containerPort: HTTP.workerPort },
};
