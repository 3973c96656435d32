/**
 * Composition of per-user upstream credentials for one replica (docs/per-user-credentials.md): the token
 * vault, the consent flow, caller binding (per-user OAuth and RFC 8693 exchange), per-caller tool listings,
 * the /oauth/* routes and their metrics. Without a key provider or Redis the per-user parts are absent:
 * such upstreams cannot be registered (registry) or called (a clear error); token exchange still works.
 */
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { TenantDb } from '../../store/pg/routing/tenant-db.js';
import { PgUpstreamTokenStore } from '../../store/pg/upstream-token-store.js';
import type { AuditEntry } from '../../store/ports.js';
import type { ClientPool } from '../client-pool.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { SsrfGuard } from '../ssrf-guard.js';
import type { UpstreamDirectory } from '../upstream-directory.js';
import { AuthServerClient } from './auth-server-client.js';
import { ConsentFlow } from './consent-flow.js';
import { consentRoutes, type AuthenticateCaller } from './consent-routes.js';
import { PerCallerListing } from './per-caller-listing.js';
import { TokenExchanger } from './token-exchange.js';
import { UserCredentials } from './user-credentials.js';
import { NO_METRICS, userOAuthMetrics } from './user-oauth-metrics.js';
import { UserTokenVault } from './user-token-vault.js';

/** What the composition needs from the federation layer. */
export interface UserOAuthOptions {
  readonly pool: pg.Pool;
  readonly tenantDb?: TenantDb;
  readonly guard: SsrfGuard;
  readonly directory: UpstreamDirectory;
  readonly clientPool: ClientPool;
  readonly box: SecretBox | undefined;
  readonly redis: Redis | undefined;
  readonly keyPrefix: string;
  readonly registry?: Registry;
  readonly publicUrl?: string;
  /** @defaultValue 600000 */
  readonly consentTtlMs?: number;
  /** A user connected or lost an upstream (their tools/list changes). */
  readonly onChanged: (tenantId: string) => void;
  readonly onError?: (err: unknown, where: string) => void;
}

/** The /oauth/* handler (consent-routes.ts). */
export type OAuthRoutes = (request: Request, path: string, authenticate: AuthenticateCaller) => Promise<Response | undefined>;

/** Per-user credentials of one replica. */
export interface UserOAuth {
  readonly credentials: UserCredentials;
  readonly listing: PerCallerListing;
  /** Undefined without key provider or Redis. */
  readonly vault: UserTokenVault | undefined;
  routes(audit?: (entry: AuditEntry) => Promise<void>): OAuthRoutes | undefined;
  close(): Promise<void>;
}

/** Builds the per-user credential parts. */
export function createUserOAuth(opts: UserOAuthOptions): UserOAuth {
  const authServers = new AuthServerClient(opts.guard);
  const metrics = opts.registry ? userOAuthMetrics(opts.registry) : NO_METRICS;
  const onError = opts.onError && { onError: opts.onError };
  const vault =
    opts.box && opts.redis
      ? new UserTokenVault({
          store: new PgUpstreamTokenStore(opts.pool, opts.tenantDb),
          box: opts.box,
          redis: opts.redis,
          keyPrefix: opts.keyPrefix,
          as: authServers,
          metrics,
          ...onError,
          // Listings cached on this replica are dropped; other replicas' expire within 30 s.
          onChanged: (tenantId) => {
            listing.clear();
            opts.onChanged(tenantId);
          },
        })
      : undefined;
  const flow =
    vault && opts.box && opts.redis
      ? new ConsentFlow({
          redis: opts.redis,
          keyPrefix: opts.keyPrefix,
          box: opts.box,
          directory: opts.directory,
          vault,
          as: authServers,
          ttlMs: opts.consentTtlMs ?? 600_000,
        })
      : undefined;
  const credentials = new UserCredentials({
    ...(vault && { vault }),
    ...(flow && { flow }),
    exchanger: new TokenExchanger(authServers.fetch, metrics),
    ...(opts.publicUrl && { publicUrl: opts.publicUrl }),
  });
  const listing = new PerCallerListing({ directory: opts.directory, pool: opts.clientPool, credentials, ...onError });
  return {
    credentials,
    listing,
    vault,
    routes(audit) {
      if (!vault || !flow) return undefined;
      return consentRoutes({
        flow,
        vault,
        directory: opts.directory,
        metrics,
        ...(opts.publicUrl && { publicUrl: opts.publicUrl }),
        ...(audit && { audit }),
        ...onError,
      });
    },
    close: () => authServers.close(),
  };
}
