/**
 * Binds a call to a per-caller upstream (`auth: per-user-oauth` or `token-exchange`) to its caller: a copy
 * of the registration whose `binding` (a key derived from the user, never shared) gives the pool a
 * connection of that user's own, with an auth provider that supplies that user's token. A caller without
 * a token gets the protocol's URL-mode elicitation pointing at the consent endpoint instead:
 * - 2025-era: JSON-RPC error -32042 (URLElicitationRequiredError, spec 2025-11-25), whose `data.elicitations`
 *   carries the URL; the client opens it and retries the call;
 * - 2026-07-28: an `input_required` result with one `elicitation/create` request in URL mode; the client's
 *   retry (with its `inputResponses`) finds the token. A caller whose capabilities lack `elicitation.url`
 *   gets -32021 (missing client capability) with the link instead: the SDK would refuse the round, and
 *   -32042 does not exist on this revision.
 * Error messages carry the link too, for clients that only show the message.
 * API keys are users of their own (`key:<id>`), OAuth callers are their `sub`.
 */
import { UnauthorizedError, type AuthProvider } from '@modelcontextprotocol/client';
import { ProtocolError, ProtocolErrorCode, UrlElicitationRequiredError } from '@modelcontextprotocol/server';
import type { ServerContext } from '@modelcontextprotocol/server';
import type { Principal } from '../../domain/principal.js';
import type { ToolCall } from '../../domain/tool-call.js';
import { upstreamError } from '../errors.js';
import { callerCapabilities } from '../modern-call.js';
import type { ResolvedUpstream } from '../upstream-config.js';
import { ConsentError } from './auth-server-client.js';
import type { ConsentFlow } from './consent-flow.js';
import type { TokenExchanger } from './token-exchange.js';
import { userKey, type UserTokenVault } from './user-token-vault.js';

/** A call bound to its caller, or the answer that asks the caller to connect first. */
export type Bound =
  { readonly up: ResolvedUpstream; recover(err: unknown): Promise<Record<string, unknown> | undefined> } | { readonly result: Record<string, unknown> };

/** What binding needs; the per-user parts are absent when no key provider is configured. */
export interface UserCredentialsDeps {
  readonly vault?: UserTokenVault;
  readonly flow?: ConsentFlow;
  readonly exchanger: TokenExchanger;
  /** PUBLIC_URL: the consent endpoint's base; default: the origin of the caller's request. */
  readonly publicUrl?: string;
}

/** Per-caller credentials of upstreams. */
export class UserCredentials {
  /** Subject tokens of token-exchange bindings, by binding key (the pooled provider reads the latest). */
  private readonly subjectTokens = new Map<string, string>();

  constructor(private readonly deps: UserCredentialsDeps) {}

  /** `up` bound to the call's caller, or the elicitation answer. */
  async bind(up: ResolvedUpstream, call: ToolCall): Promise<Bound> {
    const principal = call.principal;
    if (principal.kind === 'anonymous')
      throw new ProtocolError(
        ProtocolErrorCode.InvalidRequest,
        `upstream "${up.namespace}" needs each caller's own credentials: authenticate with an API key or OAuth token`,
      );
    return up.options.auth === 'token-exchange' ? this.bindExchange(up, call) : this.bindUser(up, call);
  }

  private async bindUser(up: ResolvedUpstream, call: ToolCall): Promise<Bound> {
    const { vault, flow } = this.deps;
    if (!vault || !flow) throw upstreamError(up.namespace, 'auth', 'per-user OAuth needs SECRETS_KMS_KEY_ID or SECRETS_MASTER_KEY on the gateway');
    const bound = await this.userBinding(up, call.principal.subject);
    if (!bound) return { result: await this.elicit(up, call, flow) };
    return {
      up: bound,
      // A refresh that failed during the call deleted the tokens: ask the user to connect again.
      recover: async () => ((await vault.get(up, call.principal.subject)) ? undefined : this.elicit(up, call, flow)),
    };
  }

  /**
   * `up` bound to a caller for listing its tools, or undefined when the caller has no credentials for it
   * (no token yet, an API key on a token-exchange upstream): then it lists nothing for that caller.
   */
  async boundForListing(up: ResolvedUpstream, principal: Principal, ctx: ServerContext): Promise<ResolvedUpstream | undefined> {
    if (principal.kind === 'anonymous') return undefined;
    if (up.options.auth === 'per-user-oauth') return this.userBinding(up, principal.subject);
    const m = principal.kind === 'oauth' ? BEARER.exec(ctx.http?.req?.headers.get('authorization') ?? '') : null;
    if (!m) return undefined;
    return (await this.bindExchange(up, { principal, ctx } as ToolCall).catch(() => undefined))?.up;
  }

