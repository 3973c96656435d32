/**
 * Users' own tokens for per-user upstreams: sealed per (tenant, upstream, user) in PostgreSQL
 * (upstream_user_tokens, the tenant's envelope key with the three ids as additional data), refreshed with
 * the refresh token shortly before expiry or when the upstream refused the token. A refresh is one per
 * user and upstream across the cluster: a Redis lock (SET NX PX) elects the replica that asks the AS,
 * the others wait for the row to change; in one process concurrent callers share one promise. A refresh
 * the AS refuses deletes the tokens, so the next call asks the user to connect again.
 */
import { createHash } from 'node:crypto';
import { refreshAuthorization, type OAuthTokens } from '@modelcontextprotocol/client';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { PgUpstreamTokenStore } from '../../store/pg/upstream-token-store.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { ResolvedUpstream } from '../upstream-config.js';
import type { AuthServerClient } from './auth-server-client.js';
import type { UserOAuthMetrics } from './user-oauth-metrics.js';

/** A user's token set as sealed. */
const TokenSet = z.object({
  accessToken: z.string(),
  refreshToken: z.string().optional(),
  /** epoch ms */
  expiresAt: z.number().optional(),
  scope: z.string().optional(),
  /** The AS that issued it (refresh and revocation go there) and the client it was issued to. */
  asUrl: z.string(),
  clientId: z.string(),
  resource: z.string(),
});
export type TokenSet = z.infer<typeof TokenSet>;

/** Non-secret description of a stored token set (admin listings). */
export interface TokenView {
  readonly user: string;
  readonly expiresAt: string | null;
  readonly scope: string | null;
  readonly connectedAt: string;
  readonly updatedAt: string;
}

/** Refresh this long before expiry, ms. */
const REFRESH_MARGIN_MS = 60_000;
const LOCK_MS = 15_000;

/** A stable, non-reversible key of a user for pool slots and Redis keys. */
export function userKey(tenantId: string, upstreamId: string, subject: string): string {
  return createHash('sha256').update(`${tenantId}\u0000${upstreamId}\u0000${subject}`).digest('base64url').slice(0, 32);
}

/** What the vault needs. */
export interface UserTokenVaultDeps {
  readonly store: PgUpstreamTokenStore;
  readonly box: SecretBox;
  readonly redis: Redis;
  readonly keyPrefix: string;
  readonly as: AuthServerClient;
  readonly onError?: (err: unknown, where: string) => void;
  /** A user's set of tokens for a tenant's upstream appeared or went (their tool list changes). */
  readonly onChanged?: (tenantId: string) => void;
  readonly metrics?: UserOAuthMetrics;
}

/** Sealed storage, refresh and revocation of users' upstream tokens. */
export class UserTokenVault {
  private readonly refreshing = new Map<string, Promise<TokenSet | undefined>>();

  constructor(private readonly deps: UserTokenVaultDeps) {}

  /** The user's token set, or undefined. */
  async get(up: Pick<ResolvedUpstream, 'tenantId' | 'id'>, subject: string): Promise<TokenSet | undefined> {
    const row = await this.deps.store.get(up.tenantId, up.id, subject);
    if (!row) return undefined;
    return TokenSet.parse(JSON.parse(await this.deps.box.open(up.tenantId, aad(up.id, subject), row.sealed)));
  }

  /** Stores what the AS issued for the user. */
  async put(
    up: Pick<ResolvedUpstream, 'tenantId' | 'id'>,
    subject: string,
    tokens: OAuthTokens,
    origin: Pick<TokenSet, 'asUrl' | 'clientId' | 'resource'>,
  ): Promise<TokenSet> {
    const set: TokenSet = {
      accessToken: tokens.access_token,
      ...(tokens.refresh_token && { refreshToken: tokens.refresh_token }),
      ...(tokens.expires_in !== undefined && { expiresAt: Date.now() + tokens.expires_in * 1000 }),
      ...(tokens.scope && { scope: tokens.scope }),
      // Only these three: `origin` may be a whole stored set (a refresh), whose tokens are the old ones.
      asUrl: origin.asUrl,
      clientId: origin.clientId,
      resource: origin.resource,
    };
    await this.deps.store.put({
      tenantId: up.tenantId,
      upstreamId: up.id,
      subject,
      sealed: await this.deps.box.seal(up.tenantId, aad(up.id, subject), JSON.stringify(set)),
      expiresAt: set.expiresAt === undefined ? null : new Date(set.expiresAt),
      scope: set.scope ?? null,
    });
    return set;
  }

  /**
   * A usable access token of the user: the stored one, refreshed first when it expires within a minute,
   * or (with `refused`) when the upstream refused exactly that token. Undefined when the user has none or
   * the refresh failed (the tokens are then deleted: the user must connect again).
   */
  async usable(up: ResolvedUpstream, subject: string, refused?: string): Promise<TokenSet | undefined> {
    const current = await this.get(up, subject);
    if (!current) return undefined;
    const stale =
      refused !== undefined ? current.accessToken === refused : current.expiresAt !== undefined && current.expiresAt - Date.now() < REFRESH_MARGIN_MS;
    if (!stale) return current;
    const key = userKey(up.tenantId, up.id, subject);
    let flight = this.refreshing.get(key);
    if (!flight) {
      flight = this.refreshOnce(up, subject, key, current.accessToken).finally(() => this.refreshing.delete(key));
      this.refreshing.set(key, flight);
    }
    return flight;
  }

