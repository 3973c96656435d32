/**
 * What one rendered stack declares for the runtime contract test: each Deployment's containers with the
 * environment Kubernetes would give them (ConfigMap data and Secret stringData through envFrom, then `env`
 * entries), and the objects that read the pods from outside (PodMonitor, HPA + prometheus-adapter rules,
 * KEDA ScaledObject and TriggerAuthentication, PrometheusRule). Read from the mocked resources only.
 */
import type { MockedResource, MockRunResult } from '../../../../infra/tools/mock-run.js';

/** A container port. */
export interface ContainerPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol?: string;
}

/** An httpGet probe as declared. */
export interface HttpProbe {
  readonly httpGet: { path: string; port: string | number; scheme?: string };
  readonly initialDelaySeconds?: number;
  readonly periodSeconds?: number;
  readonly timeoutSeconds?: number;
  readonly failureThreshold?: number;
  readonly successThreshold?: number;
}

/** One container of one Deployment, with the environment the kubelet would build. */
export interface DeclaredContainer {
  readonly deployment: string;
  readonly name: string;
  readonly image: string;
  readonly podLabels: Record<string, string>;
  readonly command?: string[];
  readonly args?: string[];
  readonly ports: ContainerPort[];
  /** Final environment: envFrom sources in order, then `env` (later wins, as in Kubernetes). */
  readonly env: Record<string, string>;
  /** Where each key came from, for messages: `ConfigMap umcp-config`, `Secret umcp-secrets`, `env`. */
  readonly envSource: Record<string, string>;
  readonly probes: Partial<Record<'startupProbe' | 'readinessProbe' | 'livenessProbe', HttpProbe>>;
  readonly runAsUser?: number;
  readonly runAsGroup?: number;
  readonly fsGroup?: number;
  readonly readOnlyRootFilesystem: boolean;
  /** Mount paths of the pod's volumes in this container. */
  readonly volumeMounts: string[];
  readonly terminationGracePeriodSeconds: number;
}

const byName = (r: MockRunResult, type: string, name: string): MockedResource | undefined =>
  r.resources.find((x) => x.type === type && x.inputs?.metadata?.name === name);

/** A plausible value for a downward-API field (the pod is not scheduled anywhere here). */
function fieldRefValue(fieldPath: string, deployment: string, namespace: string): string {
  switch (fieldPath) {
    case 'metadata.name':
      return `${deployment}-7d9c8b6f5-x2x9q`;
    case 'metadata.namespace':
      return namespace;
    case 'spec.nodeName':
      return 'ip-10-0-1-23.ec2.internal';
    case 'status.podIP':
      return '10.0.1.23';
    case 'status.hostIP':
      return '10.0.1.10';
    case 'spec.serviceAccountName':
      return deployment;
    default:
      throw new Error(`${deployment}: no stand-in for fieldRef ${fieldPath}`);
  }
}

