/**
 * The federated catalog of a tenant: tools, resources, resource templates and prompts of all its
 * upstreams, namespaced `<namespace>__<name>` (root-mounted upstreams keep their names), resource URIs
 * rewritten `<namespace>+<uri>` so they round-trip. Built-in toolsets are merged in per request by the
 * router (they depend on the caller's server instance), not stored here.
 *
 * Cached per tenant in the tiered cache (namespace `catalog`) with a version; the entry's lifetime is
 * the most restrictive of the upstreams' list cache hints (`ttlMs`), bounded by `maxTtlMs`. An upstream
 * that cannot be listed is recorded as failed (the rest of the catalog keeps working) and the entry then
 * lives only `failedTtlMs`.
 *
 * An upstream's listing is bounded (upstream-limits.ts): more than UPSTREAM_MAX_TOOLS tools fails that
 * upstream's listing (it is recorded as failed with the reason, the rest of the catalog keeps working);
 * names that could not be routed safely (empty, over 128 characters, control characters, path
 * separators) are left out, and descriptions over UPSTREAM_MAX_DESCRIPTION_BYTES are cut; both are
 * reported in the upstream's `warnings`. The answer itself is bounded by UPSTREAM_MAX_RESPONSE_BYTES.
 *
 * Exposed tool names follow the spec's tool-name rule (protocol/tool-names.ts): a tool whose exposed name
 * (`ns__name`, or a root mount's own name) is too long or has other characters is not listed, and neither
 * is a second source of one exposed name (a root mount's `ns__x` beside upstream `ns`, or two root mounts
 * listing one name since they registered): registration refuses such clashes (upstream-registry.ts), so
 * these only appear when an upstream changes its list later. Each is reported through
 * `onRejectedToolName` and in the upstream's `warnings`; calls of the names that remain are unaffected.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/client';
import type { Prompt, Resource, ResourceTemplateType, Tool } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { TieredCache } from '../store/cache/tiered-cache.js';
import type { ClientPool } from './client-pool.js';
import { toolNameProblem } from '../protocol/tool-names.js';
import { isPerCaller, NAMESPACE_SEPARATOR, toolAllowed, type ResolvedUpstream } from './upstream-config.js';
import type { UpstreamDirectory } from './upstream-directory.js';
import { upstreamLimits } from './upstream-limits.js';

/** Cache namespace of merged catalogs (key: tenant id). */
export const CATALOG_NS = 'catalog';

/** What one upstream contributes. */
export interface UpstreamListing {
  readonly tools: Tool[];
  readonly resources: Resource[];
  readonly resourceTemplates: ResourceTemplateType[];
  readonly prompts: Prompt[];
  /** Smallest `ttlMs` hint of its lists (undefined: none given). */
  readonly ttlMs: number | undefined;
  readonly cacheScope: 'public' | 'private';
  /** What the listing limits left out or cut (names, descriptions). */
  readonly warnings?: string[];
}

const Item = z.looseObject({});
const Snapshot = z.object({
  version: z.string(),
  ttlMs: z.number(),
  cacheScope: z.enum(['public', 'private']),
  upstreams: z.array(
    z.object({
      namespace: z.string(),
      root: z.boolean(),
      ok: z.boolean(),
      error: z.string().optional(),
      era: z.string().optional(),
      warnings: z.array(z.string()).optional(),
    }),
  ),
  tools: z.array(Item),
  resources: z.array(Item),
  resourceTemplates: z.array(Item),
  prompts: z.array(Item),
  roots: z.object({ tools: z.record(z.string(), z.string()), prompts: z.record(z.string(), z.string()), resources: z.record(z.string(), z.string()) }),
});
/** A tenant's merged upstream catalog (already namespaced). */
export interface CatalogSnapshot {
  readonly version: string;
  readonly ttlMs: number;
  readonly cacheScope: 'public' | 'private';
  readonly upstreams: { namespace: string; root: boolean; ok: boolean; error?: string; era?: string; warnings?: string[] }[];
  readonly tools: Tool[];
  readonly resources: Resource[];
  readonly resourceTemplates: ResourceTemplateType[];
  readonly prompts: Prompt[];
  /** Which root-mounted upstream (namespace) serves an unprefixed tool name, prompt name or resource URI. */
  readonly roots: { tools: Record<string, string>; prompts: Record<string, string>; resources: Record<string, string> };
}

