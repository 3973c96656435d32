/**
 * Tracks the SSE responses this replica is streaming, for the open-streams gauge and for drain:
 * on drain, `subscriptions/listen` streams (which never end by themselves) get an SSE `retry:` hint
 * and are closed, so clients reconnect to another replica; request streams end with their result.
 */
import type { Gauge } from 'prom-client';

interface Tracked {
  readonly listen: boolean;
  close(retryMs: number): void;
}

/** Wraps SSE response bodies so they can be counted and closed. */
export class SseTracker {
  private readonly open = new Set<Tracked>();

  /** @param gauge - open-streams gauge to keep current. */
  constructor(private readonly gauge: Gauge) {}

  /** Number of SSE responses open right now. */
  get size(): number {
    return this.open.size;
  }

  /**
   * Returns `response` unchanged unless it is SSE; then a tracked copy. `onDone` runs once the stream
   * has ended (at once for a non-SSE response).
   */
  track(response: Response, listen: boolean, onDone?: () => void): Response {
    if (!response.body || !response.headers.get('content-type')?.includes('text/event-stream')) {
      onDone?.();
      return response;
    }
    const reader = response.body.getReader();
    const encoder = new TextEncoder();
    let controllerRef: ReadableStreamDefaultController<Uint8Array> | undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      onDone?.();
      this.open.delete(entry);
      this.gauge.dec();
    };
    const entry: Tracked = {
      listen,
      close: (retryMs) => {
        if (done || !controllerRef) return;
        try {
          controllerRef.enqueue(encoder.encode(`retry: ${retryMs}\n\n`));
          controllerRef.close();
        } catch {
          // already closed by the consumer
        }
        reader.cancel().catch(() => undefined);
        finish();
      },
    };
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        controllerRef = controller;
      },
      pull: async (controller) => {
        try {
          const { value, done: ended } = await reader.read();
          if (ended) {
            finish();
            controller.close();
          } else controller.enqueue(value);
        } catch (err) {
          finish();
          if (!done) controller.error(err);
        }
      },
      cancel: async (reason) => {
        finish();
        await reader.cancel(reason).catch(() => undefined);
      },
    });
    this.open.add(entry);
    this.gauge.inc();
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  }

  /** Closes every listen stream with a reconnect hint. */
  closeListenStreams(retryMs: number): void {
    for (const entry of [...this.open]) if (entry.listen) entry.close(retryMs);
  }

  /** Closes every stream with a reconnect hint. */
  closeAll(retryMs: number): void {
    for (const entry of [...this.open]) entry.close(retryMs);
  }
}
