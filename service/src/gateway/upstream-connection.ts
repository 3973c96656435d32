/**
 * One pooled client to one upstream (per tenant, per replica). Connects lazily, detects the upstream's
 * protocol generation (2026-07-28 stateless vs 2025-era sessionful, via the SDK's `auto` version
 * negotiation), keeps the upstream session and re-initialises it once when the upstream lost it (HTTP
 * 404 on a session). Every request runs through the upstream's resilience policy: bulkhead (concurrency
 * limit) -> circuit breaker (opens after consecutive transport failures, half-open probe after a pause)
 * -> SDK request timeout; idempotent list calls are retried once. Connections go through the SSRF
 * guard and an undici Agent pinned to the checked address (keep-alive, idle timeout). OAuth client
 * credentials use the SDK's ClientCredentialsProvider (RFC 9728 / RFC 8414 discovery from the 401, token
 * cached per connection, renewed on a 401) with the corrections of UpstreamClientCredentials.
 */
import { randomInt } from 'node:crypto';
import {
  Client,
  ClientCredentialsProvider,
  OAuthClientFlowError,
  OAuthError,
  ProtocolError,
  SSEClientTransport,
  SdkError,
  SdkErrorCode,
  StreamableHTTPClientTransport,
  UnauthorizedError,
  auth,
  extractWWWAuthenticateParams,
  type AddClientAuthentication,
  type AuthProvider,
  type FetchLike,
  type McpSubscription,
} from '@modelcontextprotocol/client';
import { BrokenCircuitError, BulkheadRejectedError, ConsecutiveBreaker, CircuitState, bulkhead, circuitBreaker, handleWhen, wrap } from 'cockatiel';
import type { Agent } from 'undici';
import { MissingRequiredClientCapabilityError, ProtocolErrorCode, type ServerContext } from '@modelcontextprotocol/server';
import { callContext, type CallScope } from './call-context.js';
import { upstreamError } from './errors.js';
import { dispatcherFetch } from './dispatcher-fetch.js';
import { pinnedAgent, SsrfError, type SsrfGuard } from './ssrf-guard.js';
import { TaskAwareClient, UPSTREAM_CLIENT_CAPABILITIES } from './task-aware-client.js';
import type { UpstreamSession } from '../protocol/upstream-task-meta.js';
import type { Credentials, ResolvedUpstream } from './upstream-config.js';

/** Protocol generation an upstream speaks. */
export type UpstreamEra = 'modern' | 'legacy';

/** Health of one upstream as seen by this replica. */
export interface UpstreamHealth {
  readonly namespace: string;
  readonly state: 'closed' | 'open' | 'half-open' | 'isolated';
  readonly connected: boolean;
  readonly era: UpstreamEra | undefined;
  readonly protocolVersion: string | undefined;
  readonly lastError: string | undefined;
  readonly inFlight: number;
}

/** Options of UpstreamConnection. */
export interface UpstreamConnectionOptions {
  readonly guard: SsrfGuard;
  /** Client version reported to upstreams. */
  readonly version: string;
  /** Consecutive failures that open the breaker. @defaultValue 3 */
  readonly breakerThreshold?: number;
  /** Pause before a half-open probe, ms. @defaultValue 5000 */
  readonly halfOpenAfterMs?: number;
  /** Keep-alive idle timeout of the HTTP agent, ms. @defaultValue 30000 */
  readonly keepAliveMs?: number;
  /** Called when the upstream announces a list change (tools, prompts or resources). */
  readonly onListChanged: (kind: 'tools' | 'prompts' | 'resources') => void;
  /** Called when a subscribed upstream resource changed (the upstream's own URI). */
  readonly onResourceUpdated?: (uri: string) => void;
  readonly onError?: (err: unknown) => void;
}

/** HTTP statuses whose responses have no body (the Response constructor refuses one). */
const NULL_BODY_STATUS = new Set([204, 205, 304]);

