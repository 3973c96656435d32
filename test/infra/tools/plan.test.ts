import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MockedResource } from '../../../infra/tools/mock-run.js';
import { loadPriceTable, pricesFor } from '../../../infra/pricing/index.js';
import { indexStack } from '../../../infra/tools/plan/tree.js';
import { estimateCost, DEFAULT_USAGE } from '../../../infra/tools/plan/cost.js';
import { cpuCores, rightsizingHints } from '../../../infra/tools/plan/hints.js';
import { inventory } from '../../../infra/tools/plan/inventory.js';
import { writeDiagram } from '../../../infra/tools/plan/diagram.js';
import { table } from '../../../infra/tools/plan/format.js';

const STACK = 'urn:pulumi:t::unified-mcp::pulumi:pulumi:Stack::unified-mcp-t';
const urn = (type: string, name: string) => `urn:pulumi:t::unified-mcp::${type}::${name}`;
function fixture(): MockedResource[] {
  const comp = (type: string, name: string, parent = STACK): MockedResource => ({ type, name, urn: urn(type, name), inputs: {}, parent, custom: false });
  const res = (type: string, name: string, parent: MockedResource, inputs: Record<string, any>): MockedResource => ({
    type,
    name,
    urn: urn(type, name),
    inputs,
    parent: parent.urn,
    custom: true,
  });
  const platform = comp('unified-mcp:regional:RegionalPlatform', 'umcp-t');
  const net = comp('unified-mcp:network:Network', 'umcp-t-net', platform.urn);
  const cluster = comp('unified-mcp:cluster:Cluster', 'umcp-t-eks', platform.urn);
  const db = comp('unified-mcp:database:Database', 'umcp-t-db', platform.urn);
  const app = comp('unified-mcp:app:App', 'umcp-t-app', platform.urn);
  return [
    { type: 'pulumi:pulumi:Stack', name: 'unified-mcp-t', urn: STACK, inputs: {}, custom: false },
    platform,
    net,
    cluster,
    db,
    app,
    res('aws:ec2/natGateway:NatGateway', 'nat-0', net, {}),
    res('aws:ec2/natGateway:NatGateway', 'nat-1', net, {}),
    res('aws:eks/cluster:Cluster', 'eks', cluster, {}),
    res('aws:eks/nodeGroup:NodeGroup', 'system', cluster, {
      instanceTypes: ['m6i.large'],
      capacityType: 'ON_DEMAND',
      labels: { 'umcp.io/pool': 'gateway' },
      scalingConfig: { desiredSize: 2, minSize: 2, maxSize: 3 },
    }),
    res('aws:eks/nodeGroup:NodeGroup', 'workers', cluster, {
      instanceTypes: ['m6i.large', 'm5.large'],
      capacityType: 'SPOT',
      labels: { role: 'worker' },
      scalingConfig: { desiredSize: 3, minSize: 0, maxSize: 10 },
    }),
    res('aws:rds/cluster:Cluster', 'aurora', db, {}),
    res('aws:rds/clusterInstance:ClusterInstance', 'writer', db, { instanceClass: 'db.r6g.large' }),
    res('aws:rds/proxy:Proxy', 'proxy', db, {}),
    res('aws:elasticache/replicationGroup:ReplicationGroup', 'state', db, { nodeType: 'cache.t4g.small', numCacheClusters: 2 }),
    res('aws:elasticache/replicationGroup:ReplicationGroup', 'exotic', db, { nodeType: 'cache.x9.huge', numCacheClusters: 2 }),
    res('kubernetes:apps/v1:Deployment', 'gateway', app, {
      metadata: { name: 'gateway' },
      spec: {
        replicas: 2,
        template: { spec: { nodeSelector: { 'umcp.io/pool': 'gateway' }, containers: [{ name: 'gw', resources: { requests: { cpu: '500m' } } }] } },
      },
    }),
    res('kubernetes:networking.k8s.io/v1:Ingress', 'gateway', app, { spec: { ingressClassName: 'alb' } }),
  ];
}

const prices = loadPriceTable();
const US = pricesFor(prices, 'us-east-1');
const H = prices.hoursPerMonth;
const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 0.011, `${a} != ${b}`);