  /** The user's binding: their own connection, their token (refreshed as needed); undefined without a token. */
  private async userBinding(up: ResolvedUpstream, subject: string): Promise<ResolvedUpstream | undefined> {
    const vault = this.deps.vault;
    if (!vault || !(await vault.usable(up, subject))) return undefined;
    let given: string | undefined;
    const authProvider: AuthProvider = {
      token: async () => (given = (await vault.usable(up, subject))?.accessToken),
      onUnauthorized: async () => {
        // The upstream refused the token: refresh it (one refresh across the cluster), or give up.
        const fresh = await vault.usable(up, subject, given);
        if (!fresh) throw new UnauthorizedError(`upstream "${up.namespace}" refused the user's token and it could not be refreshed`);
      },
    };
    return { ...up, binding: { key: userKey(up.tenantId, up.id, subject), authProvider } };
  }

  private async bindExchange(up: ResolvedUpstream, call: Pick<ToolCall, 'principal' | 'ctx'>): Promise<Bound & { up: ResolvedUpstream }> {
    const principal = call.principal;
    if (principal.kind !== 'oauth')
      throw new ProtocolError(
        ProtocolErrorCode.InvalidRequest,
        `upstream "${up.namespace}" uses token exchange (RFC 8693): it needs the caller's OAuth access token, and an API key has none; call with an access token from the gateway's issuer`,
      );
    const m = BEARER.exec(call.ctx.http?.req?.headers.get('authorization') ?? '');
    if (!m)
      throw new ProtocolError(
        ProtocolErrorCode.InvalidRequest,
        `upstream "${up.namespace}" uses token exchange (RFC 8693): the caller's access token is not available here (a task's worker cannot exchange it); call the tool without a task`,
      );
    const key = userKey(up.tenantId, up.id, principal.subject);
    this.subjectTokens.set(key, m[1]!);
    if (this.subjectTokens.size > 10_000) this.subjectTokens.clear();
    const exchange = async (refused?: string) => {
      try {
        return await this.deps.exchanger.tokenFor(up, principal.subject, this.subjectTokens.get(key) ?? m[1]!, refused);
      } catch (err) {
        throw err instanceof ConsentError ? upstreamError(up.namespace, 'auth', err.message) : err;
      }
    };
    await exchange(); // errors surface here, before any upstream request
    let given: string | undefined;
    const authProvider: AuthProvider = {
      token: async () => (given = await exchange()),
      onUnauthorized: async () => void (await exchange(given)),
    };
    return { up: { ...up, binding: { key, authProvider } }, recover: async () => undefined };
  }

  private async elicit(up: ResolvedUpstream, call: ToolCall, flow: ConsentFlow): Promise<Record<string, unknown>> {
    const base = this.deps.publicUrl ?? originOf(call.ctx.http?.req?.url);
    if (!base)
      throw upstreamError(up.namespace, 'auth', 'the user has not connected this upstream, and the consent link needs PUBLIC_URL (no request URL here)');
    const link = await flow.begin(up, call.principal.subject, base.replace(/\/+$/, ''));
    const last = await flow.lastError(up, call.principal.subject);
    const message = `Connect your account for "${up.namespace}": open the link, sign in and allow access, then retry.${last ? ` The last attempt failed: ${last}.` : ''}`;
    const params = { mode: 'url' as const, message, url: link.url, elicitationId: link.elicitationId };
    if (call.era === 'legacy') throw new UrlElicitationRequiredError([params], `${message} Link: ${link.url}`);
    if (declaresUrlElicitation(call))
      return { resultType: 'input_required', inputRequests: { [`connect:${up.namespace}`]: { method: 'elicitation/create', params } } };
    // A 2026-07-28 caller that cannot take a URL-mode request (the SDK would refuse the round, and -32042 is
    // gone from this revision): the missing-capability error, with the link for a human to open.
    throw new ProtocolError(
      MISSING_CLIENT_CAPABILITY,
      `${message} Your client does not declare URL-mode elicitation (capabilities.elicitation.url); open the link yourself: ${link.url}`,
      { requiredCapabilities: { elicitation: { url: {} } }, elicitations: [params] },
    );
  }
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** -32021 (2026-07-28): the request's client capabilities lack one the answer needs. */
const MISSING_CLIENT_CAPABILITY = -32021;

/** Whether a 2026-07-28 request's client capabilities declare URL-mode elicitation. */
function declaresUrlElicitation(call: ToolCall): boolean {
  const caps = callerCapabilities(call.ctx) as { elicitation?: { url?: unknown } } | undefined;
  return caps?.elicitation?.url !== undefined;
}

function originOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}
