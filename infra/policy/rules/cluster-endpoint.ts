/**
 * The Kubernetes API of an EKS cluster is not open to the internet: the endpoint is private, or public
 * only for listed networks. AWS defaults `endpointPublicAccess` to true and `publicAccessCidrs` to
 * 0.0.0.0/0, so leaving either out is a violation too.
 */
import type { ResourceRule } from '../types.js';
import { at, label } from '../util.js';

const OPEN = /\/0$/;

/** EKS clusters: private endpoint, or a public one restricted to listed CIDRs, none of them /0. */
export const eksEndpointNotOpen: ResourceRule = {
  kind: 'resource',
  name: 'eks-endpoint-not-open',
  description: 'An EKS API endpoint is private, or public only for listed CIDRs (never 0.0.0.0/0 or ::/0); the private endpoint is on.',
  level: 'mandatory',
  check(r) {
    if (r.type !== 'aws:eks/cluster:Cluster') return [];
    const vpc = at(r.props, 'vpcConfig') ?? {};
    const problems: string[] = [];
    if (vpc.endpointPrivateAccess !== true) {
      problems.push(
        `${label(r)}: vpcConfig.endpointPrivateAccess: expected true (nodes and in-VPC runners reach the API privately), found ${JSON.stringify(vpc.endpointPrivateAccess ?? 'not set')}.`,
      );
    }
    if (vpc.endpointPublicAccess === false) return problems;
    const cidrs: unknown = vpc.publicAccessCidrs;
    if (!Array.isArray(cidrs) || cidrs.length === 0) {
      problems.push(
        `${label(r)}: vpcConfig.publicAccessCidrs: expected endpointPublicAccess false or a list of networks, found a public endpoint with ${Array.isArray(cidrs) ? 'an empty list' : 'no list'} (AWS opens it to 0.0.0.0/0).`,
      );
      return problems;
    }
    const open = cidrs.filter((c) => typeof c === 'string' && OPEN.test(c));
    if (open.length) {
      problems.push(`${label(r)}: vpcConfig.publicAccessCidrs: expected the networks that run kubectl/pulumi, found ${open.join(', ')} (the whole internet).`);
    }
    return problems;
  },
};
