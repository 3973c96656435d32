/**
 * The consent flow of a per-user upstream, in three steps:
 *
 *   begin    (the call, any replica)   a flow record in Redis + a signed connect URL for the elicitation
 *   connect  (the user's browser)      checks and consumes the flow, discovers the AS, PKCE S256 +
 *                                      RFC 8707 resource, a second single-use record for the AS `state`,
 *                                      302 to the authorization endpoint
 *   callback (the user's browser)      consumes that record, exchanges the code (SDK), stores the tokens
 *                                      sealed for (tenant, user, upstream)
 *
 * The connect URL's `state` is `<tenant id>.<sealed>`: AES-GCM sealed under the tenant's data key (so it
 * is signed and opaque), naming the flow id and its expiry. Flow and AS records are single use (GETDEL)
 * and expire, so any replica can finish what another started and nothing can be replayed.
 */
import { randomBytes } from 'node:crypto';
import { exchangeAuthorization, startAuthorization } from '@modelcontextprotocol/client';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { SecretBox } from '../crypto/secret-box.js';
import type { ResolvedUpstream } from '../upstream-config.js';
import type { UpstreamDirectory } from '../upstream-directory.js';
import { ConsentError, CONSENT_CALLBACK_PATH, type AuthServerClient } from './auth-server-client.js';
import { userKey, type UserTokenVault } from './user-token-vault.js';

/** Path of the connect endpoint of upstream `ns`. */
export const connectPath = (ns: string) => `/oauth/upstreams/${encodeURIComponent(ns)}/connect`;

const Flow = z.object({ tenantId: z.string(), upstreamId: z.string(), namespace: z.string(), subject: z.string(), baseUrl: z.string() });
const SignedState = z.object({ id: z.string(), exp: z.number(), ns: z.string() });
const AsState = z.object({
  tenantId: z.string(),
  upstreamId: z.string(),
  namespace: z.string(),
  subject: z.string(),
  verifier: z.string(),
  redirectUri: z.string(),
  asUrl: z.string(),
  resource: z.string(),
  clientId: z.string(),
});

/** What the flow needs. */
export interface ConsentFlowDeps {
  readonly redis: Redis;
  readonly keyPrefix: string;
  readonly box: SecretBox;
  readonly directory: UpstreamDirectory;
  readonly vault: UserTokenVault;
  readonly as: AuthServerClient;
  /** How long a connect link and an authorization round stay valid, ms. */
  readonly ttlMs: number;
}

/** A started flow: the URL the user opens. */
export interface ConsentLink {
  readonly url: string;
  readonly elicitationId: string;
}

/** The per-user OAuth consent flow. */
export class ConsentFlow {
  constructor(private readonly deps: ConsentFlowDeps) {}

  /** Starts a flow for (user, upstream): the signed, single-use, expiring connect URL. */
  async begin(up: ResolvedUpstream, subject: string, baseUrl: string): Promise<ConsentLink> {
    const id = randomBytes(24).toString('base64url');
    const exp = Date.now() + this.deps.ttlMs;
    const flow: z.infer<typeof Flow> = { tenantId: up.tenantId, upstreamId: up.id, namespace: up.namespace, subject, baseUrl };
    await this.deps.redis.set(this.key('flow', id), JSON.stringify(flow), 'PX', this.deps.ttlMs + 60_000);
    const sealed = await this.deps.box.seal(up.tenantId, 'consent-state', JSON.stringify({ id, exp, ns: up.namespace } satisfies z.infer<typeof SignedState>));
    const state = `${up.tenantId}.${sealed.toString('base64url')}`;
    return { url: `${baseUrl}${connectPath(up.namespace)}?state=${encodeURIComponent(state)}`, elicitationId: id };
  }

  /** The connect step: where to send the user's browser (the AS's authorization endpoint). */
  async connect(namespace: string, state: string | null): Promise<URL> {
    const signed = await this.openState(state);
    if (signed.ns !== namespace) throw new ConsentError('invalid_state', 'this link belongs to another upstream');
    if (signed.exp < Date.now()) throw new ConsentError('expired_state', 'this link has expired: call the tool again for a new one');
    const raw = await this.deps.redis.getdel(this.key('flow', signed.id));
    if (!raw) throw new ConsentError('used_state', 'this link was already used: call the tool again for a new one');
    const flow = Flow.parse(JSON.parse(raw));
    const up = await this.upstream(flow.tenantId, flow.upstreamId);
    try {
      const info = await this.deps.as.discover(up);
      const clientInformation = this.deps.as.clientInformation(up, info.metadata, flow.baseUrl);
      const asState = randomBytes(24).toString('base64url');
      const redirectUri = `${flow.baseUrl}${CONSENT_CALLBACK_PATH}`;
      const scope = up.credentials?.userOAuth?.scope;
      const { authorizationUrl, codeVerifier } = await startAuthorization(info.asUrl, {
        metadata: info.metadata,
        clientInformation,
        redirectUrl: redirectUri,
        state: asState,
        resource: info.resource,
        ...(scope && { scope }),
      });
      const record: z.infer<typeof AsState> = {
        tenantId: flow.tenantId,
        upstreamId: flow.upstreamId,
        namespace: flow.namespace,
        subject: flow.subject,
        verifier: codeVerifier,
        redirectUri,
        asUrl: info.asUrl,
        resource: info.resource,
        clientId: clientInformation.client_id,
      };
      await this.deps.redis.set(this.key('as', asState), JSON.stringify(record), 'PX', this.deps.ttlMs);
      return authorizationUrl;
    } catch (err) {
      await this.remember(up, flow.subject, err);
      throw err;
    }
  }