  /** Deletes tokens (one user's, or every user's) and revokes them at the AS when it has a revocation endpoint. */
  async revoke(up: ResolvedUpstream, subject?: string): Promise<string[]> {
    const rows =
      subject === undefined
        ? await this.deps.store.list(up.tenantId, up.id)
        : [await this.deps.store.get(up.tenantId, up.id, subject)].filter((r) => r !== null);
    const sets = await Promise.all(rows.map(async (r) => this.get(up, r.subject).catch(() => undefined)));
    const removed = await this.deps.store.remove(up.tenantId, up.id, subject);
    await Promise.all(sets.map((s) => (s ? this.revokeAtAs(up, s) : undefined)));
    if (removed.length) this.changed(up.tenantId);
    return removed;
  }

  /** Announces that a user of the tenant connected or lost an upstream. */
  changed(tenantId: string): void {
    this.deps.onChanged?.(tenantId);
  }

  /** Non-secret views of the upstream's stored token sets. */
  async list(up: ResolvedUpstream): Promise<TokenView[]> {
    return (await this.deps.store.list(up.tenantId, up.id)).map((r) => ({
      user: r.subject,
      expiresAt: r.expiresAt?.toISOString() ?? null,
      scope: r.scope,
      connectedAt: r.createdAt.toISOString(),
      updatedAt: r.updatedAt.toISOString(),
    }));
  }

  private async refreshOnce(up: ResolvedUpstream, subject: string, key: string, stale: string): Promise<TokenSet | undefined> {
    const lock = `${this.deps.keyPrefix}uoauth:refresh:${key}`;
    const token = `${process.pid}:${Math.random()}`;
    const deadline = Date.now() + LOCK_MS;
    for (;;) {
      if ((await this.deps.redis.set(lock, token, 'PX', LOCK_MS, 'NX')) === 'OK') break;
      // Another replica refreshes: wait for the row to change (or the lock to go).
      await new Promise((r) => setTimeout(r, 100));
      const now = await this.get(up, subject);
      if (!now) return undefined;
      if (now.accessToken !== stale) return now;
      if (Date.now() > deadline) return undefined;
    }
    try {
      const current = await this.get(up, subject);
      if (!current) return undefined;
      if (current.accessToken !== stale) return current; // refreshed meanwhile
      if (!current.refreshToken) {
        await this.deps.store.remove(up.tenantId, up.id, subject);
        return undefined;
      }
      let tokens: OAuthTokens;
      try {
        const metadata = await this.deps.as.metadata(current.asUrl);
        tokens = await refreshAuthorization(current.asUrl, {
          metadata,
          clientInformation: { client_id: current.clientId, ...clientSecretOf(up, current.clientId) },
          refreshToken: current.refreshToken,
          resource: current.resource,
          fetchFn: this.deps.as.fetch,
        });
      } catch (err) {
        // Refused (invalid_grant: revoked, expired, reused) or unreachable: the user connects again.
        this.deps.metrics?.refresh('failed');
        this.deps.onError?.(err, `refresh of a user token for upstream ${up.tenantId}/${up.namespace}`);
        await this.deps.store.remove(up.tenantId, up.id, subject);
        this.changed(up.tenantId);
        return undefined;
      }
      this.deps.metrics?.refresh('ok');
      return await this.put(up, subject, tokens, current);
    } finally {
      // Release only our own lock.
      await this.deps.redis
        .eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end", 1, lock, token)
        .catch(() => undefined);
    }
  }

  private async revokeAtAs(up: ResolvedUpstream, set: TokenSet): Promise<void> {
    try {
      const metadata = await this.deps.as.metadata(set.asUrl);
      const endpoint = (metadata as { revocation_endpoint?: string }).revocation_endpoint;
      if (!endpoint) return;
      const secret = clientSecretOf(up, set.clientId).client_secret;
      for (const [value, hint] of [
        [set.refreshToken, 'refresh_token'],
        [set.accessToken, 'access_token'],
      ] as const) {
        if (!value) continue;
        const body = new URLSearchParams({ token: value, token_type_hint: hint, client_id: set.clientId });
        if (secret) body.set('client_secret', secret);
        const res = await this.deps.as.fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
        await res.body?.cancel();
      }
    } catch (err) {
      // The tokens are gone here either way; the AS keeps them until they expire.
      this.deps.onError?.(err, `revocation at the authorization server of upstream ${up.tenantId}/${up.namespace}`);
    }
  }
}

/** The AAD id of a user's token set: tenant + upstream + user (a row copied to another user does not open). */
const aad = (upstreamId: string, subject: string) => `${upstreamId}/user/${subject}`;

/** The configured client secret, when the token was issued to the configured client. */
function clientSecretOf(up: ResolvedUpstream, clientId: string): { client_secret?: string } {
  const conf = up.credentials?.userOAuth;
  return conf?.clientId === clientId && conf.clientSecret ? { client_secret: conf.clientSecret } : {};
}
