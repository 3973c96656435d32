/** Spot capacity is for the interruptible worker tier only; the base (system, gateway) stays on-demand. */
import type { PolicyTarget, ResourceRule } from '../types.js';
import { at, label, message } from '../util.js';

const NODE_GROUP = 'aws:eks/nodeGroup:NodeGroup';
const NODE_POOL = 'kubernetes:karpenter.sh/v1:NodePool';
const WORKER = /(^|[^a-z])workers?([^a-z]|$)/i;

/** True when the capacity is spot: node group `capacityType: SPOT`, or a Karpenter pool allowing `spot`. */
export function isSpotCapacity(r: PolicyTarget): boolean {
  if (r.type === NODE_GROUP) return r.props['capacityType'] === 'SPOT';
  if (r.type === NODE_POOL) {
    const reqs: any[] = at(r.props, 'spec.template.spec.requirements') ?? [];
    return reqs.some((q) => q?.key === 'karpenter.sh/capacity-type' && Array.isArray(q?.values) && q.values.includes('spot'));
  }
  return false;
}

function nodeLabels(r: PolicyTarget): Record<string, unknown> {
  return (r.type === NODE_GROUP ? r.props['labels'] : at(r.props, 'spec.template.metadata.labels')) ?? {};
}

function nodeTaints(r: PolicyTarget): any[] {
  const t = r.type === NODE_GROUP ? r.props['taints'] : at(r.props, 'spec.template.spec.taints');
  return Array.isArray(t) ? t : [];
}

/** A node group/pool is marked for workers when a label key or value, or its name, says "worker(s)". */
export function isMarkedForWorkers(r: PolicyTarget): boolean {
  const labels = Object.entries(nodeLabels(r));
  if (labels.some(([k, v]) => WORKER.test(k) || (typeof v === 'string' && WORKER.test(v)))) return true;
  const names = [r.name, r.props['nodeGroupName'], r.props['nodeGroupNamePrefix'], at(r.props, 'metadata.name')];
  return names.some((n) => typeof n === 'string' && WORKER.test(n));
}

/** Spot node groups / Karpenter pools must be labelled or named for workers. */
export const spotOnlyForWorkers: ResourceRule = {
  kind: 'resource',
  name: 'spot-only-for-workers',
  description: 'Spot capacity (EKS node groups with capacityType SPOT, Karpenter pools allowing spot) is labelled or named for workers.',
  level: 'mandatory',
  check(r) {
    if (!isSpotCapacity(r) || isMarkedForWorkers(r)) return [];
    return [message(r, 'spot capacity', 'a worker label (e.g. role=worker) or a name containing "worker"', { name: r.name, labels: nodeLabels(r) })];
  },
};

/** Spot worker capacity spreads over several instance types and repels non-worker pods with a taint. */
export const spotWorkerHygiene: ResourceRule = {
  kind: 'resource',
  name: 'spot-worker-hygiene',
  description: 'Spot node groups list at least two instance types (fewer interruptions) and carry a NoSchedule/NoExecute taint.',
  level: 'advisory',
  check(r) {
    if (r.type !== NODE_GROUP || !isSpotCapacity(r)) return [];
    const problems: string[] = [];
    const types = r.props['instanceTypes'];
    if (!Array.isArray(types) || types.length < 2) problems.push(message(r, 'instanceTypes', 'at least 2 instance types', types));
    if (!nodeTaints(r).some((t) => t?.effect === 'NO_SCHEDULE' || t?.effect === 'NO_EXECUTE')) {
      problems.push(
        `${label(r)}: taints: expected a NO_SCHEDULE taint so only worker pods (which tolerate it) land on spot, found ${JSON.stringify(nodeTaints(r))}.`,
      );
    }
    return problems;
  },
};
