import * as k8s from '@pulumi/kubernetes';
import type * as pulumi from '@pulumi/pulumi';
import { TIER_PORTS, tierLabels } from './types.js';

/** Who may talk to whom. */
export interface NetworkPolicyArgs {
  readonly name: string;
  readonly namespace: pulumi.Input<string>;
  /** CIDRs the load balancer reaches the gateway pods from (ALB in IP mode: the VPC). @defaultValue [] */
  readonly ingressSourceCidrs?: string[];
  /** Namespaces of in-cluster ingress controllers allowed to the gateway. @defaultValue ["ingress-nginx"] */
  readonly ingressNamespaces?: string[];
  /** Namespace of Prometheus (scrapes /metrics). @defaultValue "monitoring" */
  readonly monitoringNamespace?: string;
  /** CIDRs of PostgreSQL and Redis. */
  readonly dataCidrs: string[];
  /** Ports open to anywhere for upstream MCP servers, S3, STS and the Kubernetes API. @defaultValue [443, 80] */
  readonly egressPorts?: number[];
  readonly opts: pulumi.CustomResourceOptions;
}

const partOf = { matchLabels: { 'app.kubernetes.io/part-of': 'unified-mcp' } };
const nsSelector = (ns: string) => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } } });

/** Default deny for the namespace, then the allows the platform needs. */
export function networkPolicies(a: NetworkPolicyArgs): k8s.networking.v1.NetworkPolicy[] {
  const np = (id: string, spec: k8s.types.input.networking.v1.NetworkPolicySpec) =>
    new k8s.networking.v1.NetworkPolicy(
      `${a.name}-${id}`,
      {
        metadata: { name: `umcp-${id}`, namespace: a.namespace, labels: { 'app.kubernetes.io/part-of': 'unified-mcp' } },
        spec,
      },
      a.opts,
    );
  const http = [{ protocol: 'TCP', port: 'http' }];
  return [
    np('default-deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
    np('allow-dns', {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{ ...nsSelector('kube-system'), podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
      ],
    }),
    np('gateway-ingress', {
      podSelector: { matchLabels: tierLabels('gateway') },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [...(a.ingressSourceCidrs ?? []).map((cidr) => ({ ipBlock: { cidr } })), ...(a.ingressNamespaces ?? ['ingress-nginx']).map(nsSelector)],
          ports: http,
        },
      ],
    }),
    np('allow-metrics-scrape', {
      podSelector: partOf,
      policyTypes: ['Ingress'],
      // Each tier's metrics port (gateway `http`, worker `metrics`); a named port matches only pods declaring it.
      ingress: [
        {
          from: [nsSelector(a.monitoringNamespace ?? 'monitoring')],
          ports: [...new Set(Object.values(TIER_PORTS).map((p) => p.name))].map((port) => ({ protocol: 'TCP', port })),
        },
      ],
    }),
    np('app-egress', {
      podSelector: partOf,
      policyTypes: ['Egress'],
      egress: [
        {
          to: a.dataCidrs.map((cidr) => ({ ipBlock: { cidr } })),
          ports: [
            { protocol: 'TCP', port: 5432 },
            { protocol: 'TCP', port: 6379 },
          ],
        },
        { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: (a.egressPorts ?? [443, 80]).map((port) => ({ protocol: 'TCP', port })) },
      ],
    }),
  ];
}
