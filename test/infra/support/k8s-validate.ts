/**
 * Validates Kubernetes objects created by the program against the Kubernetes OpenAPI schema with
 * `kubernetes-models` (the model of the object's apiVersion/kind is built from the mocked inputs and
 * `.validate()` runs the schema's generated validator: required fields, types, formats, enums).
 *
 * Limits: the upstream schema does not forbid unknown fields (the field names are checked at compile time
 * by @pulumi/kubernetes' generated input types instead). Custom resources (KEDA, Prometheus operator) have
 * no model here: their metadata is validated with the ObjectMeta model and their spec with the small zod
 * schemas below, written from the CRDs' documented required fields. Helm releases are not Kubernetes objects.
 */
import { z } from 'zod';
import type { MockedResource } from '../../../infra/tools/mock-run.js';

/** Pulumi type token → kubernetes-models module and export. */
export function modelFor(type: string): { module: string; kind: string } | undefined {
  const m = /^kubernetes:([^:]+)\/([^/:]+):(\w+)$/.exec(type);
  if (!m) return undefined;
  const [, group, version, kind] = m as unknown as [string, string, string, string];
  if (group === 'helm.sh' || group.endsWith('keda.sh') || group === 'monitoring.coreos.com') return undefined;
  return { module: group === 'core' ? `kubernetes-models/${version}` : `kubernetes-models/${group}/${version}`, kind };
}

const name = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/)
  .max(253);
const crdBase = z.object({ apiVersion: z.string(), kind: z.string(), metadata: z.object({ name, namespace: name }).loose() });

/** Required parts of the custom resources the program creates. */
export const CRD_SCHEMAS: Record<string, z.ZodType> = {
  'keda.sh/v1alpha1/ScaledObject': crdBase.extend({
    spec: z.object({
      scaleTargetRef: z.object({ name, kind: z.string().optional(), apiVersion: z.string().optional() }),
      minReplicaCount: z.number().int().min(0).optional(),
      maxReplicaCount: z.number().int().min(1).optional(),
      pollingInterval: z.number().int().positive().optional(),
      cooldownPeriod: z.number().int().positive().optional(),
      triggers: z
        .array(
          z.object({
            type: z.string().min(1),
            metadata: z.record(z.string(), z.string()),
            metricType: z.enum(['AverageValue', 'Value', 'Utilization']).optional(),
            authenticationRef: z.object({ name }).optional(),
          }),
        )
        .min(1),
    }),
  }),
  'keda.sh/v1alpha1/TriggerAuthentication': crdBase.extend({
    spec: z.object({ secretTargetRef: z.array(z.object({ parameter: z.string(), name, key: z.string() })).min(1) }),
  }),
  'monitoring.coreos.com/v1/PrometheusRule': crdBase.extend({
    spec: z.object({
      groups: z
        .array(
          z.object({
            name: z.string(),
            rules: z
              .array(
                z.object({
                  alert: z.string(),
                  expr: z.string().min(1),
                  for: z
                    .string()
                    .regex(/^\d+[smh]$/)
                    .optional(),
                  labels: z.record(z.string(), z.string()).optional(),
                  annotations: z.record(z.string(), z.string()).optional(),
                }),
              )
              .min(1),
          }),
        )
        .min(1),
    }),
  }),
  // AlertmanagerConfig (v1alpha1): routes are raw JSON in the CRD; receivers are a list keyed by name.
  'monitoring.coreos.com/v1alpha1/AlertmanagerConfig': crdBase.extend({
    spec: z.object({
      route: z
        .object({
          receiver: z.string().min(1),
          groupBy: z.array(z.string()).optional(),
          groupWait: z
            .string()
            .regex(/^\d+[smh]$/)
            .optional(),
          groupInterval: z
            .string()
            .regex(/^\d+[smh]$/)
            .optional(),
          repeatInterval: z
            .string()
            .regex(/^\d+[smh]$/)
            .optional(),
          matchers: z.array(z.object({ name: z.string().min(1), value: z.string(), matchType: z.enum(['=', '!=', '=~', '!~']) })).optional(),
          routes: z.array(z.record(z.string(), z.unknown())).optional(),
        })
        .loose(),
      receivers: z
        .array(
          z
            .object({
              name: z.string().min(1),
              snsConfigs: z
                .array(
                  z
                    .object({
                      topicARN: z.string().min(1),
                      sigv4: z
                        .object({ region: z.string().min(1) })
                        .loose()
                        .optional(),
                    })
                    .loose(),
                )
                .optional(),
              webhookConfigs: z
                .array(
                  z
                    .object({
                      url: z.string().optional(),
                      urlSecret: z.object({ name, key: z.string().min(1) }).optional(),
                    })
                    .loose()
                    .refine((w) => w.url !== undefined || w.urlSecret !== undefined, 'url or urlSecret'),
                )
                .optional(),
            })
            .loose(),
        )
        .min(1),
    }),
  }),
  'monitoring.coreos.com/v1/PodMonitor': crdBase.extend({
    spec: z.object({
      selector: z.object({ matchLabels: z.record(z.string(), z.string()) }),
      podMetricsEndpoints: z.array(z.object({ port: z.string() }).loose()).min(1),
    }),
  }),
};

/** Validates one object; throws with the resource name and the schema errors. */
export async function validateK8sObject(r: MockedResource): Promise<'openapi' | 'crd'> {
  const target = modelFor(r.type);
  if (target) {
    const mod = (await import(target.module)) as Record<string, new (data: unknown) => { validate(): void }>;
    const Model = mod[target.kind];
    if (!Model) throw new Error(`${r.name}: kubernetes-models has no ${target.kind} in ${target.module}`);
    try {
      new Model(r.inputs).validate();
    } catch (err) {
      throw new Error(`${r.type} ${r.name} fails the OpenAPI schema: ${(err as Error).message}`);
    }
    return 'openapi';
  }
  const key = `${r.inputs.apiVersion}/${r.inputs.kind}`;
  const schema = CRD_SCHEMAS[key];
  if (!schema) throw new Error(`${r.type} ${r.name}: no schema for ${key}`);
  const { ObjectMeta } = await import('@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta');
  new ObjectMeta(r.inputs.metadata).validate();
  const parsed = schema.safeParse(r.inputs);
  if (!parsed.success) throw new Error(`${key} ${r.name}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return 'crd';
}
