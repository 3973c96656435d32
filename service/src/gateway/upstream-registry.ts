/**
 * Registration of a tenant's upstreams (what the admin API and CLI drive): validation, SSRF check of
 * the URL, credential encryption, name-clash refusal for root mounts, `test` (connect and list), and
 * the catalog invalidation + `list_changed` fan-out after every change.
 */
import { randomUUID } from 'node:crypto';
import { toolNameProblem } from '../protocol/tool-names.js';
import { ConflictError, NotFoundError } from '../store/ports.js';
import type { PgUpstreamStore, UpstreamRecord } from '../store/pg/upstream-store.js';
import { listUpstream, type Catalog } from './catalog.js';
import type { ClientPool } from './client-pool.js';
import type { SecretBox } from './crypto/secret-box.js';
import { SsrfError, type SsrfGuard } from './ssrf-guard.js';
import { UpstreamConnection, type UpstreamHealth } from './upstream-connection.js';
import {
  authKindOf,
  credentialSummary,
  NAMESPACE_SEPARATOR,
  UpstreamOptions,
  type CreateUpstreamInput,
  type Credentials,
  type ResolvedUpstream,
  type UpdateUpstreamInput,
} from './upstream-config.js';
import type { UpstreamDirectory } from './upstream-directory.js';

/** A registration the caller got wrong (400), with one line per problem. */
export class UpstreamValidationError extends Error {
  constructor(
    message: string,
    readonly rule?: string,
  ) {
    super(message);
    this.name = 'UpstreamValidationError';
  }
}

/** What the API returns about an upstream: never credential values. */
export interface UpstreamView {
  readonly namespace: string;
  readonly url: string;
  readonly transport: string;
  readonly root: boolean;
  readonly auth: { kind: string } & Record<string, unknown>;
  readonly options: UpstreamOptions;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** This replica's view (absent until the upstream was used here). */
  readonly health?: UpstreamHealth;
}

/** Result of `upstreams test`. */
export interface UpstreamTestResult {
  readonly namespace: string;
  readonly ok: boolean;
  readonly era?: 'modern' | 'legacy';
  readonly protocolVersion?: string;
  readonly serverInfo?: { name: string; version: string };
  readonly counts?: { tools: number; resources: number; resourceTemplates: number; prompts: number };
  readonly latencyMs: number;
  readonly error?: string;
}

/** Dependencies of the registry. */
export interface UpstreamRegistryDeps {
  readonly store: PgUpstreamStore;
  readonly directory: UpstreamDirectory;
  readonly catalog: Catalog;
  readonly pool: ClientPool;
  readonly guard: SsrfGuard;
  /** Undefined when SECRETS_MASTER_KEY is not configured: registrations with credentials are refused. */
  readonly box: SecretBox | undefined;
  /** Names of the tenant's built-in tools and prompts (root mounts must not clash with them). */
  readonly builtinNames: (toolsets: readonly string[]) => { tools: Set<string>; prompts: Set<string> };
  /** Announces a catalog change to the tenant's sessions and listen streams (every replica). */
  readonly announce: (tenantId: string) => void;
  /**
   * Revokes every user's tokens of a per-user upstream (here and at its AS): before the upstream is removed,
   * and when an update changes its URL, its auth mode or its credentials.
   */
  readonly dropUserTokens?: (up: ResolvedUpstream) => Promise<void>;
  readonly version: string;
}

/**
 * The credentials an auth mode needs, and what it excludes: per-caller upstreams are never root-mounted
 * (a root mount is listed at registration with the gateway's own credentials, which such an upstream does
 * not have) and carry no shared token.
 */
/** Whether an update leaves a per-user upstream's stored tokens pointing at something else. */
function usersTokensOutlived(current: ResolvedUpstream, next: ResolvedUpstream, patch: UpdateUpstreamInput): boolean {
  if (current.options.auth !== 'per-user-oauth') return false;
  return next.options.auth !== 'per-user-oauth' || next.url !== current.url || patch.credentials !== undefined;
}

function checkAuthMode(up: ResolvedUpstream): void {
  const c = up.credentials;
  const mode = up.options.auth;
  if (mode === 'shared') {
    if (c?.userOAuth || c?.tokenExchange)
      throw new UpstreamValidationError('credentials.userOAuth / credentials.tokenExchange need auth "per-user-oauth" / "token-exchange"', 'auth-mode');
    return;
  }
  if (up.root) throw new UpstreamValidationError(`an upstream with auth "${mode}" cannot be root-mounted: register it without root`, 'auth-mode');
  if (c?.bearer || c?.oauth)
    throw new UpstreamValidationError(`auth "${mode}" sends each caller's own token: remove credentials.bearer / credentials.oauth`, 'auth-mode');
  if (mode === 'per-user-oauth' && c?.tokenExchange) throw new UpstreamValidationError('credentials.tokenExchange needs auth "token-exchange"', 'auth-mode');
  if (mode === 'token-exchange') {
    if (!c?.tokenExchange)
      throw new UpstreamValidationError('auth "token-exchange" needs credentials.tokenExchange {tokenEndpoint, clientId, ...}', 'auth-mode');
    if (c.userOAuth) throw new UpstreamValidationError('credentials.userOAuth needs auth "per-user-oauth"', 'auth-mode');
  }
}

