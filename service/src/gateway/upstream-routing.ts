/**
 * Name routing of a tenant's federated catalog, shared by the tool-call target and the router: which
 * upstream serves a tool or prompt name (namespaced `ns__name` first, then a root-mounted upstream that
 * lists the name), and the request options an upstream call relays the caller's progress and
 * cancellation with.
 */
import type { ServerContext } from '@modelcontextprotocol/server';
import { toolNameProblem } from '../protocol/tool-names.js';
import type { Catalog } from './catalog.js';
import { NAMESPACE_SEPARATOR, type ResolvedUpstream } from './upstream-config.js';
import type { UpstreamDirectory } from './upstream-directory.js';

/** What name routing reads: the tenant's registrations and catalog (both cached, invalidated on change). */
export interface RoutingDeps {
  readonly directory: UpstreamDirectory;
  readonly catalog: Catalog;
}

/** The upstream serving `name` and the name in its own terms, or undefined when no upstream does. */
export async function routeName(
  deps: RoutingDeps,
  tenantId: string,
  kind: 'tools' | 'prompts',
  name: string,
): Promise<{ up: ResolvedUpstream; name: string } | undefined> {
  // The catalog never lists a tool name that breaks the spec's rule (catalog.ts), so none is routed either.
  if (kind === 'tools' && toolNameProblem(name)) return undefined;
  const all = await deps.directory.list(tenantId);
  if (all.length === 0) return undefined;
  const sep = name.indexOf(NAMESPACE_SEPARATOR);
  if (sep > 0) {
    const ns = name.slice(0, sep);
    const up = all.find((u) => u.namespace === ns);
    if (up && !up.root) return { up, name: name.slice(sep + NAMESPACE_SEPARATOR.length) };
  }
  if (!all.some((u) => u.root)) return undefined;
  const ns = (await deps.catalog.get(tenantId)).roots[kind][name];
  const up = ns === undefined ? undefined : all.find((u) => u.namespace === ns && u.root);
  return up && { up, name };
}

/** Request options of an upstream call. */
export interface RelayOptions {
  readonly timeout: number;
  readonly signal: AbortSignal;
  readonly resetTimeoutOnProgress?: boolean;
  readonly onprogress?: (p: { progress: number; total?: number; message?: string }) => void;
}

/** Request options of an upstream call: timeout, the caller's abort signal, progress relayed to the caller. */
export function relayOptions(ctx: ServerContext, timeout: number): RelayOptions {
  const token = ctx.mcpReq._meta?.progressToken;
  return {
    timeout,
    signal: ctx.mcpReq.signal,
    ...(token !== undefined && {
      resetTimeoutOnProgress: true,
      onprogress: (p: { progress: number; total?: number; message?: string }) => {
        ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, ...p } }).catch(() => undefined);
      },
    }),
  };
}
