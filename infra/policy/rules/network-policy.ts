/**
 * NetworkPolicies only protect when the cluster's network plugin enforces them. On EKS the VPC CNI does so
 * only with `enableNetworkPolicy` in the vpc-cni add-on's configuration values (VPC CNI >= v1.14); on a
 * cluster the stack does not create, the program cannot tell, so that case is reported as advisory.
 */
import type { PolicyTarget, StackFinding, StackRule } from '../types.js';
import { decoded, label } from '../util.js';

const NETWORK_POLICY = 'kubernetes:networking.k8s.io/v1:NetworkPolicy';
const EKS_CLUSTER = 'aws:eks/cluster:Cluster';
const EKS_ADDON = 'aws:eks/addon:Addon';

/** Oldest VPC CNI with the network policy agent. */
export const MIN_VPC_CNI_FOR_NETWORK_POLICY = [1, 14, 0] as const;

/** `v1.19.2-eksbuild.1` → [1, 19, 2]; undefined when not a version. */
function versionOf(v: unknown): number[] | undefined {
  const m = typeof v === 'string' ? /^v?(\d+)\.(\d+)\.(\d+)/.exec(v) : null;
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

function atLeast(v: number[], min: readonly number[]): boolean {
  for (let i = 0; i < min.length; i++) {
    if (v[i]! !== min[i]!) return v[i]! > min[i]!;
  }
  return true;
}

/** Problems with one vpc-cni add-on, as "expected ..., found ..." fragments. */
function vpcCniProblems(addon: PolicyTarget): string[] {
  const problems: string[] = [];
  const values = decoded(addon.props['configurationValues']);
  const flag = values && typeof values === 'object' ? (values as Record<string, unknown>)['enableNetworkPolicy'] : undefined;
  if (flag !== 'true' && flag !== true) {
    problems.push(`${label(addon)}: configurationValues.enableNetworkPolicy: expected "true", found ${flag === undefined ? 'not set' : JSON.stringify(flag)}.`);
  }
  const version = addon.props['addonVersion'];
  const parsed = versionOf(version);
  if (version !== undefined && version !== null && (!parsed || !atLeast(parsed, MIN_VPC_CNI_FOR_NETWORK_POLICY))) {
    problems.push(
      `${label(addon)}: addonVersion: expected v${MIN_VPC_CNI_FOR_NETWORK_POLICY.join('.')} or later (network policy agent), found ${JSON.stringify(version)}.`,
    );
  }
  return problems;
}

/** A stack that creates an EKS cluster and declares NetworkPolicies has a vpc-cni add-on that enforces them. */
export const networkPolicyEnforced: StackRule = {
  kind: 'stack',
  name: 'network-policy-enforced',
  description: 'When a stack creates EKS and declares NetworkPolicies, its vpc-cni add-on sets enableNetworkPolicy "true" (VPC CNI >= v1.14).',
  level: 'mandatory',
  check(resources) {
    const policies = resources.filter((r) => r.type === NETWORK_POLICY);
    const clusters = resources.filter((r) => r.type === EKS_CLUSTER);
    if (policies.length === 0 || clusters.length === 0) return [];
    const cnis = resources.filter((r) => r.type === EKS_ADDON && r.props['addonName'] === 'vpc-cni');
    if (cnis.length === 0) {
      return clusters.map((c) => ({
        resource: c,
        message: `${label(c)}: ${policies.length} NetworkPolicies declared: expected a vpc-cni add-on with configurationValues {"enableNetworkPolicy":"true"}, found no vpc-cni add-on (the self-managed CNI does not enforce them).`,
      }));
    }
    return cnis.flatMap((a): StackFinding[] => vpcCniProblems(a).map((message) => ({ resource: a, message })));
  },
};

/** NetworkPolicies on a cluster the stack does not create: enforcement is a prerequisite nobody checked. */
export const networkPolicyOnUnmanagedCluster: StackRule = {
  kind: 'stack',
  name: 'network-policy-on-unmanaged-cluster',
  description: "NetworkPolicies deployed onto a cluster the stack does not create are enforced only if that cluster's CNI does (docs/infra.md prerequisites).",
  level: 'advisory',
  check(resources) {
    const policies = resources.filter((r) => r.type === NETWORK_POLICY);
    if (policies.length === 0 || resources.some((r) => r.type === EKS_CLUSTER)) return [];
    return [
      {
        resource: policies[0]!,
        message: `${label(policies[0]!)} and ${policies.length - 1} more: target an existing cluster: expected its CNI to enforce NetworkPolicy (EKS: vpc-cni add-on with enableNetworkPolicy "true"; or Calico/Cilium), found nothing this stack can verify; check it before the first deploy (docs/infra.md).`,
      },
    ];
  },
};