const isSessionLost = (err: unknown) => err instanceof SdkError && (err as { status?: number }).status === 404;
/** An upstream that answered with a JSON-RPC error is up; everything else counts against the breaker. */
const isFailure = (err: Error) => !(err instanceof ProtocolError);

/** An OAuth endpoint (authorization server, foreign resource metadata) the SSRF guard refused. */
class AuthEndpointRefused extends Error {
  constructor(origin: string, cause: SsrfError) {
    super(`OAuth endpoint ${origin} refused by the SSRF guard: ${cause.message}`);
    this.name = 'AuthEndpointRefused';
  }
}

/** An authorization server that offers no client authentication method the gateway can use. */
class NoClientAuthMethod extends Error {
  constructor(supported: readonly string[]) {
    super(`the authorization server accepts neither client_secret_basic nor client_secret_post (it lists ${supported.join(', ')})`);
    this.name = 'NoClientAuthMethod';
  }
}

/** Whether an error came out of the OAuth client-credentials flow (token request, discovery, 401 after renewal). */
const isAuthFailure = (err: unknown) =>
  err instanceof OAuthError ||
  err instanceof OAuthClientFlowError ||
  err instanceof UnauthorizedError ||
  err instanceof AuthEndpointRefused ||
  err instanceof NoClientAuthMethod ||
  (err instanceof SdkError && (err.code === SdkErrorCode.ClientHttpAuthentication || err.code === SdkErrorCode.ClientHttpForbidden));

/** RFC 6749 Appendix B: application/x-www-form-urlencoded encoding of one value. */
const formEncode = (value: string) => new URLSearchParams([['v', value]]).toString().slice(2);

/**
 * OAuth client credentials of one upstream: the SDK's ClientCredentialsProvider (discovery from the 401's
 * `WWW-Authenticate`, RFC 9728 resource metadata, RFC 8414 AS metadata, `client_credentials` token
 * request with the RFC 8707 `resource`, token cached for the connection, a new one on the next 401) with
 * two corrections for credentials an operator configured:
 * - the configured `scope` is what is requested. The SDK asks for the 401 challenge's scope, else every
 *   `scopes_supported` of the resource metadata, and falls back to the configured scope only when both
 *   are absent; a client allowed fewer scopes than the resource lists then got `invalid_scope`.
 * - client authentication per RFC 6749 §2.3.1. The SDK puts id and secret into the Basic header without
 *   the required form-urlencoding, so a secret with `+`, `/`, `%`, `:` ... (common in generated secrets)
 *   fails at authorization servers that decode it (Spring Authorization Server, Keycloak). Here: Basic
 *   with encoded values, except that a secret whose encoding changes it goes in the body
 *   (client_secret_post) when the AS offers that, since lenient servers do not decode Basic credentials.
 */
class UpstreamClientCredentials extends ClientCredentialsProvider {
  private readonly configuredScope: string | undefined;
  readonly addClientAuthentication: AddClientAuthentication;

  constructor(oauth: NonNullable<Credentials['oauth']>) {
    // `expectedIssuer` (when configured): the SDK presents the credentials to that AS only (SEP-2352).
    // Without it the upstream's resource metadata decides, and the SDK warns about that (console) on
    // every connection.
    super({
      clientId: oauth.clientId,
      clientSecret: oauth.clientSecret,
      clientName: 'unified-mcp-gateway',
      ...(oauth.scope && { scope: oauth.scope }),
      ...(oauth.issuer && { expectedIssuer: oauth.issuer }),
    });
    this.configuredScope = oauth.scope;
    this.addClientAuthentication = (headers, params, _url, metadata) => {
      // RFC 8414 §2: client_secret_basic when the AS metadata lists no methods.
      const supported = metadata?.token_endpoint_auth_methods_supported?.length ? metadata.token_endpoint_auth_methods_supported : ['client_secret_basic'];
      const id = formEncode(oauth.clientId);
      const secret = formEncode(oauth.clientSecret);
      const changedByEncoding = id !== oauth.clientId || secret !== oauth.clientSecret;
      if (supported.includes('client_secret_basic') && !(changedByEncoding && supported.includes('client_secret_post'))) {
        headers.set('Authorization', `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`);
      } else if (supported.includes('client_secret_post')) {
        params.set('client_id', oauth.clientId);
        params.set('client_secret', oauth.clientSecret);
      } else {
        throw new NoClientAuthMethod(supported);
      }
    };
  }

