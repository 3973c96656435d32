/**
 * Monthly cost estimate of a mocked stack from the committed price table. Prices what the program
 * creates (EC2 node groups, Aurora, ElastiCache, NAT, EKS, S3, load balancers, endpoints, KMS); usage-driven
 * charges (data processed, storage) use the stated assumptions. Not priced: data transfer between regions
 * and to the internet, CloudWatch, EBS volumes of nodes, Cloudflare.
 */
import type { MockedResource } from '../mock-run.js';
import type { PriceTable, RegionPrices } from '../../pricing/index.js';
import { pricesFor } from '../../pricing/index.js';
import type { StackIndex } from './tree.js';

/** Usage the price of some items depends on; printed with the estimate. */
export interface UsageAssumptions {
  /** GB processed per NAT gateway per month. @defaultValue 100 */
  readonly natGbPerGateway: number;
  /** GB stored per S3 bucket. @defaultValue 50 */
  readonly s3GbPerBucket: number;
  /** GB stored per Aurora cluster. @defaultValue 50 */
  readonly auroraGbPerCluster: number;
  /** Load balancer capacity units per ALB, averaged over the month. @defaultValue 1 */
  readonly albLcu: number;
}

export const DEFAULT_USAGE: UsageAssumptions = { natGbPerGateway: 100, s3GbPerBucket: 50, auroraGbPerCluster: 50, albLcu: 1 };

/** One priced line; the three price columns are USD per month. */
export interface CostLine {
  readonly component: string;
  /** What is billed, e.g. `EKS node group "workers"`. */
  readonly item: string;
  /** Quantity and unit, e.g. `3 x m6i.large`. */
  readonly quantity: string;
  /** Everything on-demand. */
  readonly onDemand: number;
  /** EC2 on spot; items without a spot market stay on-demand. */
  readonly spot: number;
  /** EC2 under a 1-yr Savings Plan, Aurora/ElastiCache reserved; others on-demand. */
  readonly committed: number;
  /** What the stack as configured would pay (spot node groups at spot, the rest on-demand). */
  readonly asConfigured: number;
}

/** A resource the estimate could not price, and why. */
export interface Unpriced {
  readonly type: string;
  readonly name: string;
  readonly reason: string;
}

/** The estimate of one stack. */
export interface CostEstimate {
  readonly region: string;
  readonly lines: CostLine[];
  readonly totals: { onDemand: number; spot: number; committed: number; asConfigured: number };
  readonly unpriced: Unpriced[];
  readonly assumptions: string[];
  readonly priceTable: { compiledOn: string; pricesAsOf: string; source: string };
}

const round = (n: number) => Math.round(n * 100) / 100;

function line(component: string, item: string, quantity: string, od: number, spot = od, committed = od, asConfigured = od): CostLine {
  return { component, item, quantity, onDemand: round(od), spot: round(spot), committed: round(committed), asConfigured: round(asConfigured) };
}

function count(r: MockedResource): number {
  const sc = r.inputs['scalingConfig'];
  const n = sc?.desiredSize ?? sc?.minSize;
  return typeof n === 'number' ? n : 1;
}

/** Nodes of an ElastiCache replication group. */
export function cacheNodes(r: MockedResource): number {
  const p = r.inputs;
  if (typeof p['numCacheClusters'] === 'number') return p['numCacheClusters'];
  const groups = typeof p['numNodeGroups'] === 'number' ? p['numNodeGroups'] : 1;
  const replicas = typeof p['replicasPerNodeGroup'] === 'number' ? p['replicasPerNodeGroup'] : 0;
  return groups * (replicas + 1);
}

function isAlbIngress(r: MockedResource): boolean {
  const p = r.inputs;
  return p['spec']?.['ingressClassName'] === 'alb' || p['metadata']?.['annotations']?.['kubernetes.io/ingress.class'] === 'alb';
}