/** Admin operations on a tenant's upstreams. */
export class UpstreamRegistry {
  constructor(private readonly deps: UpstreamRegistryDeps) {}

  /** Registers an upstream. */
  async add(tenant: { id: string; toolsets: readonly string[] }, input: CreateUpstreamInput): Promise<UpstreamView> {
    await this.checkUrl(input.url);
    const options = UpstreamOptions.parse({
      ...(input.timeouts && { timeouts: { ...UpstreamOptions.parse({}).timeouts, ...input.timeouts } }),
      ...(input.allowTools && { allowTools: input.allowTools }),
      ...(input.denyTools && { denyTools: input.denyTools }),
      ...(input.maxConcurrency && { maxConcurrency: input.maxConcurrency }),
      ...(input.longRunning && { longRunning: input.longRunning }),
      ...(input.protocol && { protocol: input.protocol }),
      ...(input.auth && { auth: input.auth }),
    });
    const id = randomUUID();
    const draft: ResolvedUpstream = {
      id,
      tenantId: tenant.id,
      namespace: input.name,
      url: input.url,
      transport: input.transport,
      root: input.root,
      version: 0,
      options,
      credentials: input.credentials,
    };
    checkAuthMode(draft);
    await this.checkClashes(tenant, draft);
    const record = await this.deps.store.create(await this.toWrite(draft));
    await this.changed(tenant.id);
    return this.view(record);
  }

  /** Changes an upstream (credentials replaced when given, cleared with null). */
  async update(tenant: { id: string; toolsets: readonly string[] }, namespace: string, patch: UpdateUpstreamInput): Promise<UpstreamView> {
    const current = (await this.deps.directory.list(tenant.id)).find((u) => u.namespace === namespace);
    if (!current) throw new NotFoundError(`upstream "${namespace}" not found`);
    if (patch.url !== undefined) await this.checkUrl(patch.url);
    const o = current.options;
    const options = UpstreamOptions.parse({
      timeouts: { ...o.timeouts, ...(patch.timeouts ?? {}) },
      ...(patch.allowTools !== null && (patch.allowTools ?? o.allowTools) && { allowTools: patch.allowTools ?? o.allowTools }),
      denyTools: patch.denyTools ?? o.denyTools,
      maxConcurrency: patch.maxConcurrency ?? o.maxConcurrency,
      longRunning: patch.longRunning ?? o.longRunning,
      protocol: patch.protocol ?? o.protocol,
      auth: patch.auth ?? o.auth,
    });
    const next: ResolvedUpstream = {
      ...current,
      url: patch.url ?? current.url,
      transport: patch.transport ?? current.transport,
      root: patch.root ?? current.root,
      options,
      credentials: patch.credentials === null ? undefined : (patch.credentials ?? current.credentials),
    };
    checkAuthMode(next);
    await this.checkClashes(tenant, next);
    const record = await this.deps.store.update(await this.toWrite(next));
    // Users' tokens were issued for this URL, auth mode and client: none of them may reach what it became.
    if (usersTokensOutlived(current, next, patch)) await this.deps.dropUserTokens?.(current);
    await this.changed(tenant.id);
    return this.view(record);
  }

  /** Removes an upstream. */
  async remove(tenantId: string, namespace: string): Promise<void> {
    const up = (await this.deps.directory.list(tenantId)).find((u) => u.namespace === namespace);
    if (up) await this.deps.dropUserTokens?.(up);
    await this.deps.store.remove(tenantId, namespace);
    await this.changed(tenantId);
  }

  /** Every upstream of the tenant (with this replica's health). */
  async list(tenantId: string): Promise<UpstreamView[]> {
    return (await this.deps.store.list(tenantId)).map((r) => this.view(r));
  }

  /** One upstream. */
  async show(tenantId: string, namespace: string): Promise<UpstreamView> {
    const r = await this.deps.store.get(tenantId, namespace);
    if (!r) throw new NotFoundError(`upstream "${namespace}" not found`);
    return this.view(r);
  }

