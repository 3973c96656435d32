/**
 * Stage 1, resolve target: the caller's tool name to the built-in tool of that name, else the upstream
 * that serves it (`namespace__tool`, or a root-mounted upstream's tool, from the tenant's cached catalog).
 * Root mounts never shadow a built-in (the registry refuses them), so built-ins are looked up first.
 */
import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import type { ToolTarget } from '../../../domain/tool-call.js';
import type { Resolver } from '../pipeline.js';

/** Finds the upstream target of a tenant's tool name (the federation layer). */
export type UpstreamResolver = (tenantId: string, name: string) => Promise<ToolTarget | undefined>;

/** The resolver over the instance's built-ins and, when federation runs, the tenant's upstreams. */
export function resolveTarget(upstreams?: UpstreamResolver): Resolver {
  return async (call, scope) => {
    const name = call.params.name;
    const target = scope.builtins.target(name) ?? (await upstreams?.(call.principal.tenantId, name));
    if (!target) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Tool ${name} not found`);
    return target;
  };
}