/** `ns__name` (or `name` for a root upstream). */
export function exposedName(up: Pick<ResolvedUpstream, 'namespace' | 'root'>, name: string): string {
  return up.root ? name : `${up.namespace}${NAMESPACE_SEPARATOR}${name}`;
}

/** `ns+uri` (or `uri` for a root upstream); templates are rewritten the same way. */
export function exposedUri(up: Pick<ResolvedUpstream, 'namespace' | 'root'>, uri: string): string {
  return up.root ? uri : `${up.namespace}+${uri}`;
}

/** Inverse of exposedUri for a namespaced upstream: the upstream's own URI, or undefined. */
export function upstreamUri(namespace: string, uri: string): string | undefined {
  return uri.startsWith(`${namespace}+`) ? uri.slice(namespace.length + 1) : undefined;
}

type Hinted = { ttlMs?: number; cacheScope?: 'public' | 'private' };

/** A name the gateway can expose and route back: 1–128 characters, no control characters, no path separators. */
const UNSAFE_NAME = /[\u0000-\u001f\u007f-\u009f/\\]/;
export function safeUpstreamName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && name.length <= 128 && !UNSAFE_NAME.test(name);
}

/** `description` cut to `max` UTF-8 bytes (on a character boundary) with a marker, or unchanged. */
export function boundedDescription(description: string, max: number): string {
  if (description.length <= max / 4 || Buffer.byteLength(description) <= max) return description;
  const marker = ' [truncated by the gateway: UPSTREAM_MAX_DESCRIPTION_BYTES]';
  const cut = Buffer.from(description)
    .subarray(0, Math.max(0, max - marker.length))
    .toString('utf8')
    .replace(/\uFFFD$/, '');
  return `${cut}${marker}`;
}

/**
 * Applies the listing limits to one list: unsafe names left out, long descriptions cut; what was done
 * is added to `warnings`.
 */
function bounded<T extends { description?: string | undefined }>(kind: string, items: T[], nameOf: (item: T) => unknown, warnings: string[]): T[] {
  const max = upstreamLimits().maxDescriptionBytes;
  let unsafe = 0;
  let cut = 0;
  const out: T[] = [];
  for (const item of items) {
    if (!safeUpstreamName(nameOf(item))) {
      unsafe++;
      continue;
    }
    const d = item.description;
    if (typeof d === 'string' && d.length > max / 4) {
      const b = boundedDescription(d, max);
      if (b !== d) {
        cut++;
        out.push({ ...item, description: b });
        continue;
      }
    }
    out.push(item);
  }
  if (unsafe) warnings.push(`${unsafe} ${kind} left out: name empty, over 128 characters, or with control characters or path separators`);
  if (cut) warnings.push(`${cut} ${kind} descriptions cut to ${max} bytes (UPSTREAM_MAX_DESCRIPTION_BYTES)`);
  return out;
}

/** Lists everything an upstream offers (all pages; lists its server does not declare are empty). */
export async function listUpstream(client: Client, up: ResolvedUpstream): Promise<UpstreamListing> {
  const caps = client.getServerCapabilities() ?? {};
  const opts = { timeout: up.options.timeouts.listMs, cacheMode: 'bypass' as const };
  const [tools, resources, templates, prompts] = await Promise.all([
    caps.tools ? client.listTools(undefined, opts) : undefined,
    caps.resources ? client.listResources(undefined, opts) : undefined,
    caps.resources ? client.listResourceTemplates(undefined, opts) : undefined,
    caps.prompts ? client.listPrompts(undefined, opts) : undefined,
  ]);
  const hinted = [tools, resources, templates, prompts].filter(Boolean) as Hinted[];
  const ttls = hinted.map((h) => h.ttlMs).filter((t): t is number => typeof t === 'number');
  const { maxTools } = upstreamLimits();
  const listed = tools?.tools ?? [];
  if (listed.length > maxTools) throw new Error(`lists ${listed.length} tools, more than UPSTREAM_MAX_TOOLS (${maxTools}); none of its tools are federated`);
  const warnings: string[] = [];
  return {
    tools: bounded(
      'tools',
      listed.filter((t) => typeof t.name !== 'string' || toolAllowed(up.options, t.name)),
      (t) => t.name,
      warnings,
    ),
    resources: bounded('resources', resources?.resources ?? [], (r) => (typeof r.uri === 'string' && r.uri.length > 0 ? 'uri' : ''), warnings),
    resourceTemplates: bounded(
      'resource templates',
      templates?.resourceTemplates ?? [],
      (t) => (typeof t.uriTemplate === 'string' && t.uriTemplate ? 'uri' : ''),
      warnings,
    ),
    prompts: bounded('prompts', prompts?.prompts ?? [], (p) => p.name, warnings),
    ttlMs: ttls.length ? Math.min(...ttls) : undefined,
    cacheScope: hinted.some((h) => h.cacheScope === 'private') ? 'private' : 'public',
    ...(warnings.length && { warnings }),
  };
}