  /** Connects to the upstream with a fresh client, lists everything, reports generation and counts. */
  async test(tenantId: string, namespace: string): Promise<UpstreamTestResult> {
    const up = (await this.deps.directory.list(tenantId)).find((u) => u.namespace === namespace);
    if (!up) throw new NotFoundError(`upstream "${namespace}" not found`);
    if (up.options.auth !== 'shared')
      return {
        namespace,
        ok: false,
        latencyMs: 0,
        error: `auth "${up.options.auth}": the upstream answers only with a user's own token; test it by calling one of its tools as a user`,
      };
    const started = performance.now();
    const conn = new UpstreamConnection(up, { guard: this.deps.guard, version: this.deps.version, onListChanged: () => undefined });
    try {
      const { listing, client } = await conn.run(async (c) => ({ listing: await listUpstream(c, up), client: c }), true);
      const info = client.getServerVersion();
      return {
        namespace,
        ok: true,
        era: client.getProtocolEra() as 'modern' | 'legacy',
        ...(client.getNegotiatedProtocolVersion() && { protocolVersion: client.getNegotiatedProtocolVersion() }),
        ...(info && { serverInfo: { name: info.name, version: info.version } }),
        counts: {
          tools: listing.tools.length,
          resources: listing.resources.length,
          resourceTemplates: listing.resourceTemplates.length,
          prompts: listing.prompts.length,
        },
        latencyMs: Math.round(performance.now() - started),
      };
    } catch (err) {
      return { namespace, ok: false, latencyMs: Math.round(performance.now() - started), error: err instanceof Error ? err.message : String(err) };
    } finally {
      await conn.close();
    }
  }

  private async checkUrl(url: string): Promise<void> {
    try {
      await this.deps.guard.check(url);
    } catch (err) {
      if (err instanceof SsrfError) throw new UpstreamValidationError(err.message, err.rule);
      throw err;
    }
  }

  /**
   * Refuses a change of the tenant's toolsets that adds tools or prompts a root-mounted upstream exposes
   * already (409): enabling a toolset is a registration too. Reads the catalog, so it sees what the root
   * mounts list now.
   */
  async checkToolsets(tenant: { id: string; toolsets: readonly string[] }, next: readonly string[]): Promise<void> {
    if (!(await this.deps.directory.list(tenant.id)).some((u) => u.root)) return;
    const before = this.deps.builtinNames(tenant.toolsets);
    const after = this.deps.builtinNames(next);
    const { roots } = await this.deps.catalog.get(tenant.id);
    const added = (kind: 'tools' | 'prompts') => (name: string) => after[kind].has(name) && !before[kind].has(name);
    const clashes = [
      ...Object.entries(roots.tools)
        .filter(([name]) => added('tools')(name))
        .map(([name, ns]) => `tool "${name}" (root upstream "${ns}")`),
      ...Object.entries(roots.prompts)
        .filter(([name]) => added('prompts')(name))
        .map(([name, ns]) => `prompt "${name}" (root upstream "${ns}")`),
    ];
    if (clashes.length) {
      throw new ConflictError(
        `these toolsets would add names that root upstreams expose: ${listed(clashes)}; re-register those upstreams without --root first`,
      );
    }
  }

  /** Refuses a registration that would expose a tool name another source of the tenant exposes already. */
  private async checkClashes(tenant: { id: string; toolsets: readonly string[] }, up: ResolvedUpstream): Promise<void> {
    if (up.root) await this.checkRootClash(tenant, up);
    else await this.checkNamespaceClash(tenant, up);
  }

  /**
   * A namespaced upstream exposes `ns__*`: refuse it when a root mount or a built-in already exposes a
   * name of that form (routing would send those calls to the new upstream).
   */
  private async checkNamespaceClash(tenant: { id: string; toolsets: readonly string[] }, up: ResolvedUpstream): Promise<void> {
    const prefix = `${up.namespace}${NAMESPACE_SEPARATOR}`;
    const clashes = [...this.deps.builtinNames(tenant.toolsets).tools].filter((n) => n.startsWith(prefix)).map((n) => `tool "${n}" (built-in)`);
    const others = await this.deps.directory.list(tenant.id);
    if (others.some((u) => u.root && u.namespace !== up.namespace)) {
      const snap = await this.deps.catalog.get(tenant.id);
      for (const [name, ns] of Object.entries(snap.roots.tools)) {
        if (ns !== up.namespace && name.startsWith(prefix)) clashes.push(`tool "${name}" (root upstream "${ns}")`);
      }
    }
    if (clashes.length) {
      throw new ConflictError(
        `upstream "${up.namespace}" would expose names that already exist: ${listed(clashes)}; choose another name, or rename those tools on their upstream`,
      );
    }
  }

