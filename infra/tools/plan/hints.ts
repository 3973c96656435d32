/** Rightsizing hints: plain-language suggestions from the mocked resources and the cost estimate. */
import type { MockedResource } from '../mock-run.js';
import type { PriceTable } from '../../pricing/index.js';
import { pricesFor } from '../../pricing/index.js';
import { minReplicas } from '../../policy/rules/kubernetes.js';
import { isMarkedForWorkers } from '../../policy/rules/capacity.js';
import type { PolicyTarget } from '../../policy/types.js';
import type { CostEstimate } from './cost.js';

const usd = (n: number) => `$${n.toFixed(2)}`;
const target = (r: MockedResource): PolicyTarget => ({ type: r.type, name: r.name, props: r.inputs, urn: r.urn, parent: r.parent });

/** Kubernetes CPU quantity (`500m`, `1`, `0.5`) in cores; undefined when unparseable. */
export function cpuCores(q: unknown): number | undefined {
  if (typeof q === 'number') return q;
  if (typeof q !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(q.trim());
  if (!m) return undefined;
  return m[2] ? Number(m[1]) / 1000 : Number(m[1]);
}

/** CPU cores one pod of a workload requests (sum over its containers). */
export function podCores(workload: PolicyTarget): number {
  const containers: any[] = workload.props['spec']?.['template']?.['spec']?.['containers'] ?? [];
  return containers.reduce((s, c) => s + (cpuCores(c?.resources?.requests?.cpu) ?? 0), 0);
}

/** The next smaller size of an instance type (`m7g.xlarge` -> `m7g.large`), when there is one. */
export function halfSize(type: string): string | undefined {
  const [family, size] = type.split('.');
  const order = ['medium', 'large', 'xlarge', '2xlarge', '4xlarge', '8xlarge'];
  const i = order.indexOf(size ?? '');
  return i > 0 ? `${family}.${order[i - 1]}` : undefined;
}

/** Hints for one stack. `environment` is the stack's (dev, prod...). */
export function rightsizingHints(resources: readonly MockedResource[], estimate: CostEstimate, environment: string, table: PriceTable): string[] {
  const hints: string[] = [];
  const prices = pricesFor(table, estimate.region);
  const H = table.hoursPerMonth;
  const prod = environment === 'prod';

  const nats = resources.filter((r) => r.type === 'aws:ec2/natGateway:NatGateway');
  if (!prod && nats.length > 1) {
    hints.push(
      `${environment} runs ${nats.length} NAT gateways; one NAT is enough outside prod (network.natGateways: single) and saves about ${usd((nats.length - 1) * prices.natGatewayHour * H)}/month.`,
    );
  }

  const endpoints = resources.filter((r) => r.type === 'aws:ec2/vpcEndpoint:VpcEndpoint' && r.inputs['vpcEndpointType'] === 'Interface');
  if (!prod && endpoints.length > 0) {
    const azHours = endpoints.reduce((s, r) => s + (Array.isArray(r.inputs['subnetIds']) ? r.inputs['subnetIds'].length : 1), 0) * H;
    const cost = azHours * prices.vpcInterfaceEndpointAzHour;
    hints.push(
      `${endpoints.length} interface VPC endpoints cost ${usd(cost)}/month in ${environment}; below about ${Math.round(cost / prices.natGatewayGb)} GB/month of ECR/STS traffic, sending it through the NAT gateway is cheaper.`,
    );
  }

  const groups = resources.filter((r) => r.type === 'aws:eks/nodeGroup:NodeGroup');
  const size = (r: MockedResource) => r.inputs['scalingConfig']?.desiredSize ?? r.inputs['scalingConfig']?.minSize ?? 0;
  const workers = groups.filter((g) => isMarkedForWorkers(target(g)));
  const spotWorkerNodes = workers.filter((g) => g.inputs['capacityType'] === 'SPOT').reduce((s, g) => s + size(g), 0);
  const workerNodes = workers.reduce((s, g) => s + size(g), 0);
  if (workerNodes > 0) {
    const share = Math.round((100 * spotWorkerNodes) / workerNodes);
    hints.push(
      `Spot share of worker nodes: ${share}% (${spotWorkerNodes} of ${workerNodes}).` +
        (share < 100 ? ' Workers are interruptible (jobs retry), so running them all on spot saves money.' : ''),
    );
  }

  const deployments = resources.map(target).filter((t) => t.type === 'kubernetes:apps/v1:Deployment');
  const targets = resources.map(target);
  for (const g of groups) {
    const labels: Record<string, unknown> = g.inputs['labels'] ?? {};
    const mine = deployments.filter((d) => {
      const sel = d.props['spec']?.['template']?.['spec']?.['nodeSelector'];
      return sel && Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => labels[k] === v);
    });
    const known = ((g.inputs['instanceTypes'] ?? []) as string[]).filter((t) => prices.ec2[t]);
    if (mine.length === 0 || known.length === 0) continue;
    const requested = mine.reduce((s, d) => s + podCores(d) * minReplicas(d, targets), 0);
    const capacity = size(g) * (known.reduce((v, t) => v + prices.ec2[t]!.vcpu, 0) / known.length);
    if (capacity === 0 || requested === 0) continue;
    const pct = Math.round((100 * requested) / capacity);
    const names = mine.map((d) => d.props['metadata']?.['name'] ?? d.name).join(', ');
    const base = `Node group "${g.name}": ${names} request ${requested.toFixed(1)} vCPU at minimum replicas (HPA/KEDA min), the group's desired size gives ${capacity.toFixed(0)} vCPU (${pct}%).`;
    if (pct < 40) {
      const smaller = known.map(halfSize).filter((t): t is string => t !== undefined && prices.ec2[t] !== undefined);
      const k = g.inputs['capacityType'] === 'SPOT' ? 'spot' : 'onDemand';
      const avg = (ts: string[]) => ts.reduce((v, t) => v + prices.ec2[t]![k], 0) / ts.length;
      const save = smaller.length ? (avg(known) - avg(smaller)) * size(g) * H : 0;
      hints.push(
        `${base} Oversized: use ${smaller.length ? smaller.join('/') : 'a smaller instance size'} or a lower desiredSize; the cluster autoscaler adds nodes when pods scale out${save > 0 ? ` (about ${usd(save)}/month less at ${k === 'spot' ? 'spot' : 'on-demand'} prices)` : ''}.`,
      );
    } else if (pct > 90) {
      hints.push(`${base} Little headroom: raise desiredSize so a rollout or a node loss does not leave pods pending.`);
    } else {
      hints.push(base);
    }
  }

  if (groups.length === 0) {
    const cores = deployments.reduce((s, d) => s + podCores(d) * minReplicas(d, targets), 0);
    if (cores > 0)
      hints.push(
        `No node groups in this stack (it deploys onto an existing cluster, not priced here): its Deployments request ${cores.toFixed(1)} vCPU at minimum replicas; size that cluster for it.`,
      );
  }

  if (!prod) {
    for (const db of resources.filter((r) => r.type === 'aws:rds/clusterInstance:ClusterInstance')) {
      const cls = db.inputs['instanceClass'];
      if (typeof cls === 'string' && !cls.startsWith('db.t') && prices.auroraPostgres['db.t4g.medium']) {
        const save = ((prices.auroraPostgres[cls]?.onDemand ?? 0) - prices.auroraPostgres['db.t4g.medium'].onDemand) * H;
        if (save > 0) hints.push(`Aurora instance "${db.name}" uses ${cls} in ${environment}; db.t4g.medium would save about ${usd(save)}/month.`);
      }
    }
  }

  const base = estimate.lines.filter((l) => l.asConfigured === l.onDemand && l.committed < l.onDemand);
  const saving = base.reduce((s, l) => s + (l.onDemand - l.committed), 0);
  if (saving > 0 && prod) {
    const baseCost = base.reduce((s, l) => s + l.onDemand, 0);
    hints.push(
      `The always-on base (on-demand nodes, Aurora, ElastiCache) costs ${usd(baseCost)}/month; a 1-year Savings Plan and reserved nodes would save about ${usd(saving)}/month (${Math.round((100 * saving) / baseCost)}%).`,
    );
  }
  if (estimate.unpriced.length) {
    hints.push(`${estimate.unpriced.length} resource(s) could not be priced (see "Not priced"); add their types to the price table.`);
  }
  return hints;
}
