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
 *
 * This facade holds the lifecycle (current client, connect, reset, close) and composes one module per
 * concern from connection/: opening clients (agents, fetch, OAuth), resilience, error mapping, the relay
 * to callers, resource subscriptions.
 */
import type { Client } from '@modelcontextprotocol/client';
import { callContext } from './call-context.js';
import type { SsrfGuard } from './ssrf-guard.js';
import type { UpstreamSession } from '../protocol/upstream-task-meta.js';
import type { ResolvedUpstream } from './upstream-config.js';
import { CallerRelay } from './connection/caller-relay.js';
import { ResourceSubscriptions } from './connection/resource-subscriptions.js';
import { UpstreamClientFactory } from './connection/upstream-client-factory.js';
import { UpstreamErrorMapper } from './connection/upstream-error-mapper.js';
import { UpstreamResilience, type CircuitHealth, type ConnectionLink } from './connection/upstream-resilience.js';

/** Protocol generation an upstream speaks. */
export type UpstreamEra = 'modern' | 'legacy';

/** Health of one upstream as seen by this replica. */
export interface UpstreamHealth {
  readonly namespace: string;
  readonly state: CircuitHealth;
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

/** A lazily connected, resilient client of one upstream. */
export class UpstreamConnection {
  readonly key: string;
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;
  private readonly resilience: UpstreamResilience;
  private readonly errors: UpstreamErrorMapper;
  private readonly relay = new CallerRelay();
  private readonly subscriptions: ResourceSubscriptions;
  private readonly factory: UpstreamClientFactory;
  /** How the resilience policy connects and resets this connection. */
  private readonly link: ConnectionLink = { connect: () => this.connect(), reset: () => this.reset() };
  lastUsed = Date.now();

  constructor(
    readonly upstream: ResolvedUpstream,
    private readonly opts: UpstreamConnectionOptions,
  ) {
    this.key = `${upstream.id}@${upstream.version}`;
    const onError = (err: unknown) => this.opts.onError?.(err);
    // An open breaker means the upstream is failing: drop the client, so health shows it disconnected and the
    // half-open probe starts a new upstream session instead of reusing one the upstream may have lost.
    this.resilience = new UpstreamResilience(upstream.options.maxConcurrency, { ...opts, onBreak: () => void this.reset() });
    this.errors = new UpstreamErrorMapper(upstream, onError);
    this.subscriptions = new ResourceSubscriptions({
      listMs: upstream.options.timeouts.listMs,
      run: (fn) => this.run(fn, true),
      isCurrent: (client) => this.client === client,
      onError,
    });
    this.factory = new UpstreamClientFactory(upstream, {
      guard: opts.guard,
      version: opts.version,
      keepAliveMs: opts.keepAliveMs ?? 30_000,
      relay: this.relay,
      onListChanged: (kind) => this.opts.onListChanged(kind),
      onResourceUpdated: (uri) => this.opts.onResourceUpdated?.(uri),
      onError,
    });
  }

  /** The protocol generation, once connected. */
  get era(): UpstreamEra | undefined {
    return this.client?.getProtocolEra() as UpstreamEra | undefined;
  }

  /** This replica's view of the upstream's health. */
  health(): UpstreamHealth {
    return {
      namespace: this.upstream.namespace,
      state: this.resilience.state,
      connected: this.client !== undefined,
      era: this.era,
      protocolVersion: this.client?.getNegotiatedProtocolVersion(),
      lastError: this.errors.last,
      inFlight: this.resilience.inFlight,
    };
  }

  /**
   * Runs `fn` against the connected client under the upstream's policy. `idempotent` calls (lists) are
   * retried once on a transport failure; every call is retried once after a lost upstream session.
   */
  async run<T>(fn: (client: Client) => Promise<T>, idempotent: boolean): Promise<T> {
    this.lastUsed = Date.now();
    return this.relay.during(async () => {
      try {
        return await this.resilience.execute(fn, idempotent, this.link);
      } catch (err) {
        throw this.errors.map(err);
      }
    });
  }

  /**
   * The HTTP face of a connected 2026-07-28 upstream (Streamable HTTP, no OAuth), for the pass-through
   * path; undefined otherwise (calls then go through the pooled client). `send` runs under the same policy
   * as every call (bulkhead, breaker, error mapping); `read` consumes the answer inside it, so a streamed
   * answer holds its concurrency slot until it ends.
   */
  passThrough(): { send<T>(init: RequestInit, read: (res: Response) => Promise<T>): Promise<T> } | undefined {
    if (this.era !== 'modern' || this.upstream.transport === 'sse') return undefined;
    const http = this.factory.http();
    if (!http) return undefined;
    return {
      send: (init, read) =>
        this.run(async () => read(await http.fetch(http.url, { ...init, headers: { ...http.headers, ...(init.headers as Record<string, string>) } })), false),
    };
  }

  /**
   * Subscribes to updates of an upstream resource (2025-era upstreams declaring `resources.subscribe`;
   * for others the subscription is only remembered). Idempotent.
   */
  async subscribe(uri: string, on: boolean): Promise<void> {
    await this.subscriptions.change(uri, on);
  }

  /** Closes the client and its HTTP agents. */
  async close(): Promise<void> {
    await this.reset();
    await this.factory.close();
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
      client = await callContext.exit(() => this.factory.open(session, () => undefined));
      return await fn(client);
    } catch (err) {
      throw this.errors.map(err);
    } finally {
      await client?.close().catch(() => undefined);
    }
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
    this.connecting ??= callContext
      .exit(() => this.open())
      .then(
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

  /** A client in a new upstream session, set up for this connection (log level, restored subscriptions). */
  private async open(): Promise<Client> {
    const client = await this.factory.open(undefined, (closed) => {
      if (this.client === closed) this.client = undefined;
      this.connecting = undefined;
    });
    this.errors.clear();
    // Ask for every log message; each caller's own level filters what it receives.
    if (client.getServerCapabilities()?.logging)
      await client.setLoggingLevel('debug', { timeout: this.upstream.options.timeouts.connectMs }).catch((err: unknown) => this.opts.onError?.(err));
    this.subscriptions.restore(client);
    return client;
  }
}
