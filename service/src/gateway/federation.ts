/**
 * Composition of the federation layer of one replica: SSRF guard, envelope encryption, upstream
 * directory and client pool, catalog cache, router and registry. The MCP layer calls `attach` on every
 * per-request server and hands over its notifier with `useNotifier`; the admin API drives `registry`.
 *
 * Change propagation: a registration change or an upstream's `list_changed` invalidates the tenant's
 * cached registrations and catalog on every replica (tiered cache, pub/sub) and publishes
 * `notifications/{tools,resources,prompts}/list_changed` to the tenant's sessions and listen streams
 * (the MCP layer's notifier fans out over Redis to every replica).
 */
import type { McpServer, ServerNotifier } from '@modelcontextprotocol/server';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { Counter, type Registry } from 'prom-client';
import { METRICS } from '../../../contract/index.js';
import type { Principal } from '../domain/principal.js';
import type { ToolTarget } from '../domain/tool-call.js';
import type { TieredCache } from '../store/cache/tiered-cache.js';
import { PgUpstreamStore } from '../store/pg/upstream-store.js';
import type { TenantDb } from '../store/pg/routing/tenant-db.js';
import { Catalog, exposedUri, upstreamUri, type RejectedToolName } from './catalog.js';
import { ClientPool } from './client-pool.js';
import { LocalKeyProvider, type KeyProvider } from './crypto/key-provider.js';
import { SecretBox } from './crypto/secret-box.js';
import type { RequestStateCodecPort } from './modern-call.js';
import { PendingInputs } from './pending-inputs.js';
import { attachFederation, type RouterHandlers } from './router.js';
import { SsrfGuard, type Resolver } from './ssrf-guard.js';
import { UpstreamDirectory } from './upstream-directory.js';
import type { ResolvedUpstream } from './upstream-config.js';
import { UpstreamRegistry } from './upstream-registry.js';
import { resolvePassThroughTool, resolveUpstreamTool } from './upstream-tool-target.js';
import { RemoteTasks } from './upstream-tasks.js';
import type { AuditEntry } from '../store/ports.js';
import type { AuthenticateCaller } from './user-oauth/consent-routes.js';
import type { UserTokenVault } from './user-oauth/user-token-vault.js';
import { createUserOAuth } from './user-oauth/user-oauth.js';

/** Options of createFederation. */
export interface FederationOptions {
  readonly pool: pg.Pool;
  /** Routes each tenant's upstreams and data key to its shard (issue 8); without it they live in `pool`. */
  readonly tenantDb?: TenantDb;
  /** The process's tiered cache (service/src/store/cache), already started. */
  readonly cache: TieredCache;
  /** UPSTREAM_ALLOWLIST: hosts, `*.suffix`, IPs or CIDRs allowed despite the SSRF rules. */
  readonly allowlist: readonly string[];
  /** SECRETS_MASTER_KEY (base64, 32 bytes); without it credentials cannot be stored. */
  readonly masterKey?: string;
  /** Retired master keys still accepted for unwrapping until `keys rotate-master` ran. */
  readonly previousMasterKeys?: readonly string[];
  /** A KMS-backed provider for production. @defaultValue LocalKeyProvider over masterKey */
  readonly keyProvider?: KeyProvider;
  readonly registry?: Registry;
  /** Reported to upstreams as the client version. */
  readonly version: string;
  /** The gateway's list cache hint (LIST_CACHE_TTL_MS), ms. */
  readonly listTtlMs: number;
  /** Items per page of merged lists. @defaultValue 100 */
  readonly pageSize?: number;
  /** Idle pooled clients are closed after this long, ms. @defaultValue 300000 */
  readonly idleMs?: number;
  /** Consecutive failures that open an upstream's breaker. @defaultValue 3 */
  readonly breakerThreshold?: number;
  /** Pause before the half-open probe, ms. @defaultValue 5000 */
  readonly halfOpenAfterMs?: number;
  /**
   * State Redis: with it, a 2025-era upstream's input request reaches a 2026-07-28 caller as an
   * input_required round resumable on any replica (a dedicated subscriber is duplicated from it).
   */
  readonly stateRedis?: Redis;
  /** Prefix of the Redis channels. @defaultValue 'umcp:' */
  readonly keyPrefix?: string;
  /** This replica's id in those channels. @defaultValue a random UUID */
  readonly replicaId?: string;
  /** Injectable DNS (tests). */
  readonly resolver?: Resolver;
  /**
   * Names of the built-in tools and prompts a tenant's toolsets register (service/src/tools), so a root
   * mount cannot shadow them; injected so the federation layer does not import its peer tools/.
   */
  readonly builtinNames: (toolsets: readonly string[]) => { tools: Set<string>; prompts: Set<string> };
  readonly onError?: (err: unknown, where: string) => void;
  /**
   * Redis for per-user upstream credentials (consent flow records, refresh locks); given on gateways and
   * workers alike. Without it (or without a key provider) per-user OAuth upstreams cannot be called.
   */
  readonly credentialsRedis?: Redis;
  /** PUBLIC_URL: base of the consent links; default: the origin of the caller's request. */
  readonly publicUrl?: string;
  /** How long a consent link and an authorization round stay valid, ms. @defaultValue 600000 */
  readonly consentTtlMs?: number;
  /**
   * An upstream tool left out of the catalog because of its exposed name (catalog.ts); called once per
   * (tenant, upstream, name) per process, and counted in `umcp_upstream_tools_rejected_total`.
   */
  readonly onRejectedToolName?: (rejected: RejectedToolName) => void;
}

