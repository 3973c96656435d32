/**
 * One Redis subscriber connection per replica, shared by every open SSE stream, running call and session of
 * the replica: channels are reference counted, so the number of Redis connections does not grow with the
 * number of sessions or streams.
 */
import type { Redis } from 'ioredis';

/** Receives one pub/sub message payload. */
export type ChannelListener = (payload: string) => void;

/** Reference-counted channel subscriptions over one subscriber connection. */
export class ChannelHub {
  private readonly listeners = new Map<string, Set<ChannelListener>>();
  private readonly pending = new Map<string, Promise<unknown>>();
  private readonly patterns = new Map<string, (channel: string, payload: string) => void>();
  private closed = false;

  /** @param sub a dedicated connection (it enters subscriber mode); the hub owns and closes it. */
  constructor(
    private readonly sub: Redis,
    private readonly onError: (err: Error) => void,
  ) {
    sub.on('message', (channel: string, payload: string) => {
      for (const l of this.listeners.get(channel) ?? []) {
        try {
          l(payload);
        } catch (err) {
          this.onError(err as Error);
        }
      }
    });
    sub.on('pmessage', (pattern: string, channel: string, payload: string) => {
      try {
        this.patterns.get(pattern)?.(channel, payload);
      } catch (err) {
        this.onError(err as Error);
      }
    });
  }

  /**
   * Subscribes the one listener of a channel pattern for the hub's lifetime (e.g. every session's control
   * channel); calling it again replaces the listener (safe to retry after a failure).
   */
  async psubscribe(pattern: string, listener: (channel: string, payload: string) => void): Promise<void> {
    if (this.closed) throw new Error('channel hub closed');
    this.patterns.set(pattern, listener);
    await this.sub.psubscribe(pattern);
  }

  /** Subscribes `listener`; resolves once Redis confirmed the subscription. Returns the unsubscribe function. */
  async subscribe(channel: string, listener: ChannelListener): Promise<() => void> {
    if (this.closed) throw new Error('channel hub closed');
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      this.pending.set(
        channel,
        this.sub.subscribe(channel).finally(() => this.pending.delete(channel)),
      );
    }
    set.add(listener);
    try {
      await this.pending.get(channel);
    } catch (err) {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(channel) === set) this.listeners.delete(channel);
      throw err;
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const s = this.listeners.get(channel);
      if (!s) return;
      s.delete(listener);
      if (s.size === 0) {
        this.listeners.delete(channel);
        if (!this.closed) this.sub.unsubscribe(channel).catch((err: Error) => this.onError(err));
      }
    };
  }

  /** Closes the subscriber connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    this.patterns.clear();
    this.sub.disconnect();
  }
}
