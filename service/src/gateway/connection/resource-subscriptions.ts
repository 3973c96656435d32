/**
 * The upstream resource subscriptions of one connection: counted per URI (several sessions and listen
 * streams of the tenant may hold one URI on this replica), made with `resources/subscribe` on a 2025-era
 * upstream or one `subscriptions/listen` stream on a 2026-07-28 one, and restored after a reconnect.
 */
import type { Client, McpSubscription } from '@modelcontextprotocol/client';

/** What ResourceSubscriptions needs of its connection. */
export interface ResourceSubscriptionsDeps {
  /** Timeout of the subscribe and listen requests, ms. */
  readonly listMs: number;
  /** Runs `fn` against the connected client under the upstream's policy (as an idempotent call). */
  readonly run: (fn: (client: Client) => Promise<void>) => Promise<void>;
  /** Whether `client` is still the connection's current client. */
  readonly isCurrent: (client: Client) => boolean;
  readonly onError: (err: unknown) => void;
}

/** Upstream resource URIs subscribed through one connection, with their holders. */
export class ResourceSubscriptions {
  private readonly subscribed = new Map<string, number>();
  /** The resource `subscriptions/listen` stream of a 2026-07-28 upstream, while URIs are subscribed. */
  private resourceListen: McpSubscription | undefined;

  constructor(private readonly deps: ResourceSubscriptionsDeps) {}

  /**
   * Subscribes to updates of an upstream resource (2025-era upstreams declaring `resources.subscribe`;
   * for others the subscription is only remembered). Idempotent.
   */
  async change(uri: string, on: boolean): Promise<void> {
    // Counted: the upstream subscription ends with the last holder (an unsubscribe for a URI this
    // replica does not hold is a no-op: the session's subscription was made on another replica).
    const held = this.subscribed.get(uri) ?? 0;
    if (!on && held === 0) return;
    const count = on ? held + 1 : held - 1;
    if (count > 0) this.subscribed.set(uri, count);
    else this.subscribed.delete(uri);
    if (on ? held > 0 : count > 0) return;
    await this.deps.run(async (c) => {
      if (!c.getServerCapabilities()?.resources?.subscribe) return;
      // 2026-07-28: one `subscriptions/listen` stream carries every subscribed URI of this connection.
      if (c.getProtocolEra() === 'modern') return this.listenResources(c);
      if (on) await c.subscribeResource({ uri }, { timeout: this.deps.listMs });
      else await c.unsubscribeResource({ uri }, { timeout: this.deps.listMs });
    });
  }

  /** A new upstream session (or connection) starts without subscriptions: restores them on `client`. */
  restore(client: Client): void {
    if (this.subscribed.size && client.getServerCapabilities()?.resources?.subscribe) {
      if (client.getProtocolEra() === 'modern') this.listenResources(client).catch((err: unknown) => this.deps.onError(err));
      else for (const uri of this.subscribed.keys()) client.subscribeResource({ uri }).catch((err: unknown) => this.deps.onError(err));
    }
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
      const sub = await client.listen({ resourceSubscriptions: [...this.subscribed.keys()] }, { timeout: this.deps.listMs });
      this.resourceListen = sub;
      void sub.closed.then((why) => {
        if (why !== 'remote' || this.resourceListen !== sub) return;
        this.resourceListen = undefined;
        setTimeout(() => {
          if (this.deps.isCurrent(client) && !this.resourceListen) this.listenResources(client).catch((err: unknown) => this.deps.onError(err));
        }, 1_000).unref();
      });
    }
    await previous?.close().catch(() => undefined);
  }
}
