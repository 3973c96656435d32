/**
 * Cache invalidation broadcast over Redis pub/sub: every gateway instance subscribes to one channel and
 * drops its in-process copies when told. Pub/sub is fire-and-forget, so after the subscriber reconnects
 * (messages may have been missed) listeners get a `reset` and drop everything.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';

const Message = z.object({
  origin: z.string(),
  ns: z.string(),
  /** Absent: the whole namespace. */
  key: z.string().optional(),
});
/** One invalidation. */
export type InvalidationMessage = z.infer<typeof Message>;

/** Listener of invalidations (`reset`: drop everything). */
export type InvalidationListener = (msg: InvalidationMessage | 'reset') => void;

/** Publishes and receives invalidations on `<prefix>cache:invalidate`. */
export class InvalidationBus {
  /** This instance's id; messages carry it so the sender can tell its own. */
  readonly origin = randomUUID();
  readonly channel: string;
  private readonly listeners = new Set<InvalidationListener>();
  private started: Promise<void> | undefined;
  private connectedOnce = false;

  /**
   * @param publisher any connection (the state Redis)
   * @param subscriber a dedicated connection: it enters subscriber mode and is closed by close()
   */
  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    prefix = 'umcp:',
    private readonly onError: (err: unknown) => void = () => {},
  ) {
    this.channel = `${prefix}cache:invalidate`;
  }

  /** Subscribes (idempotent); resolves once messages are being received. */
  start(): Promise<void> {
    this.started ??= (async () => {
      this.subscriber.on('message', (channel: string, raw: string) => {
        if (channel !== this.channel) return;
        try {
          const msg = Message.parse(JSON.parse(raw));
          for (const l of this.listeners) l(msg);
        } catch (err) {
          this.onError(err);
        }
      });
      this.subscriber.on('ready', () => {
        // ioredis resubscribes on reconnect; anything published meanwhile was lost.
        if (this.connectedOnce) for (const l of this.listeners) l('reset');
        this.connectedOnce = true;
      });
      if (this.subscriber.status === 'ready') this.connectedOnce = true;
      await this.subscriber.subscribe(this.channel);
      this.connectedOnce = true;
    })();
    return this.started;
  }

  /** Registers a listener; returns its removal. */
  listen(l: InvalidationListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Tells every instance (this one included) to drop `ns`/`key` (or all of `ns`). */
  async publish(ns: string, key?: string): Promise<void> {
    const msg: InvalidationMessage = key === undefined ? { origin: this.origin, ns } : { origin: this.origin, ns, key };
    await this.publisher.publish(this.channel, JSON.stringify(msg));
  }

  /** Unsubscribes and closes the subscriber connection. */
  async close(): Promise<void> {
    this.listeners.clear();
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }
}
