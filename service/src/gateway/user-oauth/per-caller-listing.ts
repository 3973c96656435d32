/**
 * The tools of per-caller upstreams (`auth: per-user-oauth` / `token-exchange`) as one caller sees them:
 * listed over the caller's own connection with the caller's own token, namespaced like the shared catalog,
 * cached in process per (user, upstream version) for a short while. A caller without credentials for an
 * upstream (not connected yet, an API key on a token-exchange upstream) gets none of its tools: calling one
 * by name still answers with the consent elicitation.
 */
import { createHash } from 'node:crypto';
import type { ServerContext, Tool } from '@modelcontextprotocol/server';
import type { Principal } from '../../domain/principal.js';
import { exposedName, listUpstream } from '../catalog.js';
import type { ClientPool } from '../client-pool.js';
import { isPerCaller } from '../upstream-config.js';
import type { UpstreamDirectory } from '../upstream-directory.js';
import type { UserCredentials } from './user-credentials.js';

/** What the listing needs. */
export interface PerCallerListingDeps {
  readonly directory: UpstreamDirectory;
  readonly pool: ClientPool;
  readonly credentials: UserCredentials;
  /** How long one caller's listing of one upstream is reused, ms. @defaultValue 30000 */
  readonly ttlMs?: number;
  readonly onError?: (err: unknown, where: string) => void;
}

const MAX_ENTRIES = 10_000;

/** Per-caller tool listings. */
export class PerCallerListing {
  private readonly cache = new Map<string, { at: number; tools: Tool[] }>();

  constructor(private readonly deps: PerCallerListingDeps) {}

  /** The caller's tools of every per-caller upstream of its tenant, and a version of that list (for cursors). */
  async tools(principal: Principal, ctx: ServerContext): Promise<{ tools: Tool[]; version: string }> {
    const ups = (await this.deps.directory.list(principal.tenantId)).filter(isPerCaller);
    if (!ups.length) return { tools: [], version: '' };
    const ttl = this.deps.ttlMs ?? 30_000;
    const lists = await Promise.all(
      ups.map(async (up) => {
        const bound = await this.deps.credentials.boundForListing(up, principal, ctx).catch(() => undefined);
        if (!bound?.binding) return [];
        const key = `${bound.binding.key}@${up.version}`;
        const hit = this.cache.get(key);
        if (hit && Date.now() - hit.at < ttl) return hit.tools;
        try {
          const listing = await this.deps.pool.get(bound).run((c) => listUpstream(c, bound), true);
          const tools = listing.tools.map((t) => ({ ...t, name: exposedName(up, t.name) }));
          if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
          this.cache.set(key, { at: Date.now(), tools });
          return tools;
        } catch (err) {
          this.deps.onError?.(err, `per-caller listing of upstream ${up.tenantId}/${up.namespace}`);
          return [];
        }
      }),
    );
    const tools = lists.flat();
    const version = tools.length
      ? createHash('sha256')
          .update(tools.map((t) => t.name).join('\u0000'))
          .digest('base64url')
          .slice(0, 12)
      : '';
    return { tools, version };
  }

  /** Forgets every cached listing (a user connected or a token was revoked). */
  clear(): void {
    this.cache.clear();
  }
}
