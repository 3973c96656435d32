/**
 * Which virtual server a request is served by, and what its caller may see (issue 20). The endpoint binds
 * each request with {@link ViewResolver.bind} (`/mcp/<server>`, or `/mcp` for a credential scoped to one
 * server); the factory's view wrappers (apply-view.ts), the pipeline's authorize stage and the task
 * methods then ask {@link ViewResolver.viewOf} per request. Definitions come from the cached
 * VirtualServerStore (tiered cache, invalidated on every replica over pub/sub), so a change applies to the
 * next request everywhere, sessions included; compiled views are memoized by definition version.
 */
import type { Principal } from '../../domain/principal.js';
import { parseScopes, restricts, SERVER_NAME, viewFor, type View, type VirtualServer } from '../../domain/virtual-server.js';
import type { VirtualServerStore } from '../../store/ports.js';

/** A request the endpoint refuses before any MCP handling: 403 (out of the credential's scopes) or 404 (no such server). */
export interface ViewRefusal {
  readonly status: 403 | 404;
  readonly message: string;
}

const MAX_MEMO = 2_000;

/** Binds requests to virtual servers and builds callers' views. */
export class ViewResolver {
  private readonly memo = new Map<string, View>();

  constructor(private readonly servers: Pick<VirtualServerStore, 'list'>) {}

  /** Whether a principal sees less than its whole tenant (then pass-through is skipped, lists filtered). */
  static restricted(principal: Principal): boolean {
    return principal.server !== undefined || restricts(parseScopes(principal.scopes));
  }

  /**
   * The principal of a request to `/mcp/<pathServer>` (or `/mcp` when undefined), bound to the virtual
   * server that serves it; or the refusal. A credential scoped to other servers gets 403 whether or not the
   * named server exists, so scoped keys cannot probe a tenant's server names.
   */
  async bind(principal: Principal, pathServer: string | undefined): Promise<Principal | ViewRefusal> {
    const scoped = parseScopes(principal.scopes).servers;
    if (pathServer !== undefined) {
      if (scoped.length > 0 && !scoped.includes(pathServer)) {
        return { status: 403, message: `Forbidden: this credential is scoped to virtual server ${scoped.join(', ')} and may not use /mcp/${pathServer}` };
      }
      if (!SERVER_NAME.test(pathServer) || !(await this.find(principal.tenantId, pathServer))) {
        return { status: 404, message: `Not Found: tenant ${principal.tenantName} has no virtual server "${pathServer}"` };
      }
      return { ...principal, server: pathServer };
    }
    if (scoped.length > 1) {
      return { status: 403, message: `Forbidden: this credential is scoped to several virtual servers (${scoped.join(', ')}): use /mcp/<server>` };
    }
    if (scoped.length === 1) {
      const only = scoped[0]!;
      if (!(await this.find(principal.tenantId, only)))
        return { status: 404, message: `Not Found: virtual server "${only}" of this credential's scope no longer exists` };
      return { ...principal, server: only };
    }
    return principal;
  }

  /** The caller's view, or undefined when it sees the whole tenant. A server deleted since binding selects nothing. */
  async viewOf(principal: Principal): Promise<View | undefined> {
    const scopes = parseScopes(principal.scopes);
    if (principal.server === undefined && !restricts(scopes)) return undefined;
    const server = principal.server === undefined ? undefined : await this.find(principal.tenantId, principal.server);
    const effective: VirtualServer | undefined =
      principal.server === undefined ? undefined : (server ?? { ...GONE, tenantId: principal.tenantId, name: principal.server });
    const key = JSON.stringify([principal.tenantId, scopes, effective?.name, effective?.createdAt.getTime(), effective?.updatedAt.getTime()]);
    let view = this.memo.get(key);
    if (!view) {
      view = viewFor(scopes, effective);
      if (this.memo.size >= MAX_MEMO) this.memo.clear();
      this.memo.set(key, view);
    }
    return view;
  }

  private async find(tenantId: string, name: string): Promise<VirtualServer | undefined> {
    return (await this.servers.list(tenantId)).find((s) => s.name === name);
  }
}

/** What a deleted server selects: nothing. */
const GONE: Omit<VirtualServer, 'tenantId' | 'name'> = {
  include: [],
  exclude: [],
  renames: [],
  descriptions: {},
  toolListing: 'all',
  createdAt: new Date(0),
  updatedAt: new Date(0),
};
