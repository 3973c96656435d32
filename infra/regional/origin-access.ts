/**
 * Origin access of a region's internet-facing ALB: sources limited to the edge's published ranges, and a
 * secret header the edge adds that every listener rule requires (docs/edge.md, "Origin access").
 * Rotation without downtime: secret `v<n>` is current and `v<n-1>` stays accepted, so bumping
 * `app.originAccess.secretVersion` and running the regional stack, then the global one, never rejects
 * the edge. Leaves out: the edge side (infra/global/origin-auth.ts).
 */
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import type { RegionalConfig } from '../config.js';
import { defaultOriginCidrs, originAuthHeader, type OriginAuth } from '../global/origin-access.js';
import type { IngressArgs } from './app/workloads.js';

/** What the ingress and the stack outputs get. */
export interface OriginAccess {
  readonly ingress: Pick<IngressArgs, 'inboundCidrs' | 'requiredHeader'>;
  /** The header and its current value, for the `originAuth` stack output (secret); absent without the header. */
  readonly auth?: pulumi.Output<OriginAuth>;
}

/** Creates the origin secrets (current and previous version) and returns the ingress settings. */
export function createOriginAccess(name: string, cfg: RegionalConfig, parent: pulumi.Resource): OriginAccess {
  const o = cfg.app.originAccess;
  const inboundCidrs = o.allowedCidrs ?? defaultOriginCidrs();
  if (!o.requireEdgeHeader) return { ingress: { inboundCidrs } };
  const secret = (version: number) =>
    new random.RandomPassword(
      `${name}-origin-auth-v${version}`,
      {
        length: 48,
        special: false,
        keepers: { version: String(version) },
      },
      { parent },
    ).result;
  const current = secret(o.secretVersion);
  const previous = o.secretVersion > 1 ? [secret(o.secretVersion - 1)] : [];
  const header = originAuthHeader(cfg.region);
  return {
    ingress: { inboundCidrs, requiredHeader: { name: header, values: [current, ...previous] } },
    auth: pulumi.secret(pulumi.output({ header, value: current })),
  };
}