/** Every container of every Deployment of the run. */
export function declaredContainers(r: MockRunResult): DeclaredContainer[] {
  const out: DeclaredContainer[] = [];
  for (const d of r.resources.filter((x) => x.type === 'kubernetes:apps/v1:Deployment')) {
    const namespace = String(d.inputs.metadata?.namespace ?? 'default');
    const pod = d.inputs.spec.template;
    const podSpec = pod.spec;
    for (const c of podSpec.containers as Array<Record<string, any>>) {
      const env: Record<string, string> = {};
      const envSource: Record<string, string> = {};
      for (const from of (c.envFrom ?? []) as Array<Record<string, any>>) {
        const prefix = String(from.prefix ?? '');
        if (from.configMapRef) {
          const cm = byName(r, 'kubernetes:core/v1:ConfigMap', from.configMapRef.name);
          if (!cm) throw new Error(`${d.inputs.metadata.name}/${c.name}: envFrom names ConfigMap ${from.configMapRef.name}, which the stack does not declare`);
          for (const [k, v] of Object.entries(cm.inputs.data ?? {})) {
            env[prefix + k] = String(v);
            envSource[prefix + k] = `ConfigMap ${from.configMapRef.name}`;
          }
        } else if (from.secretRef) {
          const s = byName(r, 'kubernetes:core/v1:Secret', from.secretRef.name);
          if (!s) throw new Error(`${d.inputs.metadata.name}/${c.name}: envFrom names Secret ${from.secretRef.name}, which the stack does not declare`);
          const data = {
            ...Object.fromEntries(Object.entries(s.inputs.data ?? {}).map(([k, v]) => [k, Buffer.from(String(v), 'base64').toString('utf8')])),
            ...(s.inputs.stringData ?? {}),
          };
          for (const [k, v] of Object.entries(data)) {
            env[prefix + k] = String(v);
            envSource[prefix + k] = `Secret ${from.secretRef.name}`;
          }
        }
      }
      for (const e of (c.env ?? []) as Array<Record<string, any>>) {
        if (e.value !== undefined) env[e.name] = String(e.value);
        else if (e.valueFrom?.fieldRef) env[e.name] = fieldRefValue(e.valueFrom.fieldRef.fieldPath, d.inputs.metadata.name, namespace);
        else if (e.valueFrom?.secretKeyRef) {
          const s = byName(r, 'kubernetes:core/v1:Secret', e.valueFrom.secretKeyRef.name);
          env[e.name] = String(s?.inputs.stringData?.[e.valueFrom.secretKeyRef.key] ?? '');
        } else if (e.valueFrom?.configMapKeyRef) {
          const cm = byName(r, 'kubernetes:core/v1:ConfigMap', e.valueFrom.configMapKeyRef.name);
          env[e.name] = String(cm?.inputs.data?.[e.valueFrom.configMapKeyRef.key] ?? '');
        } else env[e.name] = '';
        envSource[e.name] = 'env';
      }
      const probes: DeclaredContainer['probes'] = {};
      for (const kind of ['startupProbe', 'readinessProbe', 'livenessProbe'] as const) if (c[kind]) probes[kind] = c[kind];
      const podSc = podSpec.securityContext ?? {};
      const sc = c.securityContext ?? {};
      out.push({
        deployment: d.inputs.metadata.name,
        name: c.name,
        image: String(c.image),
        podLabels: pod.metadata?.labels ?? {},
        ...(c.command ? { command: c.command } : {}),
        ...(c.args ? { args: c.args } : {}),
        ports: c.ports ?? [],
        env,
        envSource,
        probes,
        ...((sc.runAsUser ?? podSc.runAsUser) !== undefined ? { runAsUser: sc.runAsUser ?? podSc.runAsUser } : {}),
        ...((sc.runAsGroup ?? podSc.runAsGroup) !== undefined ? { runAsGroup: sc.runAsGroup ?? podSc.runAsGroup } : {}),
        ...(podSc.fsGroup !== undefined ? { fsGroup: podSc.fsGroup } : {}),
        readOnlyRootFilesystem: sc.readOnlyRootFilesystem === true,
        volumeMounts: ((c.volumeMounts ?? []) as Array<{ mountPath: string }>).map((m) => m.mountPath),
        terminationGracePeriodSeconds: podSpec.terminationGracePeriodSeconds ?? 30,
      });
    }
  }
  return out;
}

/** Resolves a probe's or scrape endpoint's port (a name or a number) against the container's ports. */
export function resolvePort(c: DeclaredContainer, port: string | number): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return c.ports.find((p) => p.name === port)?.containerPort;
}

const matches = (selector: Record<string, string> | undefined, labels: Record<string, string>) =>
  Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);

/** The endpoints each PodMonitor scrapes on `c`'s pods: `{ port, path }` resolved. */
export function scrapeEndpoints(
  r: MockRunResult,
  c: DeclaredContainer,
): Array<{ monitor: string; portName: string | number; port: number | undefined; path: string }> {
  const out: Array<{ monitor: string; portName: string | number; port: number | undefined; path: string }> = [];
  for (const pm of r.resources.filter((x) => x.type === 'kubernetes:monitoring.coreos.com/v1:PodMonitor')) {
    if (!matches(pm.inputs.spec.selector?.matchLabels, c.podLabels)) continue;
    for (const ep of pm.inputs.spec.podMetricsEndpoints as Array<{ port?: string; targetPort?: number | string; path?: string }>) {
      const portName = ep.port ?? ep.targetPort!;
      // The operator keeps only targets whose container port has that name (or number): no such port, no target.
      const port = resolvePort(c, portName);
      if (typeof portName === 'string' && !c.ports.some((p) => p.name === portName)) continue;
      out.push({ monitor: pm.inputs.metadata.name, portName, port, path: ep.path ?? '/metrics' });
    }
  }
  return out;
}

/** Series names a PromQL expression reads (`umcp_*` identifiers; `_bucket`/`_sum`/`_count` folded into the family). */
export function seriesIn(expr: string): string[] {
  return [...new Set([...expr.matchAll(/\b(umcp_[a-z0-9_]+)\b/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, '')))];
}

/** A metric family a rendered object needs on the pods, and who needs it. */
export interface MetricUse {
  readonly metric: string;
  readonly usedBy: string;
  /** Deployment whose pods must expose it (the HPA's scale target); undefined = the owning tier(s). */
  readonly deployment?: string;
}