  override prepareTokenRequest(scope?: string): URLSearchParams {
    return super.prepareTokenRequest(this.configuredScope ?? scope);
  }
}

/** A lazily connected, resilient client of one upstream. */
export class UpstreamConnection {
  readonly key: string;
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;
  private agents = new Map<string, Agent>();
  private readonly policy;
  private readonly breaker;
  private readonly bulkhead;
  private lastError: string | undefined;
  /** Contexts of the client requests currently calling this upstream (input requests go to them). */
  private readonly callers = new Set<CallScope>();
  /** Upstream resource URIs subscribed through this connection, with their holders (re-subscribed after a reconnect). */
  private readonly subscribed = new Map<string, number>();
  /** The resource `subscriptions/listen` stream of a 2026-07-28 upstream, while URIs are subscribed. */
  private resourceListen: McpSubscription | undefined;
  /** The Authorization header each upstream response's request carried (which token a 401 refused). */
  private readonly sentAuthorization = new WeakMap<Response, string | null>();
  lastUsed = Date.now();

  constructor(readonly upstream: ResolvedUpstream, private readonly opts: UpstreamConnectionOptions) {
    this.key = `${upstream.id}@${upstream.version}`;
    this.bulkhead = bulkhead(upstream.options.maxConcurrency, upstream.options.maxConcurrency * 4);
    this.breaker = circuitBreaker(handleWhen(isFailure), {
      halfOpenAfter: opts.halfOpenAfterMs ?? 5_000,
      breaker: new ConsecutiveBreaker(opts.breakerThreshold ?? 3),
    });
    this.policy = wrap(this.bulkhead, this.breaker);
  }

  /** The protocol generation, once connected. */
  get era(): UpstreamEra | undefined {
    return this.client?.getProtocolEra() as UpstreamEra | undefined;
  }

  /** This replica's view of the upstream's health. */
  health(): UpstreamHealth {
    const s = this.breaker.state;
    return {
      namespace: this.upstream.namespace,
      state: s === CircuitState.Open ? 'open' : s === CircuitState.HalfOpen ? 'half-open' : s === CircuitState.Isolated ? 'isolated' : 'closed',
      connected: this.client !== undefined,
      era: this.era,
      protocolVersion: this.client?.getNegotiatedProtocolVersion(),
      lastError: this.lastError,
      inFlight: this.bulkhead.executionSlots === undefined ? 0 : this.upstream.options.maxConcurrency - this.bulkhead.executionSlots,
    };
  }

  /**
   * Runs `fn` against the connected client under the upstream's policy. `idempotent` calls (lists) are
   * retried once on a transport failure; every call is retried once after a lost upstream session.
   */
  async run<T>(fn: (client: Client) => Promise<T>, idempotent: boolean): Promise<T> {
    this.lastUsed = Date.now();
    const caller = callContext.getStore();
    if (caller) this.callers.add(caller);
    try {
      return await this.runPolicy(fn, idempotent);
    } finally {
      if (caller) this.callers.delete(caller);
    }
  }

  private async runPolicy<T>(fn: (client: Client) => Promise<T>, idempotent: boolean): Promise<T> {
    const attempt = async (): Promise<T> => {
      const client = await this.connect();
      try {
        return await fn(client);
      } catch (err) {
        if (isSessionLost(err)) {
          // The upstream forgot its session (restart, expiry): initialise a new one and try again once.
          await this.reset();
          return fn(await this.connect());
        }
        throw err;
      }
    };
    try {
      return await this.policy.execute(async () => {
        try {
          return await attempt();
        } catch (err) {
          // An OAuth failure (wrong secret, scope, AS refused) would only fail again, costing the AS
          // another round of token requests: no reconnect retry for it.
          if (!idempotent || err instanceof ProtocolError || isAuthFailure(err)) throw err;
          await this.reset();
          return attempt();
        }
      });
    } catch (err) {
      throw this.mapError(err);
    }
  }