/** Prices the resources of one stack in `region`. */
export function estimateCost(
  resources: readonly MockedResource[],
  index: StackIndex,
  region: string,
  table: PriceTable,
  usage: UsageAssumptions = DEFAULT_USAGE,
): CostEstimate {
  const p: RegionPrices = pricesFor(table, region);
  const H = table.hoursPerMonth;
  const lines: CostLine[] = [];
  const unpriced: Unpriced[] = [];
  const albGroups = new Set<string>();
  for (const r of resources) {
    const c = index.componentOf(r);
    const i = r.inputs;
    switch (r.type) {
      case 'aws:eks/cluster:Cluster':
        lines.push(line(c, `EKS control plane "${r.name}"`, `${H} h`, p.eksControlPlaneHour * H));
        break;
      case 'aws:eks/nodeGroup:NodeGroup': {
        const types: string[] = Array.isArray(i['instanceTypes']) ? i['instanceTypes'] : [];
        const known = types.filter((t) => p.ec2[t]);
        if (known.length === 0) {
          unpriced.push({ type: r.type, name: r.name, reason: `instance types ${JSON.stringify(types)} not in the price table` });
          break;
        }
        const avg = (k: 'onDemand' | 'spot' | 'savingsPlan') => known.reduce((s, t) => s + p.ec2[t]![k], 0) / known.length;
        const n = count(r);
        const spot = i['capacityType'] === 'SPOT';
        const od = avg('onDemand') * H * n;
        const sp = avg('spot') * H * n;
        const label = known.length > 1 ? `${known[0]} (+${known.length - 1} types, avg)` : known[0]!;
        lines.push(
          line(c, `EKS node group "${r.name}" (${spot ? 'spot' : 'on-demand'})`, `${n} x ${label}`, od, sp, avg('savingsPlan') * H * n, spot ? sp : od),
        );
        break;
      }
      case 'aws:rds/clusterInstance:ClusterInstance':
      case 'aws:rds/instance:Instance': {
        const cls = i['instanceClass'];
        const price = typeof cls === 'string' ? p.auroraPostgres[cls] : undefined;
        if (!price) {
          unpriced.push({ type: r.type, name: r.name, reason: `instance class ${JSON.stringify(cls)} not in the price table` });
          break;
        }
        lines.push(line(c, `Aurora instance "${r.name}"`, `1 x ${cls}`, price.onDemand * H, price.onDemand * H, price.reserved * H));
        break;
      }
      case 'aws:rds/cluster:Cluster':
        lines.push(line(c, `Aurora storage "${r.name}"`, `${usage.auroraGbPerCluster} GB (assumed)`, p.auroraStorageGbMonth * usage.auroraGbPerCluster));
        break;
      case 'aws:rds/proxy:Proxy': {
        // The instances behind this proxy: siblings named like it (`<shard>-proxy` -> `<shard>-*`), else all siblings.
        const siblings = resources.filter((o) => o.parent === r.parent && o.type === 'aws:rds/clusterInstance:ClusterInstance');
        const prefix = `${r.name.replace(/-[^-]+$/, '')}-`;
        const mine = siblings.some((o) => o.name.startsWith(prefix)) ? siblings.filter((o) => o.name.startsWith(prefix)) : siblings;
        const vcpu = mine.reduce((s, o) => s + (p.auroraPostgres[o.inputs['instanceClass']]?.vcpu ?? 0), 0);
        const billed = Math.max(2, vcpu); // RDS Proxy bills the vCPUs of the instances behind it, minimum 2
        lines.push(line(c, `RDS Proxy "${r.name}"`, `${billed} vCPU`, p.rdsProxyVcpuHour * billed * H));
        break;
      }
      case 'aws:elasticache/replicationGroup:ReplicationGroup': {
        const nodeType = i['nodeType'];
        const price = typeof nodeType === 'string' ? p.elasticache[nodeType] : undefined;
        if (!price) {
          unpriced.push({ type: r.type, name: r.name, reason: `node type ${JSON.stringify(nodeType)} not in the price table` });
          break;
        }
        const n = cacheNodes(r);
        lines.push(line(c, `ElastiCache "${r.name}"`, `${n} x ${nodeType}`, price.onDemand * H * n, price.onDemand * H * n, price.reserved * H * n));
        break;
      }
      case 'aws:ec2/natGateway:NatGateway':
        lines.push(
          line(c, `NAT gateway "${r.name}"`, `${H} h + ${usage.natGbPerGateway} GB (assumed)`, p.natGatewayHour * H + p.natGatewayGb * usage.natGbPerGateway),
        );
        break;
      case 'aws:s3/bucket:Bucket':
      case 'aws:s3/bucketV2:BucketV2':
        lines.push(line(c, `S3 bucket "${r.name}"`, `${usage.s3GbPerBucket} GB (assumed)`, p.s3StandardGbMonth * usage.s3GbPerBucket));
        break;
      case 'aws:lb/loadBalancer:LoadBalancer':
      case 'aws:alb/loadBalancer:LoadBalancer':
        lines.push(line(c, `Load balancer "${r.name}"`, `${H} h + ${usage.albLcu} LCU (assumed)`, (p.albHour + p.albLcuHour * usage.albLcu) * H));
        break;
      case 'kubernetes:networking.k8s.io/v1:Ingress': {
        if (!isAlbIngress(r)) break;
        const group = i['metadata']?.['annotations']?.['alb.ingress.kubernetes.io/group.name'] ?? r.name;
        if (albGroups.has(group)) break;
        albGroups.add(group);
        lines.push(
          line(
            c,
            `ALB for ingress "${r.name}" (created by the AWS Load Balancer Controller)`,
            `${H} h + ${usage.albLcu} LCU (assumed)`,
            (p.albHour + p.albLcuHour * usage.albLcu) * H,
          ),
        );
        break;
      }
      case 'aws:ec2/vpcEndpoint:VpcEndpoint': {
        if (i['vpcEndpointType'] !== 'Interface') break; // gateway endpoints (S3, DynamoDB) are free
        const azs = Array.isArray(i['subnetIds']) ? i['subnetIds'].length : 1;
        lines.push(line(c, `Interface endpoint "${r.name}"`, `${azs} AZ x ${H} h`, p.vpcInterfaceEndpointAzHour * azs * H));
        break;
      }
      case 'aws:kms/key:Key':
        lines.push(line(c, `KMS key "${r.name}"`, '1 key', p.kmsKeyMonth));
        break;
      default:
        break;
    }
  }
  lines.sort((a, b) => a.component.localeCompare(b.component)); // stable: keeps creation order within a component
  const sum = (k: keyof CostEstimate['totals']) => round(lines.reduce((s, l) => s + l[k], 0));
  return {
    region,
    lines,
    totals: { onDemand: sum('onDemand'), spot: sum('spot'), committed: sum('committed'), asConfigured: sum('asConfigured') },
    unpriced,
    assumptions: [
      `${H} hours per month; USD list prices for ${region}.`,
      `NAT: ${usage.natGbPerGateway} GB processed per gateway; S3: ${usage.s3GbPerBucket} GB per bucket; Aurora: ${usage.auroraGbPerCluster} GB per cluster; ALB: ${usage.albLcu} LCU.`,
      'Not included: data transfer (inter-region replication, internet egress), CloudWatch, node EBS volumes, Cloudflare.',
    ],
    priceTable: { compiledOn: table.compiledOn, pricesAsOf: table.pricesAsOf, source: table.source },
  };
}
