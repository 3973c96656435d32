/**
 * `ServerEventBus` over Redis pub/sub, so a change published on one gateway replica reaches the
 * `subscriptions/listen` streams open on every replica.
 *
 * Tenancy: events travel on one channel per tenant (`<prefix>mcp:events:<tenantId>`). The hub keeps a
 * single subscriber connection (a `duplicate()` of the state client) pattern-subscribed to every
 * tenant channel, and hands each tenant a {@link ServerEventBus} view that only publishes to and only
 * delivers from that tenant's channel: a tenant never sees another tenant's events.
 *
 * Delivery is asynchronous (via Redis, also back to the publishing replica), so a listener never sees
 * its own publish re-entrantly. `publish()` is fire-and-forget; failures go to `onerror`.
 */
import type { ServerEvent, ServerEventBus } from '@modelcontextprotocol/server';
import type { Redis } from 'ioredis';

type Listener = (event: ServerEvent) => void;

const KINDS = new Set(['tools_list_changed', 'prompts_list_changed', 'resources_list_changed', 'resource_updated']);

function parseEvent(raw: string): ServerEvent | undefined {
  try {
    const value = JSON.parse(raw) as Partial<ServerEvent> & { uri?: unknown };
    if (typeof value?.kind !== 'string' || !KINDS.has(value.kind)) return undefined;
    if (value.kind === 'resource_updated' && typeof value.uri !== 'string') return undefined;
    return value as ServerEvent;
  } catch {
    return undefined;
  }
}

/** Options of {@link RedisServerEventBusHub}. */
export interface RedisServerEventBusOptions {
  /** Connection used to publish; the hub duplicates it for subscribing. Owned by the caller. */
  readonly redis: Redis;
  /** Key prefix every channel name starts with. */
  readonly keyPrefix: string;
  /** Out-of-band errors (publish failures, malformed messages, throwing listeners). */
  readonly onerror?: (error: Error) => void;
}

/** Owns the subscriber connection and hands out per-tenant buses. */
export class RedisServerEventBusHub {
  private readonly subscriber: Redis;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly buses = new Map<string, ServerEventBus>();
  private readonly channelPrefix: string;
  private ready: Promise<void> | undefined;

  constructor(private readonly options: RedisServerEventBusOptions) {
    this.channelPrefix = `${options.keyPrefix}mcp:events:`;
    this.subscriber = options.redis.duplicate();
    this.subscriber.on('error', (err: Error) => this.options.onerror?.(err));
    this.subscriber.on('pmessage', (_pattern: string, channel: string, message: string) => this.dispatch(channel, message));
  }

  /** Subscribes to every tenant channel; resolves once Redis confirmed the subscription. */
  start(): Promise<void> {
    this.ready ??= this.subscriber.psubscribe(`${this.channelPrefix}*`).then(() => undefined);
    return this.ready;
  }

  /** The bus of one tenant (memoised). */
  forTenant(tenantId: string): ServerEventBus {
    let bus = this.buses.get(tenantId);
    if (!bus) {
      const channel = this.channelPrefix + tenantId;
      bus = {
        publish: (event) => {
          this.options.redis.publish(channel, JSON.stringify(event)).catch((err: Error) => this.options.onerror?.(err));
        },
        subscribe: (listener) => {
          let set = this.listeners.get(tenantId);
          if (!set) this.listeners.set(tenantId, (set = new Set()));
          set.add(listener);
          return () => {
            set.delete(listener);
            if (set.size === 0 && this.listeners.get(tenantId) === set) this.listeners.delete(tenantId);
          };
        },
      };
      this.buses.set(tenantId, bus);
    }
    return bus;
  }

  /** Number of listeners registered on this replica (all tenants). */
  get listenerCount(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  /** Closes the subscriber connection; listeners receive nothing afterwards. */
  async close(): Promise<void> {
    this.listeners.clear();
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }

  private dispatch(channel: string, message: string): void {
    if (!channel.startsWith(this.channelPrefix)) return;
    const set = this.listeners.get(channel.slice(this.channelPrefix.length));
    if (!set || set.size === 0) return;
    const event = parseEvent(message);
    if (!event) {
      this.options.onerror?.(new Error(`ignored malformed server event on ${channel}`));
      return;
    }
    for (const listener of [...set]) {
      try {
        listener(event);
      } catch (err) {
        this.options.onerror?.(err instanceof Error ? err : new Error(String(err)));
      }
    }
  }
}
