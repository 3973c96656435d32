/**
 * The HTTP side of one upstream connection: undici Agents pinned to SSRF-checked addresses (one per
 * origin: the upstream and any OAuth authorization server) and the fetch the SDK transports use.
 */
import type { FetchLike } from '@modelcontextprotocol/client';
import type { Agent } from 'undici';
import { dispatcherFetch } from '../dispatcher-fetch.js';
import { pinnedAgent, SsrfError, type PinnedTarget, type SsrfGuard } from '../ssrf-guard.js';

/** HTTP statuses whose responses have no body (the Response constructor refuses one). */
const NULL_BODY_STATUS = new Set([204, 205, 304]);

/** An OAuth endpoint (authorization server, foreign resource metadata) the SSRF guard refused. */
export class AuthEndpointRefused extends Error {
  constructor(origin: string, cause: SsrfError) {
    super(`OAuth endpoint ${origin} refused by the SSRF guard: ${cause.message}`);
    this.name = 'AuthEndpointRefused';
  }
}

/** The pinned HTTP agents of one upstream connection, by origin. */
export class UpstreamAgents {
  private readonly agents = new Map<string, Agent>();

  /** @param keepAliveMs keep-alive idle timeout of each agent, ms */
  constructor(
    private readonly guard: SsrfGuard,
    private readonly keepAliveMs: number,
  ) {}

  has(origin: string): boolean {
    return this.agents.has(origin);
  }

  /** Pins `target`'s origin to a new agent (closing the one it replaces). */
  replace(target: PinnedTarget, connectTimeoutMs: number): void {
    void this.agents
      .get(target.url.origin)
      ?.close()
      .catch(() => undefined);
    this.agents.set(target.url.origin, pinnedAgent(target, { keepAliveMs: this.keepAliveMs, connectTimeoutMs }));
  }

  /**
   * fetch for the transports: requests to the upstream's origin use the pinned agent; any other origin
   * (an OAuth authorization server) is checked by the SSRF guard and pinned the same way, and never gets
   * the upstream's configured headers, which the SDK's auth flow would otherwise copy onto every
   * discovery and token request. With `sentAuthorization` (OAuth upstreams), each upstream response is
   * recorded with the Authorization header its request carried.
   */
  fetchFor(origin: string, configured: Record<string, string>, sentAuthorization?: WeakMap<Response, string | null>): FetchLike {
    return async (input, init) => {
      const url = input instanceof URL ? input : new URL(String(input));
      const own = url.origin === origin;
      let agent = this.agents.get(url.origin);
      if (!agent) {
        let target;
        try {
          target = await this.guard.check(url.href);
        } catch (err) {
          throw err instanceof SsrfError && !own ? new AuthEndpointRefused(url.origin, err) : err;
        }
        agent = pinnedAgent(target, { keepAliveMs: this.keepAliveMs });
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
      if (own && sentAuthorization) sentAuthorization.set(response, new Headers(init?.headers).get('authorization'));
      return response;
    };
  }

  /** Closes every agent. */
  async close(): Promise<void> {
    await Promise.all([...this.agents.values()].map((a) => a.close().catch(() => undefined)));
    this.agents.clear();
  }
}