  /**
   * Subscribes to updates of an upstream resource (2025-era upstreams declaring `resources.subscribe`;
   * for others the subscription is only remembered). Idempotent.
   */
  async subscribe(uri: string, on: boolean): Promise<void> {
    // Counted: several sessions and listen streams of the tenant may hold the same URI on this replica;
    // the upstream subscription ends with the last of them (an unsubscribe for a URI this replica does
    // not hold is a no-op: the session's subscription was made on another replica).
    const held = this.subscribed.get(uri) ?? 0;
    if (!on && held === 0) return;
    const count = on ? held + 1 : held - 1;
    if (count > 0) this.subscribed.set(uri, count);
    else this.subscribed.delete(uri);
    if (on ? held > 0 : count > 0) return;
    await this.run(async (c) => {
      if (!c.getServerCapabilities()?.resources?.subscribe) return;
      // 2026-07-28: one `subscriptions/listen` stream carries every subscribed URI of this connection.
      if (c.getProtocolEra() === 'modern') return this.listenResources(c);
      if (on) await c.subscribeResource({ uri }, { timeout: this.upstream.options.timeouts.listMs });
      else await c.unsubscribeResource({ uri }, { timeout: this.upstream.options.timeouts.listMs });
    }, true);
  }

  /**
   * (Re)opens the resource `subscriptions/listen` stream of a 2026-07-28 upstream for the current set of
   * subscribed URIs (the new stream is acknowledged before the old one closes, so no update falls in a
   * gap); an unexpected end of the stream re-opens it after a pause while the client is still current.
   */
  private async listenResources(client: Client): Promise<void> {
    const previous = this.resourceListen;
    this.resourceListen = undefined;
    if (this.subscribed.size > 0) {
      const sub = await client.listen({ resourceSubscriptions: [...this.subscribed.keys()] }, { timeout: this.upstream.options.timeouts.listMs });
      this.resourceListen = sub;
      void sub.closed.then((why) => {
        if (why !== 'remote' || this.resourceListen !== sub) return;
        this.resourceListen = undefined;
        setTimeout(() => {
          if (this.client === client && !this.resourceListen) this.listenResources(client).catch((err: unknown) => this.opts.onError?.(err));
        }, 1_000).unref();
      });
    }
    await previous?.close().catch(() => undefined);
  }

  /** Closes the client and its HTTP agents. */
  async close(): Promise<void> {
    await this.reset();
    await Promise.all([...this.agents.values()].map((a) => a.close().catch(() => undefined)));
    this.agents.clear();
  }

  private mapError(err: unknown): Error {
    const ns = this.upstream.namespace;
    if (err instanceof ProtocolError) {
      if (err.message.startsWith(`upstream "${ns}"`)) return err;
      const data = err.data as { requiredCapabilities?: Record<string, unknown> } | undefined;
      // The caller lacks a capability the upstream needs: keep the typed error so the wire form (HTTP 400,
      // data.requiredCapabilities) is what a direct server would send.
      if (err.code === ProtocolErrorCode.MissingRequiredClientCapability && data?.requiredCapabilities) {
        return new MissingRequiredClientCapabilityError({ requiredCapabilities: data.requiredCapabilities }, `upstream "${ns}": ${err.message}`);
      }
      return new ProtocolError(err.code, `upstream "${ns}": ${err.message}`, err.data);
    }
    if (err instanceof BrokenCircuitError) return upstreamError(ns, 'circuit-open', `circuit open after repeated failures (last: ${this.lastError ?? 'unknown'}); retrying shortly`);
    if (err instanceof BulkheadRejectedError) return upstreamError(ns, 'concurrency-limit', `concurrency limit of ${this.upstream.options.maxConcurrency} reached`);
    const message = err instanceof Error ? err.message : String(err);
    this.lastError = message;
    this.opts.onError?.(err);
    if (err instanceof SdkError && err.code === SdkErrorCode.RequestTimeout) return upstreamError(ns, 'timeout', `no answer within the timeout (${message})`);
    if (isAuthFailure(err)) {
      const code = err instanceof OAuthError ? ` (${err.code})` : '';
      return upstreamError(ns, 'auth', `OAuth client-credentials authentication failed${code}: ${message}`);
    }
    return upstreamError(ns, 'transport', `unreachable: ${message}`);
  }