/** Distinct rejected names remembered for "once" (the set starts over when full). */
const MAX_REPORTED_NAMES = 10_000;

/** Reports each rejected tool name once per process: a log line through `report`, a metric sample. */
function rejectedNameReporter(registry: Registry | undefined, report: ((r: RejectedToolName) => void) | undefined): (r: RejectedToolName) => void {
  const counter =
    registry &&
    new Counter({
      name: METRICS.upstreamToolsRejected,
      help: 'Upstream tools left out of a catalog because of their exposed name (spec rule or clash), counted once per name per replica',
      labelNames: ['tenant', 'upstream', 'reason'] as const,
      registers: [registry],
    });
  const seen = new Set<string>();
  return (r) => {
    const key = `${r.tenantId}\u0000${r.namespace}\u0000${r.name}`;
    if (seen.has(key)) return;
    if (seen.size >= MAX_REPORTED_NAMES) seen.clear();
    seen.add(key);
    counter?.inc({ tenant: r.tenantId, upstream: r.namespace, reason: r.reason });
    report?.(r);
  };
}

/** The federation layer of one replica. */
export interface Federation {
  readonly registry: UpstreamRegistry;
  readonly catalog: Catalog;
  readonly pool: ClientPool;
  readonly secrets: SecretBox | undefined;
  /** The tenant's registrations as the request path reads them (tiered cache, invalidated on change). */
  readonly directory: UpstreamDirectory;
  /** tasks/get, tasks/update, tasks/cancel of tasks that live on an upstream (federated task ids). */
  readonly remoteTasks: RemoteTasks;
  /**
   * A 2026-07-28 caller opened `subscriptions/listen` with `resourceSubscriptions`: the upstream URIs
   * among them are subscribed on this replica's pooled clients until the returned release runs (when
   * the listen stream ends); the upstreams' updates then reach the stream through the tenant's bus.
   */
  holdResourceSubscriptions(tenantId: string, uris: readonly string[]): Promise<() => void>;
  /**
   * Installs the tenant's upstream catalog on a per-request server (both protocol generations): lists,
   * prompts, resources and completion; `handlers` are the server's recorded handlers (the built-in ones
   * are what upstream names fall through to).
   */
  attach(server: McpServer, handlers: RouterHandlers, principal: Principal, facts: { era: 'legacy' | 'modern' }): Promise<void>;
  /** The tool-call pipeline's target for the tenant's tool `name` when an upstream serves it. */
  resolveTool(tenantId: string, name: string): Promise<ToolTarget | undefined>;
  /**
   * The pass-through target for the tenant's tool `name`, when a connected 2026-07-28 upstream serves it
   * and the call can go to it as bytes (gateway/passthrough); undefined otherwise.
   */
  resolvePassThrough(tenantId: string, name: string): Promise<ToolTarget | undefined>;
  /** The MCP layer's notifier (publishes list changes to a tenant's sessions on every replica). */
  useNotifier(notifierFor: (tenantId: string) => ServerNotifier): void;
  /** The MCP layer's request-state codec (upstream input_required for 2026-07-28 callers). */
  useRequestState(codec: RequestStateCodecPort): void;
  /** Users' own upstream tokens (admin listing and revocation); undefined without key provider or Redis. */
  readonly userTokens: UserTokenVault | undefined;
  /**
   * The /oauth/* routes of per-user credentials (consent link, callback, client metadata document, the
   * user's own token); undefined without key provider or Redis.
   */
  oauthRoutes(
    audit?: (entry: AuditEntry) => Promise<void>,
  ): ((request: Request, path: string, authenticate: AuthenticateCaller) => Promise<Response | undefined>) | undefined;
  /** Subscribes the cross-replica channels; call before serving. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Builds the federation layer. */
export function createFederation(opts: FederationOptions): Federation {
  const store = new PgUpstreamStore(opts.pool, opts.tenantDb);
  const guard = new SsrfGuard(opts.allowlist, opts.resolver);
  const provider = opts.keyProvider ?? (opts.masterKey ? new LocalKeyProvider(opts.masterKey, opts.previousMasterKeys ?? []) : undefined);
  const secrets = provider ? new SecretBox(store, provider) : undefined;
  const directory = new UpstreamDirectory(store, opts.cache, secrets);
  let notifierFor: ((tenantId: string) => ServerNotifier) | undefined;
  let requestState: RequestStateCodecPort | undefined;
  const announce = (tenantId: string, kinds: readonly ('tools' | 'prompts' | 'resources')[] = ['tools', 'prompts', 'resources']) => {
    const n = notifierFor?.(tenantId);
    if (!n) return;
    for (const k of kinds) (k === 'tools' ? n.toolsChanged : k === 'prompts' ? n.promptsChanged : n.resourcesChanged)();
  };
  // eslint-disable-next-line prefer-const -- the pool's callback needs the catalog built from the pool
  let catalog: Catalog;
  const pool = new ClientPool({
    guard,
    version: opts.version,
    ...(opts.registry && { registry: opts.registry }),
    ...(opts.idleMs !== undefined && { idleMs: opts.idleMs }),
    ...(opts.breakerThreshold !== undefined && { breakerThreshold: opts.breakerThreshold }),
    ...(opts.halfOpenAfterMs !== undefined && { halfOpenAfterMs: opts.halfOpenAfterMs }),
    // Named by tenant and namespace, never by URL (it may carry credentials in its query).
    onError: (err, up) => opts.onError?.(err, `upstream ${up.tenantId}/${up.namespace}`),
    onResourceUpdated: (up, uri) => notifierFor?.(up.tenantId).resourceUpdated(exposedUri(up, uri)),
    onListChanged: (tenantId, _namespace, kind) => {
      catalog.invalidate(tenantId).then(
        () => announce(tenantId, [kind]),
        (err: unknown) => opts.onError?.(err, 'catalog invalidation'),
      );
    },
  });
  catalog = new Catalog(directory, pool, opts.cache, { onRejectedToolName: rejectedNameReporter(opts.registry, opts.onRejectedToolName) });
  const subscriber = opts.stateRedis?.duplicate({ connectionName: 'umcp-federation-pending' });
  subscriber?.on('error', (err: Error) => opts.onError?.(err, 'pending-input subscriber'));
  const pending =
    opts.stateRedis && subscriber
      ? new PendingInputs({
          redis: opts.stateRedis,
          subscriber,
          keyPrefix: opts.keyPrefix ?? 'umcp:',
          replicaId: opts.replicaId ?? randomUUID(),
          roundMs: 120_000,
        })
      : undefined;
  const userOAuth = createUserOAuth({
    pool: opts.pool,
    ...(opts.tenantDb && { tenantDb: opts.tenantDb }),
    guard,
    directory,
    clientPool: pool,
    box: secrets,
    redis: opts.credentialsRedis,
    keyPrefix: opts.keyPrefix ?? 'umcp:',
    ...(opts.registry && { registry: opts.registry }),
    ...(opts.publicUrl && { publicUrl: opts.publicUrl }),
    ...(opts.consentTtlMs !== undefined && { consentTtlMs: opts.consentTtlMs }),
    onChanged: (tenantId) => announce(tenantId, ['tools']),
    ...(opts.onError && { onError: opts.onError }),
  });
  const { credentials } = userOAuth;
  const toolDeps = () => ({
    directory,
    catalog,
    pool,
    credentials,
    version: opts.version,
    ...(requestState && { requestState }),
    ...(pending && { pending }),
  });
  const registry = new UpstreamRegistry({
    store,
    directory,
    catalog,
    pool,
    guard,
    box: secrets,
    builtinNames: opts.builtinNames,
    announce: (t) => announce(t),
    // Tokens of a removed or re-pointed per-user upstream are revoked (here and at its AS), not left behind.
    dropUserTokens: async (up) => {
      if (up.options.auth === 'per-user-oauth') await userOAuth.vault?.revoke(up);
    },
    version: opts.version,
  });
  return {
    registry,
    catalog,
    pool,
    secrets,
    directory,
    remoteTasks: new RemoteTasks(directory, pool),
    async holdResourceSubscriptions(tenantId, uris) {
      const ups = uris.length ? await directory.list(tenantId) : [];
      if (ups.length === 0) return () => undefined;
      let roots: Record<string, string> | undefined;
      const held: { up: ResolvedUpstream; uri: string }[] = [];
      for (const uri of uris) {
        const namespaced = ups.find((u) => !u.root && upstreamUri(u.namespace, uri) !== undefined);
        if (namespaced) {
          held.push({ up: namespaced, uri: upstreamUri(namespaced.namespace, uri)! });
          continue;
        }
        roots ??= ups.some((u) => u.root) ? (await catalog.get(tenantId)).roots.resources : {};
        const root = ups.find((u) => u.root && u.namespace === roots![uri]);
        if (root) held.push({ up: root, uri });
      }
      const report = (err: unknown) => opts.onError?.(err, 'resource subscription');
      await Promise.all(held.map((h) => pool.get(h.up).subscribe(h.uri, true).catch(report)));
      let released = false;
      return () => {
        if (released) return;
        released = true;
        for (const h of held) pool.get(h.up).subscribe(h.uri, false).catch(report);
      };
    },
    attach(server, handlers, principal, facts) {
      return attachFederation(server, handlers, principal, facts, {
        directory,
        catalog,
        pool,
        listTtlMs: opts.listTtlMs,
        ...(opts.pageSize && { pageSize: opts.pageSize }),
        ...(requestState && { requestState }),
        ...(pending && { pending }),
        perCallerTools: (p, ctx) => userOAuth.listing.tools(p, ctx),
      });
    },
    resolveTool(tenantId, name) {
      return resolveUpstreamTool(toolDeps(), tenantId, name);
    },
    resolvePassThrough(tenantId, name) {
      return resolvePassThroughTool(toolDeps(), tenantId, name);
    },
    userTokens: userOAuth.vault,
    oauthRoutes: (audit) => userOAuth.routes(audit),
    async start() {
      await pending?.start();
    },
    useRequestState(codec) {
      requestState = codec;
    },
    useNotifier(fn) {
      notifierFor = fn;
    },
    async close() {
      pending?.close();
      await subscriber?.quit().catch(() => subscriber.disconnect());
      await pool.close();
      await userOAuth.close();
    },
  };
}
