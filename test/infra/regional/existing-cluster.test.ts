/**
 * The dev stack (`cluster.mode: existing`): the existing cluster's pods reach the data stores in this
 * stack's VPC through a VPC peering with routes both ways, and the security groups admit their CIDRs.
 */
import assert from 'node:assert/strict';
import { regionalConfigSchema } from '../../../infra/regional/config-schema.js';
import { checkExistingClusterPeeringArgs } from '../../../infra/regional/network/existing-cluster.js';
import { cidrsOverlap } from '../../../infra/regional/network/cidr.js';
import { readStackConfig } from '../../../infra/tools/mock-run.js';
import { ofType, one, runStack } from '../support/stacks.js';

const dev = readStackConfig('dev');
const existing = (dev['unified-mcp:cluster'] as { existing: { vpcId: string; sourceCidrs: string[]; routeTableIds: string[] } }).existing;
const dataVpc = (dev['unified-mcp:network'] as { cidr: string }).cidr;

describe('existing cluster network path (dev)', () => {
  it("the database and cache security groups admit the cluster's source CIDRs besides the data VPC", async () => {
    const r = await runStack('dev');
    const sgs = ofType(r, 'aws:ec2/securityGroup:SecurityGroup').filter((sg) =>
      (sg.inputs.ingress ?? []).some((i: { fromPort: number }) => [5432, 6379].includes(i.fromPort)),
    );
    assert.equal(sgs.length, 2, 'database and cache security groups');
    for (const sg of sgs) {
      const cidrs = sg.inputs.ingress.flatMap((i: { cidrBlocks: string[] }) => i.cidrBlocks);
      for (const c of [dataVpc, ...existing.sourceCidrs]) assert.ok(cidrs.includes(c), `${sg.name} admits ${c}, found ${cidrs.join(', ')}`);
    }
  });

  it('peers the data VPC with the cluster VPC and routes both ways', async () => {
    const r = await runStack('dev');
    const peering = one(r, 'aws:ec2/vpcPeeringConnection:VpcPeeringConnection', '-cluster-peering-peering');
    assert.equal(peering.inputs.peerVpcId, existing.vpcId);
    assert.equal(peering.inputs.autoAccept, true);
    const routes = ofType(r, 'aws:ec2/route:Route').filter((x) => x.name.includes('-cluster-peering-'));
    const back = routes.filter((x) => x.inputs.destinationCidrBlock === dataVpc);
    assert.deepEqual(back.map((x) => x.inputs.routeTableId).sort(), [...existing.routeTableIds].sort(), 'cluster subnets route back to the data VPC');
    const privateTables = ofType(r, 'aws:ec2/routeTable:RouteTable').filter((t) => t.inputs.tags?.tier !== 'public' && !t.name.includes('public'));
    const out = routes.filter((x) => existing.sourceCidrs.includes(x.inputs.destinationCidrBlock));
    assert.ok(
      out.length >= 1 && out.length === privateTables.length * existing.sourceCidrs.length,
      `every private route table routes to the cluster (${out.length})`,
    );
  });

  it("lets the pods' egress policy reach the data VPC", async () => {
    const r = await runStack('dev');
    const egress = one(r, 'kubernetes:networking.k8s.io/v1:NetworkPolicy', '-app-egress').inputs.spec.egress;
    const data = egress.find((e: { ports: { port: number }[] }) => e.ports.some((p) => p.port === 5432));
    assert.ok(data.to.some((t: { ipBlock: { cidr: string } }) => t.ipBlock.cidr === dataVpc));
  });

  it("config: mode existing needs the cluster's network; ranges must not overlap", () => {
    const base = {
      role: 'regional',
      environment: 'dev',
      region: 'us-east-1',
      network: { cidr: '10.10.0.0/16' },
      storage: { bucketPrefix: 'umcp-x' },
      app: { hostname: 'a.example.com', gateway: { image: 'registry.k8s.io/pause:3.10' }, worker: { image: 'registry.k8s.io/pause:3.10' } },
    };
    const issues = (cluster: unknown) => JSON.stringify(regionalConfigSchema.safeParse({ ...base, cluster }).error?.issues ?? []);
    assert.match(issues({ mode: 'existing' }), /required with mode \\"existing\\"/);
    assert.match(
      issues({ mode: 'existing', existing: { vpcId: 'vpc-0a1b2c3d4e5f60789', sourceCidrs: ['10.0.0.0/16'] } }),
      /routeTableIds.*required with vpcId/,
    );
    assert.match(issues({ mode: 'existing', existing: { sourceCidrs: ['10.10.128.0/17'] } }), /overlaps network.cidr/);
    assert.equal(issues({ mode: 'existing', existing: { sourceCidrs: ['10.0.0.0/16'] } }), '[]', "without vpcId: connectivity is the operator's");
    assert.ok(cidrsOverlap('10.0.0.0/8', '10.10.0.0/16') && !cidrsOverlap('10.0.0.0/16', '10.10.0.0/16'));
    assert.match(
      checkExistingClusterPeeringArgs({
        vpcId: 'v',
        cidr: '10.10.0.0/16',
        routeTableIds: [],
        clusterVpcId: 'c',
        clusterCidrs: ['10.0.0.0/16'],
        clusterRouteTableIds: [],
      })!,
      /clusterRouteTableIds/,
    );
  });
});