  /**
   * A root mount exposes unprefixed names: refuse any that a built-in (or a reserved name such as
   * `search_tools`), another root upstream, or a namespaced upstream's `ns__*` already has. Names that break
   * the tool-name rule are not clashes: the catalog leaves them out.
   */
  private async checkRootClash(tenant: { id: string; toolsets: readonly string[] }, up: ResolvedUpstream): Promise<void> {
    const conn = new UpstreamConnection(up, { guard: this.deps.guard, version: this.deps.version, onListChanged: () => undefined });
    let listing;
    try {
      listing = await conn.run((c) => listUpstream(c, up), true);
    } catch (err) {
      throw new UpstreamValidationError(
        `a root upstream must be reachable at registration to check for name clashes: ${err instanceof Error ? err.message : String(err)}`,
        'root-unreachable',
      );
    } finally {
      await conn.close();
    }
    const builtin = this.deps.builtinNames(tenant.toolsets);
    const snap = await this.deps.catalog.get(tenant.id);
    const others = (kind: 'tools' | 'prompts') => new Map(Object.entries(snap.roots[kind]).filter(([, ns]) => ns !== up.namespace));
    const clashes: string[] = [];
    const otherTools = others('tools');
    const otherPrompts = others('prompts');
    const namespaced = new Set((await this.deps.directory.list(tenant.id)).filter((u) => !u.root && u.namespace !== up.namespace).map((u) => u.namespace));
    for (const t of listing.tools) {
      if (toolNameProblem(t.name)) continue;
      const sep = t.name.indexOf(NAMESPACE_SEPARATOR);
      if (builtin.tools.has(t.name)) clashes.push(`tool "${t.name}" (built-in)`);
      else if (otherTools.has(t.name)) clashes.push(`tool "${t.name}" (root upstream "${otherTools.get(t.name)}")`);
      else if (sep > 0 && namespaced.has(t.name.slice(0, sep))) clashes.push(`tool "${t.name}" (upstream "${t.name.slice(0, sep)}")`);
    }
    for (const p of listing.prompts) {
      if (builtin.prompts.has(p.name)) clashes.push(`prompt "${p.name}" (built-in)`);
      else if (otherPrompts.has(p.name)) clashes.push(`prompt "${p.name}" (root upstream "${otherPrompts.get(p.name)}")`);
    }
    if (clashes.length) {
      throw new ConflictError(
        `root upstream "${up.namespace}" clashes with existing names: ${listed(clashes)}; register it without --root to prefix its names`,
      );
    }
  }

  private async toWrite(up: ResolvedUpstream) {
    let sealed: Buffer | null = null;
    if (up.options.auth === 'per-user-oauth' && !this.deps.box)
      throw new UpstreamValidationError(
        'auth "per-user-oauth" stores each user\'s token sealed: configure SECRETS_KMS_KEY_ID or SECRETS_MASTER_KEY on the gateway',
        'no-master-key',
      );
    if (up.credentials && (authKindOf(up.credentials) !== 'none' || up.credentials.userOAuth || up.credentials.tokenExchange)) {
      if (!this.deps.box)
        throw new UpstreamValidationError(
          'credentials cannot be stored: neither SECRETS_KMS_KEY_ID nor SECRETS_MASTER_KEY is configured on the gateway',
          'no-master-key',
        );
      sealed = await this.deps.box.seal(up.tenantId, up.id, JSON.stringify(up.credentials satisfies Credentials));
    }
    return {
      id: up.id,
      tenantId: up.tenantId,
      namespace: up.namespace,
      url: up.url,
      transport: up.transport,
      root: up.root,
      authKind: authKindOf(up.credentials, up.options.auth),
      credentialSummary: credentialSummary(up.credentials),
      credentials: sealed,
      options: up.options as unknown as Record<string, unknown>,
    };
  }

  private async changed(tenantId: string): Promise<void> {
    await this.deps.directory.invalidate(tenantId);
    await this.deps.catalog.invalidate(tenantId);
    this.deps.announce(tenantId);
  }

  private view(r: UpstreamRecord): UpstreamView {
    const health = this.deps.pool.health(r.tenantId).find((h) => h.namespace === r.namespace);
    return {
      namespace: r.namespace,
      url: r.url,
      transport: r.transport,
      root: r.root,
      auth: { kind: r.authKind, ...r.credentialSummary },
      options: UpstreamOptions.parse(r.options),
      version: r.version,
      createdAt: r.createdAt.toISOString(),
      updatedAt: r.updatedAt.toISOString(),
      ...(health && { health }),
    };
  }
}

/** The first ten items, and how many more. */
function listed(items: readonly string[]): string {
  return `${items.slice(0, 10).join(', ')}${items.length > 10 ? ` and ${items.length - 10} more` : ''}`;
}
