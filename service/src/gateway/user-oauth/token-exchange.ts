/**
 * `auth: token-exchange` (RFC 8693): the caller's own OAuth access token (the one it sent the gateway) is
 * exchanged at the configured token endpoint for a token whose audience is the upstream (`resource` = the
 * upstream URL, `audience` when configured). Exchanged tokens are cached in process per (user, upstream)
 * until shortly before they expire and never stored; an API-key caller has no token to exchange.
 */
import { createHash } from 'node:crypto';
import type { FetchLike } from '@modelcontextprotocol/client';
import { z } from 'zod';
import type { ResolvedUpstream } from '../upstream-config.js';
import { ConsentError } from './auth-server-client.js';
import { NO_METRICS, type UserOAuthMetrics } from './user-oauth-metrics.js';

const Answer = z.looseObject({ access_token: z.string().min(1), expires_in: z.number().optional(), token_type: z.string().optional() });

const MARGIN_MS = 30_000;
const MAX_ENTRIES = 10_000;

/** RFC 8693 exchanges with a per-process cache. */
export class TokenExchanger {
  private readonly cache = new Map<string, { token: string; until: number }>();
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(
    private readonly fetchFn: FetchLike,
    private readonly metrics: UserOAuthMetrics = NO_METRICS,
  ) {}

  /**
   * An access token for `up` on behalf of the caller whose token is `subjectToken`. `refused`: the upstream
   * refused that exchanged token, so a new exchange is made.
   */
  async tokenFor(up: ResolvedUpstream, subject: string, subjectToken: string, refused?: string): Promise<string> {
    // The cache key covers the subject token too: a caller's new token gives a new exchange.
    const key = createHash('sha256').update(`${up.id}@${up.version}\u0000${subject}\u0000${subjectToken}`).digest('base64url');
    const hit = this.cache.get(key);
    if (hit && hit.until > Date.now() && hit.token !== refused) return hit.token;
    let flight = this.inflight.get(key);
    if (!flight) {
      flight = this.exchange(up, subjectToken)
        .then(
          ({ token, expiresIn }) => {
            this.metrics.exchange('ok');
            if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
            this.cache.set(key, { token, until: Date.now() + Math.max(0, (expiresIn ?? 300) * 1000 - MARGIN_MS) });
            return token;
          },
          (err: unknown) => {
            this.metrics.exchange('failed');
            throw err;
          },
        )
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, flight);
    }
    return flight;
  }

  private async exchange(up: ResolvedUpstream, subjectToken: string): Promise<{ token: string; expiresIn?: number }> {
    const conf = up.credentials?.tokenExchange;
    if (!conf) throw new ConsentError('not_configured', `upstream "${up.namespace}" has no credentials.tokenExchange`, 500);
    const body = new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: subjectToken,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      resource: up.url,
    });
    if (conf.audience) body.set('audience', conf.audience);
    if (conf.scope) body.set('scope', conf.scope);
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (conf.clientSecret) {
      const enc = (v: string) => encodeURIComponent(v).replace(/%20/g, '+');
      headers['authorization'] = `Basic ${Buffer.from(`${enc(conf.clientId)}:${enc(conf.clientSecret)}`).toString('base64')}`;
    } else body.set('client_id', conf.clientId);
    let res: Response;
    try {
      res = await this.fetchFn(conf.tokenEndpoint, { method: 'POST', headers, body });
    } catch (err) {
      throw new ConsentError(
        'exchange_failed',
        `token exchange for upstream "${up.namespace}" failed: ${err instanceof Error ? err.message : String(err)}`,
        502,
      );
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const e = json as { error?: unknown; error_description?: unknown } | undefined;
      const what =
        typeof e?.error === 'string' ? `${e.error}${typeof e.error_description === 'string' ? `: ${e.error_description}` : ''}` : `HTTP ${res.status}`;
      throw new ConsentError('exchange_refused', `the token endpoint refused to exchange the caller's token for upstream "${up.namespace}" (${what})`, 502);
    }
    const parsed = Answer.safeParse(json);
    if (!parsed.success) throw new ConsentError('exchange_failed', `the token endpoint's answer for upstream "${up.namespace}" has no access_token`, 502);
    return { token: parsed.data.access_token, ...(parsed.data.expires_in !== undefined && { expiresIn: parsed.data.expires_in }) };
  }
}
