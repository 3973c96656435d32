/**
 * One pooled client to one upstream (per tenant, per replica). Connects lazily, detects the upstream's
 * protocol generation (2026-07-28 stateless vs 2025-era sessionful, via the SDK's `auto` version
 * negotiation), keeps the upstream session and re-initialises it once when the upstream lost it (HTTP
 * 404 on a session). Every request runs through the upstream's resilience policy: bulkhead (concurrency
 * limit) -> circuit breaker (opens after consecutive transport failures, half-open probe after a pause)
 * -> SDK request timeout; idempotent list calls are retried once. Connections go through the SSRF
 * guard and an undici Agent pinned to the checked address (keep-alive, idle timeout).
 */
import {
  Client,
  ClientCredentialsProvider,
  ProtocolError,
  SSEClientTransport,
  SdkError,
  SdkErrorCode,
  StreamableHTTPClientTransport,
  type FetchLike,
} from '@modelcontextprotocol/client';
import { BrokenCircuitError, BulkheadRejectedError, ConsecutiveBreaker, CircuitState, bulkhead, circuitBreaker, handleWhen, wrap } from 'cockatiel';
import { fetch as undiciFetch, type Agent } from 'undici';
import { MissingRequiredClientCapabilityError, ProtocolErrorCode, type ServerContext } from '@modelcontextprotocol/server';
import { callContext, type CallScope } from './call-context.js';
import { upstreamError } from './errors.js';
import { pinnedAgent, type SsrfGuard } from './ssrf-guard.js';
import { TaskAwareClient } from './upstream-tasks.js';
import type { ResolvedUpstream } from './upstream-config.js';

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

const isSessionLost = (err: unknown) => err instanceof SdkError && (err as { status?: number }).status === 404;
/** An upstream that answered with a JSON-RPC error is up; everything else counts against the breaker. */
const isFailure = (err: Error) => !(err instanceof ProtocolError);

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
  /** Upstream resource URIs subscribed through this connection (re-subscribed after a reconnect). */
  private readonly subscribed = new Set<string>();
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
          if (!idempotent || err instanceof ProtocolError) throw err;
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
    if (on) this.subscribed.add(uri);
    else this.subscribed.delete(uri);
    await this.run(async (c) => {
      if (c.getProtocolEra() !== 'legacy' || !c.getServerCapabilities()?.resources?.subscribe) return;
      if (on) await c.subscribeResource({ uri }, { timeout: this.upstream.options.timeouts.listMs });
      else await c.unsubscribeResource({ uri }, { timeout: this.upstream.options.timeouts.listMs });
    }, true);
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

  private async open(): Promise<Client> {
    const up = this.upstream;
    const target = await this.opts.guard.check(up.url);
    // A reconnect re-checks the URL (DNS may have changed legitimately) and replaces the pinned agent.
    void this.agents.get(target.url.origin)?.close().catch(() => undefined);
    this.agents.set(target.url.origin, pinnedAgent(target, { keepAliveMs: this.opts.keepAliveMs ?? 30_000, connectTimeoutMs: up.options.timeouts.connectMs }));
    const headers: Record<string, string> = { ...(up.credentials?.headers ?? {}) };
    if (up.credentials?.bearer) headers['Authorization'] = `Bearer ${up.credentials.bearer}`;
    const authProvider = up.credentials?.oauth ? new ClientCredentialsProvider({ ...up.credentials.oauth, clientName: 'unified-mcp-gateway' }) : undefined;
    const common = { fetch: this.fetchFor(), requestInit: { headers }, ...(authProvider && { authProvider }) };
    const transport = up.transport === 'sse' ? new SSEClientTransport(target.url, common) : new StreamableHTTPClientTransport(target.url, common);
    const changed = (kind: 'tools' | 'prompts' | 'resources') => ({ autoRefresh: false, debounceMs: 50, onChanged: () => this.opts.onListChanged(kind) });
    const client = new TaskAwareClient(
      { name: 'unified-mcp-gateway', version: this.opts.version },
      {
        // Input requests of the upstream are relayed to the caller (see relayInput); the caller's own
        // capabilities decide whether it can answer.
        capabilities: { elicitation: { form: {} }, sampling: {}, roots: {} },
        versionNegotiation: {
          mode: up.transport === 'sse' || up.options.protocol === 'legacy' ? 'legacy' : up.options.protocol === 'modern' ? { pin: '2026-07-28' } : 'auto',
        },
        listChanged: { tools: changed('tools'), prompts: changed('prompts'), resources: changed('resources') },
      },
    );
    client.onerror = (err) => this.opts.onError?.(err);
    client.onclose = () => {
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
      return ask(scope.ctx);
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
    this.lastError = undefined;
    // Ask for every log message; each caller's own level filters what it receives.
    if (client.getServerCapabilities()?.logging) await client.setLoggingLevel('debug', { timeout: up.options.timeouts.connectMs }).catch((err: unknown) => this.opts.onError?.(err));
    if (this.subscribed.size && client.getProtocolEra() === 'legacy' && client.getServerCapabilities()?.resources?.subscribe) {
      // A new upstream session starts without subscriptions: restore them.
      for (const uri of this.subscribed) client.subscribeResource({ uri }).catch((err: unknown) => this.opts.onError?.(err));
    }
    return client;
  }

  /**
   * fetch for the transports: requests to the upstream's origin use the pinned agent; any other origin
   * (an OAuth authorization server) is checked by the SSRF guard and pinned the same way.
   */
  private fetchFor(): FetchLike {
    return async (input, init) => {
      const url = new URL(String(input));
      let agent = this.agents.get(url.origin);
      if (!agent) {
        agent = pinnedAgent(await this.opts.guard.check(url.href), { keepAliveMs: this.opts.keepAliveMs ?? 30_000 });
        this.agents.set(url.origin, agent);
      }
      const res = await undiciFetch(url, { ...(init as object), dispatcher: agent } as Parameters<typeof undiciFetch>[1]);
      return res as unknown as Response;
    };
  }
}