  private async reset(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    this.connecting = undefined;
    await c?.close().catch(() => undefined);
  }

  private connect(): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    // Opened outside any caller's context: long-lived streams (listen, standalone GET) must not inherit
    // the first caller's context, or unrelated upstream requests would be relayed to that caller.
    this.connecting ??= callContext.exit(() => this.open()).then(
      (c) => {
        this.client = c;
        return c;
      },
      (err: unknown) => {
        this.connecting = undefined;
        throw err;
      },
    );
    return this.connecting;
  }

  /** The upstream session of `client` (2025-era, Streamable HTTP), for work another process must do in it. */
  sessionOf(client: Client): UpstreamSession | undefined {
    const sessionId = (client.transport as { sessionId?: string } | undefined)?.sessionId;
    const protocolVersion = client.getNegotiatedProtocolVersion();
    if (this.upstream.transport === 'sse' || client.getProtocolEra() !== 'legacy' || !sessionId || !protocolVersion) return undefined;
    return { sessionId, protocolVersion };
  }

  /**
   * Runs `fn` on a client of its own that joins upstream `session` (made by another client, possibly in
   * another process: no `initialize`, no standalone stream) and leaves it without ending it. A 2025-era
   * server binds tasks to the session that created them: this is how a worker follows such a task.
   */
  async inSession<T>(session: UpstreamSession, fn: (client: Client) => Promise<T>): Promise<T> {
    let client: Client | undefined;
    try {
      client = await callContext.exit(() => this.open(session));
      return await fn(client);
    } catch (err) {
      throw this.mapError(err);
    } finally {
      await client?.close().catch(() => undefined);
    }
  }

  private async open(join?: UpstreamSession): Promise<Client> {
    const up = this.upstream;
    if (join && up.transport === 'sse') throw upstreamError(up.namespace, 'transport', 'speaks HTTP+SSE, whose sessions cannot be joined by another client');
    const target = await this.opts.guard.check(up.url);
    // A reconnect re-checks the URL (DNS may have changed legitimately) and replaces the pinned agent;
    // a client joining a session uses the current one.
    if (!join || !this.agents.has(target.url.origin)) {
      void this.agents.get(target.url.origin)?.close().catch(() => undefined);
      this.agents.set(target.url.origin, pinnedAgent(target, { keepAliveMs: this.opts.keepAliveMs ?? 30_000, connectTimeoutMs: up.options.timeouts.connectMs }));
    }
    // Lower-case names: the SDK merges these under its own lower-cased ones for the OAuth requests, and a
    // configured `Authorization` beside its `authorization` (the token request's Basic client
    // authentication) would be sent as one combined value.
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(up.credentials?.headers ?? {})) headers[name.toLowerCase()] = value;
    if (up.credentials?.bearer) headers['authorization'] = `Bearer ${up.credentials.bearer}`;
    const authProvider = up.credentials?.oauth ? this.oauthSeam(new UpstreamClientCredentials(up.credentials.oauth)) : undefined;
    const common = { fetch: this.fetchFor(target.url.origin, headers), requestInit: { headers }, ...(authProvider && { authProvider }) };
    const transport = up.transport === 'sse' ? new SSEClientTransport(target.url, common) : new StreamableHTTPClientTransport(target.url, { ...common, ...(join && { sessionId: join.sessionId }) });
    const changed = (kind: 'tools' | 'prompts' | 'resources') => ({ autoRefresh: false, debounceMs: 50, onChanged: () => this.opts.onListChanged(kind) });
    const client = new TaskAwareClient(
      { name: 'unified-mcp-gateway', version: this.opts.version },
      {
        // Input requests of the upstream are relayed to the caller (see relayInput); the caller's own
        // capabilities decide whether it can answer.
        capabilities: structuredClone(UPSTREAM_CLIENT_CAPABILITIES),
        versionNegotiation: {
          mode: join || up.transport === 'sse' || up.options.protocol === 'legacy' ? 'legacy' : up.options.protocol === 'modern' ? { pin: '2026-07-28' } : 'auto',
        },
        listChanged: { tools: changed('tools'), prompts: changed('prompts'), resources: changed('resources') },
      },
    );
    if (join) {
      // All clients in one upstream session share its JSON-RPC id space (the server routes each response
      // by id), so a joining client numbers its requests from a random point far from the creator's,
      // which counts from 0 (SDK 2.x Protocol counter).
      (client as unknown as { _requestMessageId: number })._requestMessageId = randomInt(2 ** 40, 2 ** 40 + 2 ** 47);
    }
    client.onerror = (err) => this.opts.onError?.(err);
    client.onclose = () => {
      if (join) return;
      if (this.client === client) this.client = undefined;
      this.connecting = undefined;
    };
    const relay = <T>(what: string, method: string, params: unknown, ask: (ctx: ServerContext) => Promise<T>): Promise<T> => {
      // Requests on the call's own response stream carry its scope; a 2025-era upstream may send them on
      // its standalone stream instead, which is attributable only while exactly one call is in flight.
      const own = callContext.getStore();
      const scope = own ?? (this.callers.size === 1 ? [...this.callers][0] : undefined);
      if (!scope) {
        const why = this.callers.size > 1 ? `while ${this.callers.size} calls were in flight (ambiguous)` : 'outside of a client request';
        throw new ProtocolError(ProtocolErrorCode.InternalError, `upstream "${up.namespace}" asked for ${what} ${why}`);
      }
      // 2026-07-28 caller: the question becomes an input_required round; else a request on its session.
      if (scope.ask) return scope.ask({ method, params: (params ?? {}) as Record<string, unknown> }, own !== undefined) as Promise<T>;
      return scope.ctx ? ask(scope.ctx) : Promise.reject(new ProtocolError(ProtocolErrorCode.InternalError, `upstream "${up.namespace}" asked for ${what} with nobody to ask`));
    };
    client.setRequestHandler('elicitation/create', (req) => relay('elicitation', req.method, req.params, (ctx) => ctx.mcpReq.elicitInput(req.params)) as never);
    client.setRequestHandler('sampling/createMessage', (req) => relay('sampling', req.method, req.params, (ctx) => ctx.mcpReq.requestSampling(req.params)) as never);
    client.setRequestHandler('roots/list', (req) => relay('roots', req.method, req.params, (ctx) => ctx.mcpReq.send({ method: 'roots/list' })) as never);
    // Log messages the upstream emits while serving a call go to that call's caller (its own log level applies).
    client.setNotificationHandler('notifications/message', async (n) => {
      const ctx = callContext.getStore()?.ctx;
      if (ctx) await ctx.mcpReq.log(n.params.level, n.params.data, n.params.logger ?? up.namespace).catch(() => undefined);
    });
    client.setNotificationHandler('notifications/resources/updated', async (n) => this.opts.onResourceUpdated?.(n.params.uri));
    await client.connect(transport, { timeout: up.options.timeouts.connectMs });
    if (join) {
      // Joined, not initialised: the session's revision goes on every request as its creator's did.
      (transport as StreamableHTTPClientTransport).setProtocolVersion(join.protocolVersion);
      return client;
    }
    this.lastError = undefined;
    // Ask for every log message; each caller's own level filters what it receives.
    if (client.getServerCapabilities()?.logging) await client.setLoggingLevel('debug', { timeout: up.options.timeouts.connectMs }).catch((err: unknown) => this.opts.onError?.(err));
    if (this.subscribed.size && client.getServerCapabilities()?.resources?.subscribe) {
      // A new upstream session (or connection) starts without subscriptions: restore them.
      if (client.getProtocolEra() === 'modern') this.listenResources(client).catch((err: unknown) => this.opts.onError?.(err));
      else for (const uri of this.subscribed.keys()) client.subscribeResource({ uri }).catch((err: unknown) => this.opts.onError?.(err));
    }
    return client;
  }

  /**
   * The transports' auth seam for OAuth client credentials. The SDK's own adapter (what passing the
   * provider itself gives) runs discovery and a token request for every request that got a 401, so N
   * calls in flight when the token expires cost N token requests (measured: 8 concurrent calls, 8 token
   * requests). Here a 401 of a request sent with an older token than the current one just retries with
   * the current token, and concurrent 401s share one renewal (`auth()`, the same flow the SDK adapter runs).
   */
  private oauthSeam(provider: UpstreamClientCredentials): AuthProvider {
    let renewal: Promise<void> | undefined;
    return {
      token: async () => provider.tokens()?.access_token,
      onUnauthorized: async (ctx) => {
        const current = provider.tokens()?.access_token;
        const sent = this.sentAuthorization.get(ctx.response); // null: sent without; undefined: unknown
        if (current !== undefined && sent !== undefined && sent !== `Bearer ${current}`) return;
        renewal ??= (async () => {
          const { resourceMetadataUrl, scope } = extractWWWAuthenticateParams(ctx.response);
          const result = await auth(provider, { serverUrl: ctx.serverUrl, resourceMetadataUrl, scope, fetchFn: ctx.fetchFn });
          if (result !== 'AUTHORIZED') throw new UnauthorizedError(`authorization ended with ${result}`);
        })().finally(() => (renewal = undefined));
        return renewal;
      },
    };
  }

  /**
   * fetch for the transports: requests to the upstream's origin use the pinned agent; any other origin
   * (an OAuth authorization server) is checked by the SSRF guard and pinned the same way, and never gets
   * the upstream's configured headers, which the SDK's auth flow would otherwise copy onto every
   * discovery and token request.
   */
  private fetchFor(origin: string, configured: Record<string, string>): FetchLike {
    return async (input, init) => {
      const url = input instanceof URL ? input : new URL(String(input));
      const own = url.origin === origin;
      let agent = this.agents.get(url.origin);
      if (!agent) {
        let target;
        try {
          target = await this.opts.guard.check(url.href);
        } catch (err) {
          throw err instanceof SsrfError && !own ? new AuthEndpointRefused(url.origin, err) : err;
        }
        agent = pinnedAgent(target, { keepAliveMs: this.opts.keepAliveMs ?? 30_000 });
        this.agents.set(url.origin, agent);
      }
      if (!own && init?.headers) {
        const headers = new Headers(init.headers);
        // Only the configured values are dropped: the SDK's own headers (e.g. the token request's Basic
        // client authentication) stay.
        for (const [name, value] of Object.entries(configured)) if (headers.get(name) === value) headers.delete(name);
        init = { ...init, headers };
      }
      // The transports' exchanges without undici's fetch machinery (dispatcher-fetch.ts: same answers).
      const res = await dispatcherFetch(url, init, agent);
      // What dispatcherFetch hands to undici's fetch comes back as the npm undici's Response, which is not
      // the runtime's global Response class, and the SDK's OAuth code tells an error response from a
      // string with `instanceof Response` (parseErrorResponse): handed the undici object, every
      // token-endpoint error (invalid_client, invalid_scope, ...) became "Invalid OAuth error response:
      // [object Response]" and the SDK's invalid_client handling never ran. Re-wrap it (same status,
      // headers and body stream; null-body statuses must not carry a body).
      const response =
        res instanceof Response
          ? res
          : new Response(NULL_BODY_STATUS.has(res.status) ? null : (res.body as ReadableStream<Uint8Array> | null), {
              status: res.status,
              statusText: res.statusText,
              headers: [...res.headers],
            });
      if (own && this.upstream.credentials?.oauth) this.sentAuthorization.set(response, new Headers(init?.headers).get('authorization'));
      return response;
    };
  }
}