/** What a per-caller upstream contributes to the shared catalog: nothing, with the reason. */
const PER_CALLER_LISTING: UpstreamListing = {
  tools: [],
  resources: [],
  resourceTemplates: [],
  prompts: [],
  ttlMs: undefined,
  cacheScope: 'public',
  warnings: ["per-caller credentials: not listed in the shared catalog; its tools are called by their namespaced names with the caller's own token"],
};

/** Options of Catalog. */
export interface CatalogOptions {
  /** Upper bound of a catalog's cache lifetime, ms. @defaultValue 60000 */
  readonly maxTtlMs?: number;
  /** Lifetime when an upstream failed to list, ms. @defaultValue 5000 */
  readonly failedTtlMs?: number;
  /** Called for each tool left out of a built catalog because of its exposed name (see the module comment). */
  readonly onRejectedToolName?: (rejected: RejectedToolName) => void;
}

/** A tool left out of the catalog because of the name it would be exposed under. */
export interface RejectedToolName {
  readonly tenantId: string;
  /** The upstream's namespace. */
  readonly namespace: string;
  /** The name the upstream lists. */
  readonly name: string;
  /** `length` / `characters`: the spec's rule; `collision`: another source exposes the same name. */
  readonly reason: 'length' | 'characters' | 'collision';
}

/** Builds and caches merged catalogs. */
export class Catalog {
  constructor(
    private readonly directory: UpstreamDirectory,
    private readonly pool: ClientPool,
    private readonly cache: TieredCache,
    private readonly opts: CatalogOptions = {},
  ) {}

  /** The tenant's catalog (cached). */
  async get(tenantId: string): Promise<CatalogSnapshot> {
    return (await this.cache.get(CATALOG_NS, tenantId, () => this.build(tenantId), {
      schema: Snapshot,
      ttlFor: (s) => s.ttlMs,
    })) as CatalogSnapshot;
  }

  /**
   * `execution.taskSupport` of a 2025-era upstream's tool (by the name the tenant sees), as its
   * `tools/list` declares it; undefined for other tools. Such a tool runs as a gateway task whose worker
   * calls it task-augmented on the upstream (upstream-tasks.ts).
   */
  async legacyTaskSupport(tenantId: string, name: string): Promise<'optional' | 'required' | undefined> {
    const snap = await this.get(tenantId);
    // Asked on every upstream tools/call: a tenant with only 2026-07-28 upstreams skips the tool scan.
    if (!snap.upstreams.some((u) => u.era === 'legacy')) return undefined;
    const tool = snap.tools.find((t) => t.name === name) as { execution?: { taskSupport?: unknown } } | undefined;
    const support = tool?.execution?.taskSupport;
    if (support !== 'optional' && support !== 'required') return undefined;
    const sep = name.indexOf(NAMESPACE_SEPARATOR);
    const owner = snap.upstreams.find((u) => (u.root ? snap.roots.tools[name] === u.namespace : sep > 0 && u.namespace === name.slice(0, sep)));
    return owner?.era === 'legacy' ? support : undefined;
  }

  /** Drops the tenant's catalog on every replica (the next request rebuilds it). */
  async invalidate(tenantId: string): Promise<void> {
    await this.cache.invalidate(CATALOG_NS, tenantId);
  }