/** prometheus-adapter custom rules of any rendered stack (the chart values are the same for a pre-existing cluster). */
export function adapterRules(runs: MockRunResult[]): Array<{ series: string; matches: string; as: string }> {
  const rules: Array<{ series: string; matches: string; as: string }> = [];
  for (const r of runs) {
    for (const rel of r.resources.filter((x) => x.type === 'kubernetes:helm.sh/v3:Release' && x.inputs.chart === 'prometheus-adapter')) {
      for (const rule of (rel.inputs.values?.rules?.custom ?? []) as Array<{ seriesQuery: string; name?: { matches?: string; as?: string } }>) {
        // The adapter's `as` is a Go regexp template (`${1}`); JavaScript's replace spells it `$1`.
        rules.push({
          series: rule.seriesQuery.split('{')[0]!.trim(),
          matches: rule.name?.matches ?? '^(.*)$',
          as: (rule.name?.as ?? '${1}').replace(/\$\{(\d+)\}/g, '$$$1'),
        });
      }
    }
  }
  return rules;
}

/** Every metric the HPA (through prometheus-adapter), KEDA and the alert rules of `r` read from the pods. */
export function metricUses(r: MockRunResult, rules: ReturnType<typeof adapterRules>): { uses: MetricUse[]; problems: string[] } {
  const uses: MetricUse[] = [];
  const problems: string[] = [];
  for (const hpa of r.resources.filter((x) => x.type === 'kubernetes:autoscaling/v2:HorizontalPodAutoscaler')) {
    const target = hpa.inputs.spec.scaleTargetRef.name as string;
    for (const m of (hpa.inputs.spec.metrics ?? []) as Array<Record<string, any>>) {
      if (m.type !== 'Pods' && m.type !== 'Object') continue;
      const name = (m.pods ?? m.object).metric.name as string;
      const rule = rules.find((x) => x.series.replace(new RegExp(x.matches), x.as) === name);
      if (!rule) problems.push(`HPA ${hpa.inputs.metadata.name}: metric ${name} has no prometheus-adapter rule that produces it`);
      else uses.push({ metric: rule.series, usedBy: `HPA ${hpa.inputs.metadata.name} (${name} via prometheus-adapter)`, deployment: target });
    }
  }
  for (const so of r.resources.filter((x) => x.type === 'kubernetes:keda.sh/v1alpha1:ScaledObject')) {
    for (const t of (so.inputs.spec.triggers ?? []) as Array<Record<string, any>>) {
      if (t.type === 'prometheus')
        for (const s of seriesIn(String(t.metadata?.query ?? '')))
          uses.push({ metric: s, usedBy: `ScaledObject ${so.inputs.metadata.name} prometheus trigger` });
    }
  }
  for (const pr of r.resources.filter((x) => x.type === 'kubernetes:monitoring.coreos.com/v1:PrometheusRule')) {
    for (const g of pr.inputs.spec.groups as Array<{ rules: Array<{ alert?: string; record?: string; expr: string }> }>) {
      for (const rule of g.rules) for (const s of seriesIn(rule.expr)) uses.push({ metric: s, usedBy: `alert ${rule.alert ?? rule.record}` });
    }
  }
  return { uses, problems };
}

/** KEDA redis list triggers: the list each reads, and the Secret keys its TriggerAuthentication takes. */
export function kedaRedisLists(r: MockRunResult): Array<{ scaledObject: string; target: string; listName: string; databaseIndex: number }> {
  const out: Array<{ scaledObject: string; target: string; listName: string; databaseIndex: number }> = [];
  for (const so of r.resources.filter((x) => x.type === 'kubernetes:keda.sh/v1alpha1:ScaledObject')) {
    for (const t of (so.inputs.spec.triggers ?? []) as Array<Record<string, any>>) {
      if (t.type === 'redis')
        out.push({
          scaledObject: so.inputs.metadata.name,
          target: so.inputs.spec.scaleTargetRef.name,
          listName: t.metadata.listName,
          databaseIndex: Number(t.metadata.databaseIndex ?? 0),
        });
    }
  }
  return out;
}

/** Secret keys read by other cluster components (KEDA TriggerAuthentication secretTargetRef), by Secret name. */
export function secretKeysReadByCluster(r: MockRunResult): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const ta of r.resources.filter((x) => x.type === 'kubernetes:keda.sh/v1alpha1:TriggerAuthentication')) {
    for (const ref of (ta.inputs.spec.secretTargetRef ?? []) as Array<{ name: string; key: string; parameter: string }>) {
      if (!out.has(ref.name)) out.set(ref.name, new Map());
      out.get(ref.name)!.set(ref.key, `KEDA TriggerAuthentication ${ta.inputs.metadata.name} (${ref.parameter})`);
    }
  }
  return out;
}
