/** Kubernetes workload rules: container requests/limits, and disruption budgets for replicated Deployments. */
import type { PolicyTarget, ResourceRule, StackFinding, StackRule } from '../types.js';
import { at, label, workloadContainers } from '../util.js';

/**
 * Settings every container must have. A CPU limit is deliberately not required: CPU is compressible,
 * a limit only throttles (hurting latency), and the HPA scales on CPU requests.
 */
export const REQUIRED_RESOURCE_FIELDS = ['requests.cpu', 'requests.memory', 'limits.memory'] as const;

/** Every container and init container of a workload declares CPU/memory requests and a memory limit. */
export const containerResources: ResourceRule = {
  kind: 'resource',
  name: 'container-resources',
  description: 'Every container of a Deployment, StatefulSet, DaemonSet, Job or CronJob sets requests.cpu, requests.memory and limits.memory.',
  level: 'mandatory',
  check(r) {
    const containers = workloadContainers(r);
    if (!containers) return [];
    const problems: string[] = [];
    for (const c of containers) {
      const missing = REQUIRED_RESOURCE_FIELDS.filter((f) => {
        const v = at(c?.resources, f);
        return v === undefined || v === null || v === '';
      });
      if (missing.length) {
        problems.push(
          `${label(r)}: container "${c?.name ?? '?'}" resources: expected ${REQUIRED_RESOURCE_FIELDS.join(', ')}, missing ${missing.join(', ')} (found ${JSON.stringify(c?.resources ?? {})}).`,
        );
      }
    }
    return problems;
  },
};

const DEPLOYMENT = 'kubernetes:apps/v1:Deployment';
const PDB = 'kubernetes:policy/v1:PodDisruptionBudget';
const HPA_TYPES = new Set(['kubernetes:autoscaling/v2:HorizontalPodAutoscaler', 'kubernetes:autoscaling/v1:HorizontalPodAutoscaler']);
const SCALED_OBJECT = 'kubernetes:keda.sh/v1alpha1:ScaledObject';

/** Kubernetes object name: `metadata.name`, else the Pulumi logical name (auto-naming prefix). */
function objectName(r: PolicyTarget): string {
  const n = at(r.props, 'metadata.name');
  return typeof n === 'string' ? n : r.name;
}

function namespaceOf(r: PolicyTarget): string | undefined {
  const ns = at(r.props, 'metadata.namespace');
  return typeof ns === 'string' ? ns : undefined;
}

/** The least number of replicas a Deployment runs: max of `spec.replicas` and any autoscaler minimum targeting it. */
export function minReplicas(deployment: PolicyTarget, resources: readonly PolicyTarget[]): number {
  const name = objectName(deployment);
  const ns = namespaceOf(deployment);
  let min = typeof at(deployment.props, 'spec.replicas') === 'number' ? at(deployment.props, 'spec.replicas') : 1;
  for (const r of resources) {
    const isHpa = HPA_TYPES.has(r.type);
    if (!isHpa && r.type !== SCALED_OBJECT) continue;
    const target = at(r.props, 'spec.scaleTargetRef');
    if (target?.name !== name || (target?.kind ?? 'Deployment') !== 'Deployment') continue;
    const otherNs = namespaceOf(r);
    if (ns && otherNs && ns !== otherNs) continue;
    const m = isHpa ? (at(r.props, 'spec.minReplicas') ?? 1) : (at(r.props, 'spec.minReplicaCount') ?? 0);
    if (typeof m === 'number') min = Math.max(min, m);
  }
  return min;
}

function selects(pdb: PolicyTarget, podLabels: Record<string, unknown>): boolean {
  const match = at(pdb.props, 'spec.selector.matchLabels');
  if (!match || typeof match !== 'object' || Object.keys(match).length === 0) return false;
  return Object.entries(match).every(([k, v]) => podLabels[k] === v);
}

/** Every Deployment that runs more than one replica (replicas or autoscaler minimum) has a PDB selecting its pods. */
export const pdbForReplicatedDeployments: StackRule = {
  kind: 'stack',
  name: 'pdb-for-replicated-deployments',
  description: 'Every Deployment with more than one replica (spec.replicas or HPA/KEDA minimum) has a PodDisruptionBudget selecting its pods.',
  level: 'mandatory',
  check(resources) {
    const pdbs = resources.filter((r) => r.type === PDB);
    const findings: StackFinding[] = [];
    for (const d of resources.filter((r) => r.type === DEPLOYMENT)) {
      const replicas = minReplicas(d, resources);
      if (replicas <= 1) continue;
      const podLabels = (at(d.props, 'spec.template.metadata.labels') ?? {}) as Record<string, unknown>;
      const ns = namespaceOf(d);
      const covered = pdbs.some((p) => {
        const pns = namespaceOf(p);
        return (!ns || !pns || ns === pns) && selects(p, podLabels);
      });
      if (!covered) {
        findings.push({
          resource: d,
          message: `${label(d)}: runs ${replicas} replicas: expected a PodDisruptionBudget whose selector matches pod labels ${JSON.stringify(podLabels)}, found none${pdbs.length ? ` (${pdbs.length} PDB(s) select other pods)` : ''}.`,
        });
      }
    }
    return findings;
  },
};