  private async build(tenantId: string): Promise<z.infer<typeof Snapshot>> {
    const upstreams = await this.directory.list(tenantId);
    await this.pool.retain(tenantId, new Set(upstreams.map((u) => u.id)));
    const listings = await Promise.all(
      upstreams.map(async (up) => {
        // Per-caller upstreams answer only with a user's own token: the shared catalog has none.
        if (isPerCaller(up)) return { up, listing: PER_CALLER_LISTING, era: undefined };
        const conn = this.pool.get(up);
        try {
          return { up, listing: await conn.run((c) => listUpstream(c, up), true), era: conn.era };
        } catch (err) {
          return { up, error: err instanceof Error ? err.message : String(err) };
        }
      }),
    );
    const maxTtl = this.opts.maxTtlMs ?? 60_000;
    let ttlMs = maxTtl;
    let cacheScope: 'public' | 'private' = 'public';
    const snap: z.infer<typeof Snapshot> = {
      version: randomUUID(),
      ttlMs,
      cacheScope,
      upstreams: [],
      tools: [],
      resources: [],
      resourceTemplates: [],
      prompts: [],
      roots: { tools: {}, prompts: {}, resources: {} },
    };
    // Routing reads the first `__` of a name as the end of a namespace (upstream-routing.ts): a root mount's
    // `ns__x` beside a registered upstream `ns` would never be reached.
    const namespaced = new Set(upstreams.filter((u) => !u.root).map((u) => u.namespace));
    const reject = (up: ResolvedUpstream, name: string, reason: RejectedToolName['reason']) =>
      this.opts.onRejectedToolName?.({ tenantId, namespace: up.namespace, name, reason });
    for (const entry of listings) {
      const { up } = entry;
      if (!('listing' in entry) || !entry.listing) {
        snap.upstreams.push({ namespace: up.namespace, root: up.root, ok: false, error: entry.error ?? 'unknown error' });
        ttlMs = Math.min(ttlMs, this.opts.failedTtlMs ?? 5_000);
        continue;
      }
      const l = entry.listing;
      const warnings = [...(l.warnings ?? [])];
      const tools: Tool[] = [];
      let badNames = 0;
      let clashes = 0;
      for (const t of l.tools) {
        const name = exposedName(up, t.name);
        const problem = toolNameProblem(name);
        const sep = name.indexOf(NAMESPACE_SEPARATOR);
        const clash = up.root && ((sep > 0 && namespaced.has(name.slice(0, sep))) || snap.roots.tools[name] !== undefined);
        if (problem || clash) {
          if (problem) badNames++;
          else clashes++;
          reject(up, t.name, problem ?? 'collision');
          continue;
        }
        tools.push({ ...t, name });
        if (up.root) snap.roots.tools[name] = up.namespace;
      }
      if (badNames) warnings.push(`${badNames} tools left out: their exposed names break the MCP tool-name rule (1-128 of A-Z a-z 0-9 _ - .)`);
      if (clashes) warnings.push(`${clashes} tools left out: another upstream exposes the same names`);
      snap.upstreams.push({
        namespace: up.namespace,
        root: up.root,
        ok: true,
        ...(entry.era && { era: entry.era }),
        ...(warnings.length && { warnings }),
      });
      if (l.ttlMs !== undefined) ttlMs = Math.min(ttlMs, Math.max(0, l.ttlMs));
      if (l.cacheScope === 'private') cacheScope = 'private';
      snap.tools.push(...tools);
      snap.prompts.push(...l.prompts.map((p) => ({ ...p, name: exposedName(up, p.name) })));
      snap.resources.push(...l.resources.map((r) => ({ ...r, uri: exposedUri(up, r.uri) })));
      snap.resourceTemplates.push(...l.resourceTemplates.map((t) => ({ ...t, uriTemplate: exposedUri(up, t.uriTemplate) })));
      if (up.root) {
        for (const p of l.prompts) snap.roots.prompts[p.name] = up.namespace;
        for (const r of l.resources) snap.roots.resources[r.uri] = up.namespace;
      }
    }
    // A zero lifetime would make every list a rebuild; keep at least 1 s (list_changed still invalidates at once).
    return { ...snap, ttlMs: Math.max(1_000, ttlMs), cacheScope };
  }
}