  /** The callback step: exchanges the code and stores the user's tokens; returns whose and for which upstream. */
  async callback(query: URLSearchParams): Promise<{ namespace: string; tenantId: string; subject: string }> {
    const state = query.get('state');
    if (!state) throw new ConsentError('invalid_state', 'the authorization server sent no state');
    const raw = await this.deps.redis.getdel(this.key('as', state));
    if (!raw) throw new ConsentError('used_state', 'unknown, already used or expired authorization round: call the tool again for a new link');
    const round = AsState.parse(JSON.parse(raw));
    const up = await this.upstream(round.tenantId, round.upstreamId);
    try {
      const error = query.get('error');
      if (error) {
        const description = query.get('error_description');
        throw new ConsentError(
          error === 'access_denied' ? 'access_denied' : 'authorization_error',
          `the authorization server answered ${error}${description ? `: ${description}` : ''}`,
        );
      }
      const code = query.get('code');
      if (!code) throw new ConsentError('invalid_request', 'the authorization server sent neither a code nor an error');
      const metadata = await this.deps.as.metadata(round.asUrl);
      const secret = up.credentials?.userOAuth?.clientId === round.clientId ? up.credentials.userOAuth.clientSecret : undefined;
      let tokens;
      try {
        tokens = await exchangeAuthorization(round.asUrl, {
          metadata,
          clientInformation: { client_id: round.clientId, ...(secret && { client_secret: secret }) },
          authorizationCode: code,
          ...(query.get('iss') !== null && { iss: query.get('iss')! }),
          codeVerifier: round.verifier,
          redirectUri: round.redirectUri,
          resource: round.resource,
          fetchFn: this.deps.as.fetch,
        });
      } catch (err) {
        throw new ConsentError('token_error', `the authorization server refused the code: ${err instanceof Error ? err.message : String(err)}`, 502);
      }
      await this.deps.vault.put(up, round.subject, tokens, { asUrl: round.asUrl, clientId: round.clientId, resource: round.resource });
      await this.deps.redis.del(this.lastErrorKey(up, round.subject));
      this.deps.vault.changed(up.tenantId);
      return { namespace: up.namespace, tenantId: up.tenantId, subject: round.subject };
    } catch (err) {
      await this.remember(up, round.subject, err);
      throw err;
    }
  }

  /** Why the user's last consent attempt for the upstream failed (shown with the next elicitation). */
  async lastError(up: ResolvedUpstream, subject: string): Promise<string | undefined> {
    return (await this.deps.redis.get(this.lastErrorKey(up, subject))) ?? undefined;
  }

  private async remember(up: ResolvedUpstream, subject: string, err: unknown): Promise<void> {
    const message = err instanceof ConsentError ? err.message : 'internal error';
    await this.deps.redis.set(this.lastErrorKey(up, subject), message, 'PX', 600_000).catch(() => undefined);
  }

  private lastErrorKey(up: ResolvedUpstream, subject: string): string {
    return this.key('last', userKey(up.tenantId, up.id, subject));
  }

  private async openState(state: string | null): Promise<z.infer<typeof SignedState>> {
    const dot = state?.indexOf('.') ?? -1;
    if (!state || dot <= 0) throw new ConsentError('invalid_state', 'the link has no valid state parameter');
    try {
      const plain = await this.deps.box.open(state.slice(0, dot), 'consent-state', Buffer.from(state.slice(dot + 1), 'base64url'));
      return SignedState.parse(JSON.parse(plain));
    } catch {
      throw new ConsentError('invalid_state', 'the link is not one this gateway issued (bad or altered state)');
    }
  }

  private async upstream(tenantId: string, upstreamId: string): Promise<ResolvedUpstream> {
    const up = (await this.deps.directory.list(tenantId)).find((u) => u.id === upstreamId);
    if (!up || up.options.auth !== 'per-user-oauth')
      throw new ConsentError('unknown_upstream', 'the upstream of this link is no longer registered for per-user OAuth', 404);
    return up;
  }

  private key(kind: 'flow' | 'as' | 'last', id: string): string {
    return `${this.deps.keyPrefix}uoauth:${kind}:${id}`;
  }
}
