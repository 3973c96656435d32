/**
 * An internet-facing ALB behind an edge (CDN/WAF) must not be reachable around it: its Ingress restricts
 * sources (`inbound-cidrs` without /0; the controller's default is 0.0.0.0/0) and/or requires a header
 * only the edge sends (`conditions.<service>` with an http-header condition on every backend).
 */
import type { ResourceRule } from '../types.js';
import { at, decoded, label } from '../util.js';

const INGRESS = 'kubernetes:networking.k8s.io/v1:Ingress';
const A = 'alb.ingress.kubernetes.io/';

/** Backend service names of an Ingress (rules and default backend). */
function backends(spec: any): string[] {
  const names = new Set<string>();
  const add = (b: any) => {
    const n = b?.service?.name;
    if (typeof n === 'string') names.add(n);
  };
  add(spec?.defaultBackend);
  for (const rule of Array.isArray(spec?.rules) ? spec.rules : []) {
    for (const p of Array.isArray(rule?.http?.paths) ? rule.http.paths : []) add(p?.backend);
  }
  return [...names];
}

function requiresHeader(annotations: Record<string, unknown>, service: string): boolean {
  const conditions = decoded(annotations[`${A}conditions.${service}`]);
  return (
    Array.isArray(conditions) &&
    conditions.some(
      (c) =>
        c?.field === 'http-header' &&
        typeof c?.httpHeaderConfig?.httpHeaderName === 'string' &&
        Array.isArray(c?.httpHeaderConfig?.values) &&
        c.httpHeaderConfig.values.length > 0,
    )
  );
}

/** Internet-facing ALB Ingresses admit only the edge: restricted sources and/or a required header. */
export const albOriginRestricted: ResourceRule = {
  kind: 'resource',
  name: 'alb-origin-restricted',
  description:
    'An internet-facing ALB Ingress restricts inbound-cidrs (no /0) and/or requires an http-header condition on every backend, so the edge (WAF, rate limits) cannot be bypassed.',
  level: 'mandatory',
  check(r) {
    if (r.type !== INGRESS) return [];
    const annotations = (at(r.props, 'metadata.annotations') ?? {}) as Record<string, unknown>;
    const className = at(r.props, 'spec.ingressClassName') ?? annotations['kubernetes.io/ingress.class'];
    if (className !== 'alb' || annotations[`${A}scheme`] !== 'internet-facing') return [];
    const cidrs =
      typeof annotations[`${A}inbound-cidrs`] === 'string'
        ? (annotations[`${A}inbound-cidrs`] as string)
            .split(',')
            .map((c) => c.trim())
            .filter(Boolean)
        : [];
    const restricted = cidrs.length > 0 && !cidrs.some((c) => /\/0$/.test(c));
    const services = backends(at(r.props, 'spec'));
    const unguarded = services.filter((s) => !requiresHeader(annotations, s));
    if (restricted || (services.length > 0 && unguarded.length === 0)) return [];
    const foundCidrs = cidrs.length ? cidrs.join(',') : 'no inbound-cidrs (the controller opens 0.0.0.0/0)';
    return [
      `${label(r)}: internet-facing ALB: expected ${A}inbound-cidrs limited to the edge's ranges and/or ${A}conditions.<service> with an http-header condition, found ${foundCidrs} and no header condition for ${unguarded.join(', ') || 'its backends'}.`,
    ];
  },
};
