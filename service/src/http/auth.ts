/**
 * Authentication of /mcp requests. In order:
 *  1. `Authorization: Bearer umcp_<prefix>_<secret>`: an API key (ApiKeyStore.verify), cached in-process
 *     for API_KEY_CACHE_MS so a revocation takes effect on every replica within that time;
 *  2. any other Bearer token, when OAUTH_ISSUER is set: an OAuth 2.1 access token (JWT) verified with jose
 *     against the issuer's JWKS, `iss` = OAUTH_ISSUER, `aud` = OAUTH_AUDIENCE (default: the resource URL);
 *     the tenant comes from the OAUTH_TENANT_CLAIM claim (tenant name or id), the subject from `sub`;
 *  3. no Authorization header and ANONYMOUS_TENANT set: that tenant, subject `anonymous`.
 * Anything else fails; the caller answers 401 with a WWW-Authenticate challenge.
 */
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { Principal } from '../domain/principal.js';
import type { ApiKeyStore, KeyRejection, Tenant } from '../store/ports.js';
import { parseApiKey } from '../store/pg/pg-api-key-store.js';

/** Why authentication failed (`invalid_token` when a credential was given, else `missing`). */
export interface AuthFailure {
  readonly error: 'missing' | 'invalid_token';
  readonly description: string;
}

/** Looks tenants up by id or name (the admin store's find). */
export interface TenantLookup {
  find(idOrName: string): Promise<Tenant | null>;
}

/** Options of the Authenticator. */
export interface AuthenticatorOptions {
  apiKeys: ApiKeyStore;
  tenants: TenantLookup;
  /** In-process cache lifetime of verified keys and resolved tenants, ms (0 = no cache). */
  cacheMs: number;
  anonymousTenant?: string;
  oauth?: { issuer: string; jwksUrl: string; audience: string; tenantClaim: string };
}

interface CacheEntry<T> {
  value: T;
  expires: number;
}

const MAX_CACHE = 10_000;

/** Resolves the caller of a request to a Principal. */
export class Authenticator {
  private readonly keyCache = new Map<string, CacheEntry<Principal | AuthFailure>>();
  private readonly tenantCache = new Map<string, CacheEntry<Tenant | null>>();
  private readonly jwks?: ReturnType<typeof createRemoteJWKSet>;

  constructor(private readonly opts: AuthenticatorOptions) {
    if (opts.oauth) this.jwks = createRemoteJWKSet(new URL(opts.oauth.jwksUrl), { cooldownDuration: 30_000, timeoutDuration: 5_000 });
  }

  /**
   * Returns the principal, or why the request is not authenticated. `server`: the virtual server the
   * request is for (`/mcp/<server>`), whose own resource URL (`<audience>/<server>`) is an accepted
   * audience next to the gateway's (RFC 8707: a client may ask a token for the resource it calls).
   */
  async authenticate(authorization: string | null, server?: string): Promise<Principal | AuthFailure> {
    if (!authorization) {
      if (this.opts.anonymousTenant) return this.anonymous(this.opts.anonymousTenant);
      return { error: 'missing', description: 'authentication required: send Authorization: Bearer <api key or access token>' };
    }
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) return { error: 'invalid_token', description: 'Authorization must be "Bearer <token>"' };
    const token = m[1]!;
    if (parseApiKey(token)) {
      return this.cached(this.keyCache, token, async () => {
        const principal = await this.opts.apiKeys.verify(token);
        return principal ?? { error: 'invalid_token', description: describeRejection(await this.opts.apiKeys.explainRejection(token)) };
      });
    }
    if (this.opts.oauth && token.split('.').length === 3) return this.verifyJwt(token, server);
    return { error: 'invalid_token', description: 'not a valid API key or access token' };
  }

  /** Drops cached verifications (after a revoke or disable on this replica, so it applies at once here). */
  invalidate(): void {
    this.keyCache.clear();
    this.tenantCache.clear();
  }

  private async anonymous(name: string): Promise<Principal | AuthFailure> {
    const tenant = await this.tenant(name);
    if (!tenant || tenant.status !== 'active') return { error: 'missing', description: `anonymous tenant "${name}" is missing or disabled` };
    return { tenantId: tenant.id, tenantName: tenant.name, subject: 'anonymous', kind: 'anonymous', toolsets: tenant.toolsets, scopes: [] };
  }

  private async verifyJwt(token: string, server?: string): Promise<Principal | AuthFailure> {
    const oauth = this.opts.oauth!;
    const audience = server === undefined ? oauth.audience : [oauth.audience, `${oauth.audience.replace(/\/+$/, '')}/${encodeURIComponent(server)}`];
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks!, { issuer: oauth.issuer, audience, requiredClaims: ['exp', 'sub'] }));
    } catch (err) {
      return { error: 'invalid_token', description: `access token rejected: ${(err as { code?: string }).code ?? 'invalid'}` };
    }
    const claim = payload[oauth.tenantClaim];
    if (typeof claim !== 'string' || !claim) return { error: 'invalid_token', description: `access token has no "${oauth.tenantClaim}" claim` };
    const tenant = await this.tenant(claim);
    if (!tenant || tenant.status !== 'active') return { error: 'invalid_token', description: "the token's tenant is unknown or disabled" };
    const scope = payload.scope ?? payload.scp;
    const scopes = typeof scope === 'string' ? scope.split(' ').filter(Boolean) : Array.isArray(scope) ? scope.map(String) : [];
    return { tenantId: tenant.id, tenantName: tenant.name, subject: `oauth:${payload.sub}`, kind: 'oauth', toolsets: tenant.toolsets, scopes };
  }

  private tenant(idOrName: string): Promise<Tenant | null> {
    // Misses are not cached: a tenant created a moment ago (e.g. `demo` at start) must work at once.
    return this.cached(this.tenantCache, idOrName, () => this.opts.tenants.find(idOrName), false);
  }

  private async cached<T>(cache: Map<string, CacheEntry<T>>, key: string, load: () => Promise<T>, cacheNull = true): Promise<T> {
    const now = Date.now();
    const hit = cache.get(key);
    if (hit && hit.expires > now) return hit.value;
    const value = await load();
    if (this.opts.cacheMs > 0 && (cacheNull || value !== null)) {
      if (cache.size >= MAX_CACHE) cache.clear();
      cache.set(key, { value, expires: now + this.opts.cacheMs });
    }
    return value;
  }
}

/** The 401 message of a refused API key: what really happened, and what to do about it. */
export function describeRejection(r: KeyRejection): string {
  switch (r.reason) {
    case 'tenant-disabled':
      return `tenant "${r.tenant}" is disabled: its API keys are refused until an operator enables it again`;
    case 'revoked':
      return 'this API key was revoked: use another key of the tenant, or ask an operator for a new one';
    case 'unknown':
      return 'unknown API key: check that the whole key (umcp_<prefix>_<secret>) was copied';
  }
}

/** Type guard separating a principal from a failure. */
export function isAuthFailure(x: Principal | AuthFailure): x is AuthFailure {
  return 'error' in x;
}
