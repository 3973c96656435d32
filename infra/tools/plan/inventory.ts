/** The inventory of a mocked stack: each resource with the few properties a reviewer looks at first. */
import type { MockedResource } from '../mock-run.js';
import type { StackIndex } from './tree.js';
import { isComponent } from './tree.js';

/** Input paths worth showing, per resource type. */
const KEY_PROPS: Record<string, string[]> = {
  'aws:ec2/vpc:Vpc': ['cidrBlock'],
  'aws:ec2/subnet:Subnet': ['cidrBlock', 'availabilityZone', 'mapPublicIpOnLaunch'],
  'aws:ec2/natGateway:NatGateway': ['subnetId'],
  'aws:ec2/vpcEndpoint:VpcEndpoint': ['serviceName', 'vpcEndpointType'],
  'aws:eks/cluster:Cluster': ['version', 'vpcConfig.endpointPrivateAccess', 'vpcConfig.endpointPublicAccess', 'encryptionConfig.resources'],
  'aws:eks/nodeGroup:NodeGroup': ['capacityType', 'instanceTypes', 'scalingConfig', 'labels'],
  'aws:rds/globalCluster:GlobalCluster': ['engine', 'engineVersion', 'storageEncrypted', 'deletionProtection'],
  'aws:rds/cluster:Cluster': ['engine', 'engineVersion', 'storageEncrypted', 'deletionProtection', 'backupRetentionPeriod'],
  'aws:rds/clusterInstance:ClusterInstance': ['instanceClass', 'publiclyAccessible'],
  'aws:rds/proxy:Proxy': ['engineFamily', 'requireTls'],
  'aws:elasticache/replicationGroup:ReplicationGroup': [
    'nodeType',
    'numCacheClusters',
    'multiAzEnabled',
    'automaticFailoverEnabled',
    'transitEncryptionEnabled',
    'atRestEncryptionEnabled',
  ],
  'aws:s3/bucket:Bucket': ['bucket'],
  'kubernetes:apps/v1:Deployment': [
    'metadata.namespace',
    'spec.replicas',
    'spec.template.spec.containers.0.image',
    'spec.template.spec.containers.0.resources.requests',
  ],
  'kubernetes:autoscaling/v2:HorizontalPodAutoscaler': ['spec.minReplicas', 'spec.maxReplicas'],
  'kubernetes:policy/v1:PodDisruptionBudget': ['spec.minAvailable', 'spec.maxUnavailable'],
  'kubernetes:networking.k8s.io/v1:Ingress': ['spec.ingressClassName', 'spec.rules.0.host'],
  'kubernetes:keda.sh/v1alpha1:ScaledObject': ['spec.minReplicaCount', 'spec.maxReplicaCount'],
};

/** One row of the inventory. */
export interface InventoryItem {
  readonly type: string;
  readonly name: string;
  readonly props: Record<string, unknown>;
}
/** Rows grouped by the component that creates them. */
export interface InventoryGroup {
  readonly component: string;
  readonly componentType: string;
  readonly items: InventoryItem[];
}

function at(obj: unknown, path: string): unknown {
  return path.split('.').reduce<any>((o, k) => (o === undefined || o === null ? undefined : o[k]), obj);
}

/** The key properties of one resource: the curated ones, else up to three scalar inputs. */
export function keyProps(r: MockedResource): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const paths = KEY_PROPS[r.type];
  if (paths) {
    for (const p of paths) {
      const v = at(r.inputs, p);
      if (v !== undefined) out[p] = v;
    }
    return out;
  }
  for (const [k, v] of Object.entries(r.inputs)) {
    if (Object.keys(out).length >= 3) break;
    if (k !== 'tags' && ['string', 'number', 'boolean'].includes(typeof v) && String(v).length <= 60) out[k] = v;
  }
  return out;
}

/** Groups the provider-backed resources by component, in registration order. */
export function inventory(resources: readonly MockedResource[], index: StackIndex): InventoryGroup[] {
  const groups = new Map<string, InventoryGroup>();
  const typeOf = new Map(resources.filter(isComponent).map((c) => [c.name, c.type]));
  for (const r of resources) {
    if (r.custom === false || r.type.startsWith('pulumi:providers:')) continue;
    const component = index.componentOf(r);
    let g = groups.get(component);
    if (!g) groups.set(component, (g = { component, componentType: typeOf.get(component) ?? 'pulumi:pulumi:Stack', items: [] }));
    g.items.push({ type: r.type, name: r.name, props: keyProps(r) });
  }
  return [...groups.values()];
}
