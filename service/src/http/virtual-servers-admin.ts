/**
 * Admin API routes of virtual servers (issue 20), mounted by admin.ts under /admin/v1 as an extension:
 *
 *   GET    /tenants/:t/servers          -> {servers}
 *   POST   /tenants/:t/servers          {name, include, exclude?, renames?, descriptions?, toolListing?} -> 201 {server}
 *   GET    /tenants/:t/servers/:name    -> {server}
 *   DELETE /tenants/:t/servers/:name    -> 204
 *
 * 400: a bad name or glob, a rename of a tool the server does not select, a bad tool name; 409: the name
 * is taken, or a rename collides with another name the server shows (checked against the tenant's current
 * tools: collisions are refused here, not discovered at call time). Every change is audited and announced
 * (list_changed to the callers whose view changed, on every replica).
 */
import { z } from 'zod';
import { globError, selector, SERVER_NAME, type VirtualServer } from '../domain/virtual-server.js';
import { TOOL_NAME_PATTERN } from '../protocol/tool-names.js';
import type { AdminRoute } from '../gateway/admin-routes.js';
import type { SurfaceSource } from '../mcp/view/list-change-gate.js';
import { ConflictError, type VirtualServerStore } from '../store/ports.js';
import { apiError, json } from './respond.js';

/** What the routes need. */
export interface VirtualServerAdminDeps {
  readonly store: VirtualServerStore;
  /** The tenant's current tools (rename collisions). */
  readonly surface: SurfaceSource;
  /** Announces a tenant's changed virtual servers (McpEndpoint.viewsChanged). */
  readonly changed: (tenantId: string) => void;
}

const Glob = z.string().superRefine((g, ctx) => void (globError(g) && ctx.addIssue({ code: 'custom', message: globError(g)! })));
const ToolName = z.string().regex(TOOL_NAME_PATTERN, 'a tool name: 1-128 characters of A-Z a-z 0-9 _ - .');

/** The create body. */
export const CreateServerBody = z.strictObject({
  name: z.string().regex(SERVER_NAME, 'a virtual server name: 1-63 lower-case letters, digits and inner hyphens (a DNS label)'),
  include: z.array(Glob).min(1, 'at least one include glob').max(100),
  exclude: z.array(Glob).max(100).default([]),
  renames: z
    .array(z.strictObject({ from: ToolName, to: ToolName }))
    .max(500)
    .default([]),
  descriptions: z.record(ToolName, z.string().min(1).max(4096)).default({}),
  toolListing: z.enum(['all', 'search']).default('all'),
});

const serverJson = (s: VirtualServer) => ({
  name: s.name,
  include: s.include,
  exclude: s.exclude,
  renames: s.renames,
  descriptions: s.descriptions,
  toolListing: s.toolListing,
  createdAt: s.createdAt.toISOString(),
  updatedAt: s.updatedAt.toISOString(),
});

/** The routes. */
export function virtualServerAdminRoute(deps: VirtualServerAdminDeps): AdminRoute {
  return async (ctx) => {
    const [a, t, sub, name, ...rest] = ctx.segments;
    if (a !== 'tenants' || t === undefined || sub !== 'servers' || rest.length) return undefined;
    const method = ctx.request.method;
    const tenant = await ctx.tenantOf(t);
    if (name === undefined) {
      if (method === 'GET') return json(200, { servers: (await deps.store.list(tenant.id)).map(serverJson) });
      if (method !== 'POST') return apiError(405, 'method_not_allowed', `${method} not allowed on /tenants/:tenant/servers`);
      const input = await ctx.body(ctx.request, CreateServerBody);
      const problem = await renameProblem(
        input,
        (await deps.surface(tenant.id, tenant.toolsets)).tools.map((tool) => tool.name),
      );
      if (problem?.status === 400) return apiError(400, 'bad_request', problem.message);
      if (problem) throw new ConflictError(problem.message);
      const server = await deps.store.create(tenant.id, input);
      await ctx.audit({
        tenantId: tenant.id,
        action: 'server.create',
        target: server.name,
        detail: { include: server.include, exclude: server.exclude, renames: server.renames.length, toolListing: server.toolListing },
      });
      deps.changed(tenant.id);
      return json(201, { server: serverJson(server) });
    }
    const serverName = decodeURIComponent(name);
    if (!SERVER_NAME.test(serverName))
      return apiError(400, 'bad_request', `"${serverName}" is not a virtual server name (1-63 lower-case letters, digits, inner hyphens)`);
    if (method === 'GET') {
      const server = (await deps.store.list(tenant.id)).find((s) => s.name === serverName);
      return server ? json(200, { server: serverJson(server) }) : apiError(404, 'not_found', `tenant ${tenant.name} has no virtual server "${serverName}"`);
    }
    if (method === 'DELETE') {
      await deps.store.delete(tenant.id, serverName);
      await ctx.audit({ tenantId: tenant.id, action: 'server.delete', target: serverName });
      deps.changed(tenant.id);
      return new Response(null, { status: 204 });
    }
    return apiError(405, 'method_not_allowed', `${method} not allowed on /tenants/:tenant/servers/:name`);
  };
}

/** What is wrong with a server's renames given the tenant's tool names (400 malformed, 409 collision), if anything. */
export function renameProblem(input: z.output<typeof CreateServerBody>, toolNames: readonly string[]): { status: 400 | 409; message: string } | undefined {
  const selected = selector(input);
  const from = new Map<string, string>();
  for (const r of input.renames) {
    if (from.has(r.from)) return { status: 400, message: `tool "${r.from}" is renamed twice` };
    if (!selected(r.from)) return { status: 400, message: `rename of "${r.from}": the server's include/exclude globs do not select it` };
    from.set(r.from, r.to);
  }
  // Every name the server would show, and what shows it.
  const shownBy = new Map<string, string>();
  for (const tool of new Set([...toolNames.filter(selected), ...from.keys()])) {
    const shown = from.get(tool) ?? tool;
    const other = shownBy.get(shown);
    if (other !== undefined) {
      const renamed = from.has(tool) ? tool : other;
      return { status: 409, message: `rename of "${renamed}" to "${shown}" collides with another tool the server shows under that name` };
    }
    shownBy.set(shown, tool);
  }
  return undefined;
}