describe('plan tools', () => {
  describe('price table', () => {
    it('names its date and source, and covers both regions', () => {
      assert.match(prices.compiledOn, /^\d{4}-\d{2}-\d{2}$/);
      assert.match(prices.source, /Price List/);
      for (const r of ['us-east-1', 'eu-west-1']) assert.ok(pricesFor(prices, r).ec2['m6i.large']);
      assert.throws(() => pricesFor(prices, 'ap-south-9'), /no prices for region "ap-south-9" \(it covers us-east-1, eu-west-1\)/);
    });
  });

  describe('component tree', () => {
    it('assigns each resource to its nearest component and builds the tree from parents', () => {
      const rs = fixture();
      const index = indexStack(rs);
      assert.equal(index.roots.length, 1);
      assert.equal(index.componentOf(rs.find((r) => r.name === 'writer')!), 'umcp-t-db');
      assert.equal(index.roots[0]!.children[0]!.children.length, 4);
    });
  });

  describe('estimateCost', () => {
    const rs = fixture();
    const est = estimateCost(rs, indexStack(rs), 'us-east-1', prices);
    const lineOf = (needle: string) => est.lines.find((l) => l.item.includes(needle))!;
    it('prices spot worker groups at spot as configured, on-demand groups at on-demand', () => {
      const workers = lineOf('"workers"');
      const avgSpot = (US.ec2['m6i.large']!.spot + US.ec2['m5.large']!.spot) / 2;
      near(workers.asConfigured, avgSpot * H * 3);
      near(workers.onDemand, US.ec2['m6i.large']!.onDemand * H * 3);
      const system = lineOf('"system"');
      near(system.asConfigured, US.ec2['m6i.large']!.onDemand * H * 2);
      near(system.committed, US.ec2['m6i.large']!.savingsPlan * H * 2);
    });
    it('prices databases, caches, NAT, EKS, the proxy and the controller-made ALB', () => {
      near(lineOf('Aurora instance').committed, US.auroraPostgres['db.r6g.large']!.reserved * H);
      near(lineOf('"state"').onDemand, US.elasticache['cache.t4g.small']!.onDemand * H * 2);
      near(lineOf('"nat-0"').onDemand, US.natGatewayHour * H + US.natGatewayGb * DEFAULT_USAGE.natGbPerGateway);
      near(lineOf('EKS control plane').onDemand, US.eksControlPlaneHour * H);
      near(lineOf('RDS Proxy').onDemand, US.rdsProxyVcpuHour * 2 * H);
      assert.match(lineOf('ALB for ingress').item, /AWS Load Balancer Controller/);
    });
    it('totals the columns and lists what it could not price', () => {
      near(
        est.totals.onDemand,
        est.lines.reduce((s, l) => s + l.onDemand, 0),
      );
      assert.ok(est.totals.asConfigured < est.totals.onDemand);
      assert.deepEqual(
        est.unpriced.map((u) => u.name),
        ['exotic'],
      );
      assert.match(est.unpriced[0]!.reason, /"cache.x9.huge" not in the price table/);
    });
    it('rightsizing hints name the extra NAT in dev, the spot share, node utilisation and the unpriced item', () => {
      const hints = rightsizingHints(rs, est, 'dev', prices);
      const natSaving = `$${(US.natGatewayHour * H).toFixed(2)}/month`;
      assert.ok(
        hints.some((h) => h.startsWith('dev runs 2 NAT gateways') && h.includes(natSaving)),
        hints.join('\n'),
      );
      assert.ok(hints.some((h) => /Spot share of worker nodes: 100% \(3 of 3\)/.test(h)));
      assert.ok(
        hints.some((h) => /Node group "system": gateway request 1\.0 vCPU .* gives 4 vCPU \(25%\)\. Oversized/.test(h)),
        hints.join('\n'),
      );
      assert.ok(hints.some((h) => /Aurora instance "writer" uses db.r6g.large in dev/.test(h)));
      assert.ok(hints.some((h) => /1 resource\(s\) could not be priced/.test(h)));
      assert.equal(
        rightsizingHints(rs, est, 'prod', prices).some((h) => /NAT/.test(h)),
        false,
      );
    });
    it('parses CPU quantities', () => {
      assert.equal(cpuCores('500m'), 0.5);
      assert.equal(cpuCores('2'), 2);
      assert.equal(cpuCores('lots'), undefined);
    });
  });

  describe('inventory and diagram', () => {
    it('groups resources by component with key properties', () => {
      const rs = fixture();
      const groups = inventory(rs, indexStack(rs));
      const cluster = groups.find((g) => g.component === 'umcp-t-eks')!;
      assert.equal(cluster.componentType, 'unified-mcp:cluster:Cluster');
      assert.deepEqual(cluster.items.find((i) => i.name === 'workers')!.props['capacityType'], 'SPOT');
    });
    it('writes an HTML page with one box per component and escaped names', () => {
      const rs = fixture();
      rs.push({ type: 'aws:s3/bucket:Bucket', name: '<script>', urn: urn('aws:s3/bucket:Bucket', 'x'), inputs: {}, parent: rs[2]!.urn, custom: true });
      const file = writeDiagram(join(mkdtempSync(join(tmpdir(), 'umcp-diagram-')), 'd', 't-diagram.html'), 't', indexStack(rs).roots, rs.length);
      const html = readFileSync(file, 'utf8');
      assert.equal((html.match(/<section class="comp/g) ?? []).length, 6); // stack + 5 components
      assert.ok(html.includes('&#60;script&#62;') && !html.includes('<script>'));
      const svg = /<svg[\s\S]*?<\/svg>/.exec(html)?.[0] ?? '';
      assert.equal((svg.match(/<rect /g) ?? []).length, 6, 'one SVG box per component');
      assert.equal((svg.match(/<line /g) ?? []).length, 5, 'one edge per parent link');
    });
    it('aligns table columns', () => {
      assert.equal(
        table(
          ['A', 'N'],
          [
            ['x', '1'],
            ['yy', '22'],
          ],
          [1],
        ),
        'A    N\n--  --\nx    1\nyy  22',
      );
    });
  });
});
