/**
 * A tenant's surface for the views (issue 20): every tool (with description), prompt, resource URI and
 * resource template it serves, under the names the gateway lists them by: the tenant's cached federation
 * catalog plus the built-in names of its toolsets. Read by the list-change gates and the virtual-server
 * admin API (rename collisions); built-in names are computed once per toolset combination.
 */
import type { Catalog } from '../../gateway/catalog.js';
import { builtinNames } from '../../tools/index.js';
import type { SurfaceSource, TenantSurface } from './list-change-gate.js';

/** The surface source over a catalog (none: built-ins only). */
export function tenantSurface(catalog: Pick<Catalog, 'get'> | undefined): SurfaceSource {
  const builtins = new Map<string, ReturnType<typeof builtinNames>>();
  return async (tenantId, toolsets): Promise<TenantSurface> => {
    const key = [...toolsets].sort().join(',');
    let own = builtins.get(key);
    if (!own) {
      own = builtinNames(toolsets);
      if (builtins.size > 100) builtins.clear();
      builtins.set(key, own);
    }
    const snap = catalog ? await catalog.get(tenantId) : undefined;
    return {
      tools: [
        ...[...own.tools].map((name) => ({ name })),
        ...(snap?.tools ?? []).map((t) => ({ name: t.name, ...(t.description !== undefined && { description: t.description }) })),
      ],
      prompts: [...own.prompts, ...(snap?.prompts ?? []).map((p) => p.name)],
      resources: (snap?.resources ?? []).map((r) => r.uri),
      templates: (snap?.resourceTemplates ?? []).map((t) => t.uriTemplate),
    };
  };
}
