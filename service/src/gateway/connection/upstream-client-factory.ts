/**
 * Opens SDK clients to one upstream: SSRF check and pinned agent, configured headers and OAuth client
 * credentials, the transport (Streamable HTTP or HTTP+SSE), protocol version negotiation (the SDK's
 * `auto` detects 2026-07-28 stateless vs 2025-era sessionful), list-change and resource-update
 * notifications, and the relay of input requests and logs to callers. A client either starts its own
 * upstream session or joins one another client made.
 */
import { randomInt } from 'node:crypto';
import { Client, SSEClientTransport, StreamableHTTPClientTransport, type FetchLike } from '@modelcontextprotocol/client';
import { upstreamError } from '../errors.js';
import type { SsrfGuard } from '../ssrf-guard.js';
import { liftUpstreamAnswer, UPSTREAM_CLIENT_CAPABILITIES } from './upstream-answers.js';
import { RewritingTransport } from './rewriting-transport.js';
import type { ResolvedUpstream } from '../upstream-config.js';
import type { UpstreamSession } from '../../protocol/upstream-task-meta.js';
import type { CallerRelay } from './caller-relay.js';
import { oauthAuthProvider } from './oauth-auth-provider.js';
import { UpstreamAgents } from './upstream-agents.js';
import { UpstreamClientCredentials } from './upstream-client-credentials.js';

/** How to reach an upstream over HTTP as its clients do. */
export interface UpstreamHttp {
  readonly url: URL;
  readonly fetch: FetchLike;
  /** Configured headers (credentials), lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
}

/** What UpstreamClientFactory needs beyond the upstream. */
export interface UpstreamClientFactoryDeps {
  readonly guard: SsrfGuard;
  /** Client version reported to upstreams. */
  readonly version: string;
  /** Keep-alive idle timeout of the HTTP agents, ms. */
  readonly keepAliveMs: number;
  readonly relay: CallerRelay;
  readonly onListChanged: (kind: 'tools' | 'prompts' | 'resources') => void;
  readonly onResourceUpdated: (uri: string) => void;
  readonly onError: (err: unknown) => void;
}

/** Opens the clients of one upstream connection; owns its HTTP agents. */
export class UpstreamClientFactory {
  private readonly agents: UpstreamAgents;
  /** The Authorization header each upstream response's request carried (which token a 401 refused). */
  private readonly sentAuthorization = new WeakMap<Response, string | null>();

  /** What the last client of a new session was opened with (the pass-through path sends on it). */
  private opened: UpstreamHttp | undefined;

  constructor(
    private readonly upstream: ResolvedUpstream,
    private readonly deps: UpstreamClientFactoryDeps,
  ) {
    this.agents = new UpstreamAgents(deps.guard, deps.keepAliveMs);
  }

  /**
   * The checked URL, fetch (the pinned agent) and configured headers of the current client, for requests the
   * gateway sends without the SDK client (gateway/passthrough). Undefined before a client was opened, after
   * close, and for OAuth upstreams (their tokens live in the client's auth provider).
   */
  http(): UpstreamHttp | undefined {
    const opened = this.opened;
    return opened && this.agents.has(opened.url.origin) ? opened : undefined;
  }

  /**
   * A connected client: a new upstream session, or with `join` one that joins that session (no
   * `initialize`, no standalone stream). `onClose` runs when a client of a new session closes.
   */
  async open(join: UpstreamSession | undefined, onClose: (client: Client) => void): Promise<Client> {
    const up = this.upstream;
    if (join && up.transport === 'sse') throw upstreamError(up.namespace, 'transport', 'speaks HTTP+SSE, whose sessions cannot be joined by another client');
    const target = await this.deps.guard.check(up.url);
    // A reconnect re-checks the URL (DNS may have changed legitimately) and replaces the pinned agent;
    // a client joining a session uses the current one.
    if (!join || !this.agents.has(target.url.origin)) this.agents.replace(target, up.options.timeouts.connectMs);
    // Lower-case names: the SDK merges these under its own lower-cased ones for the OAuth requests, and a
    // configured `Authorization` beside its `authorization` (the token request's Basic client
    // authentication) would be sent as one combined value.
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(up.credentials?.headers ?? {})) headers[name.toLowerCase()] = value;
    if (up.credentials?.bearer) headers['authorization'] = `Bearer ${up.credentials.bearer}`;
    // A per-user binding (user-oauth/user-credentials.ts) supplies that user's token; else the shared OAuth client.
    const authProvider =
      up.binding?.authProvider ??
      (up.credentials?.oauth ? oauthAuthProvider(new UpstreamClientCredentials(up.credentials.oauth), this.sentAuthorization) : undefined);
    const fetchFn = this.agents.fetchFor(target.url.origin, headers, up.credentials?.oauth && !up.binding ? this.sentAuthorization : undefined);
    const common = { fetch: fetchFn, requestInit: { headers }, ...(authProvider && { authProvider }) };
    if (!join) this.opened = authProvider ? undefined : { url: target.url, fetch: fetchFn, headers };
    const transport =
      up.transport === 'sse'
        ? new SSEClientTransport(target.url, common)
        : new StreamableHTTPClientTransport(target.url, { ...common, ...(join && { sessionId: join.sessionId }) });
    const changed = (kind: 'tools' | 'prompts' | 'resources') => ({ autoRefresh: false, debounceMs: 50, onChanged: () => this.deps.onListChanged(kind) });
    const client = new Client(
      { name: 'unified-mcp-gateway', version: this.deps.version },
      {
        // Input requests of the upstream are relayed to the caller (caller-relay.ts); the caller's own
        // capabilities decide whether it can answer.
        capabilities: structuredClone(UPSTREAM_CLIENT_CAPABILITIES),
        versionNegotiation: {
          mode:
            join || up.transport === 'sse' || up.options.protocol === 'legacy' ? 'legacy' : up.options.protocol === 'modern' ? { pin: '2026-07-28' } : 'auto',
        },
        listChanged: { tools: changed('tools'), prompts: changed('prompts'), resources: changed('resources') },
      },
    );
    client.onerror = (err) => this.deps.onError(err);
    client.onclose = () => {
      if (join) return;
      onClose(client);
    };
    this.deps.relay.install(client, up.namespace);
    client.setNotificationHandler('notifications/resources/updated', async (n) => this.deps.onResourceUpdated(n.params.uri));
    // A client joining an existing session numbers its requests from a random point far from the creator's
    // (which counts from 0), since the session's clients share one id space.
    const rewriting = new RewritingTransport(transport, {
      rewriteResult: liftUpstreamAnswer,
      ...(join && { idOffset: randomInt(2 ** 40, 2 ** 40 + 2 ** 47) }),
    });
    await client.connect(rewriting, { timeout: up.options.timeouts.connectMs });
    // Joined, not initialised: the session's revision goes on every request as its creator's did.
    if (join) (transport as StreamableHTTPClientTransport).setProtocolVersion(join.protocolVersion);
    return client;
  }

  /** Closes the HTTP agents. */
  close(): Promise<void> {
    this.opened = undefined;
    return this.agents.close();
  }
}
