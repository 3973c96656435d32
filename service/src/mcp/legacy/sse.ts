/**
 * A server-sent-events response body the legacy leg writes to: events with ids, keep-alive comments, a
 * `retry:` hint on drain, and one close/cancel path that every owner (call, tail, GET stream) hooks into.
 */
import type { JSONRPCMessage } from '@modelcontextprotocol/server';

/** Tracks the open streams of one handler (drain, open-streams gauge). */
export interface SseRegistry {
  opened(stream: SseStream): void;
  closed(stream: SseStream): void;
}

const encoder = new TextEncoder();

/** One open SSE response. */
export class SseStream {
  readonly response: Response;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private keepAlive: NodeJS.Timeout | undefined;
  private ended = false;
  private readonly onEnd: (() => void)[] = [];

  constructor(
    private readonly registry: SseRegistry,
    opts: { headers: Record<string, string>; keepAliveMs: number },
  ) {
    const body = new ReadableStream<Uint8Array>({
      start: (c) => {
        this.controller = c;
        // A comment first, so Node flushes the response headers now rather than with the first event.
        c.enqueue(encoder.encode(': stream open\n\n'));
      },
      cancel: () => this.finish(false),
    });
    this.response = new Response(body, {
      status: 200,
      headers: {
        'Content-Type': 'text/event-stream',
        'Cache-Control': 'no-cache, no-transform',
        Connection: 'keep-alive',
        'X-Accel-Buffering': 'no',
        ...opts.headers,
      },
    });
    this.keepAlive = setInterval(() => this.raw(': keepalive\n\n'), opts.keepAliveMs);
    this.keepAlive.unref();
    registry.opened(this);
  }

  /** False once the client went away or the stream was closed. */
  get open(): boolean {
    return !this.ended;
  }

  /** Runs `fn` once when the stream ends for any reason (client gone, closed, drained). */
  onClose(fn: () => void): void {
    if (this.ended) fn();
    else this.onEnd.push(fn);
  }

  /** Writes one JSON-RPC message event (or a priming event with empty data when `message` is undefined). */
  event(eventId: string | undefined, message: JSONRPCMessage | undefined, retryMs?: number): void {
    let text = '';
    if (message !== undefined) text += 'event: message\n';
    if (eventId !== undefined) text += `id: ${eventId}\n`;
    if (retryMs !== undefined) text += `retry: ${retryMs}\n`;
    text += `data: ${message === undefined ? '' : JSON.stringify(message)}\n\n`;
    this.raw(text);
  }

  /** Ends the stream; with `retryMs` the client is first told when to reconnect (drain). */
  close(retryMs?: number): void {
    if (this.ended) return;
    if (retryMs !== undefined) this.raw(`retry: ${retryMs}\n\n`);
    try {
      this.controller.close();
    } catch {
      // already closed by the consumer
    }
    this.finish(true);
  }

  private raw(text: string): void {
    if (this.ended) return;
    try {
      this.controller.enqueue(encoder.encode(text));
    } catch {
      this.finish(false);
    }
  }

  private finish(_byServer: boolean): void {
    if (this.ended) return;
    this.ended = true;
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.registry.closed(this);
    for (const fn of this.onEnd.splice(0)) fn();
  }
}
