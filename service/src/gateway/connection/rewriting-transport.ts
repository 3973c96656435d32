/**
 * A client transport that rewrites what passes through it, so the pooled SDK client stays a plain `Client`
 * (public API only):
 * - inbound results go through {@link RewriteOptions.rewriteResult} before the SDK decodes them;
 * - with {@link RewriteOptions.idOffset}, outbound request ids (and the ids `notifications/cancelled`
 *   names) are shifted by the offset and inbound response ids shifted back. All clients in one upstream
 *   session share its JSON-RPC id space (the server routes each response by id), and the SDK numbers a
 *   client's requests from 0; a client joining another's session therefore numbers far from the creator's.
 *
 * Everything else (session id, protocol version, per-request streams) is the wrapped transport's.
 */
import type { JSONRPCMessage, Transport, TransportSendOptions } from '@modelcontextprotocol/client';

/** How the transport rewrites. */
export interface RewriteOptions {
  /** Added to outbound numeric request ids, subtracted from inbound response ids. @defaultValue 0 */
  readonly idOffset?: number;
  /** Applied to every inbound result. */
  readonly rewriteResult?: (result: Record<string, unknown>) => Record<string, unknown>;
}

type Message = Record<string, unknown>;

/** Wraps `inner`; use the wrapper wherever the transport would be used. */
export class RewritingTransport implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: Transport['onmessage'];

  constructor(
    private readonly inner: Transport,
    private readonly opts: RewriteOptions,
  ) {}

  get sessionId(): string | undefined {
    return this.inner.sessionId;
  }

  get hasPerRequestStream(): boolean | undefined {
    return this.inner.hasPerRequestStream;
  }

  setProtocolVersion(version: string): void {
    this.inner.setProtocolVersion?.(version);
  }

  setSupportedProtocolVersions(versions: string[]): void {
    this.inner.setSupportedProtocolVersions?.(versions);
  }

  start(): Promise<void> {
    this.inner.onclose = () => this.onclose?.();
    this.inner.onerror = (err) => this.onerror?.(err);
    this.inner.onmessage = (message, extra) => this.onmessage?.(this.inbound(message as unknown as Message) as never, extra);
    return this.inner.start();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    return this.inner.send(this.outbound(message as unknown as Message) as unknown as JSONRPCMessage, options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private shift(id: unknown, by: number): unknown {
    return typeof id === 'number' && by !== 0 ? id + by : id;
  }

  private outbound(m: Message): Message {
    const offset = this.opts.idOffset ?? 0;
    if (offset === 0) return m;
    if (typeof m['method'] === 'string' && 'id' in m) return { ...m, id: this.shift(m['id'], offset) };
    if (m['method'] === 'notifications/cancelled') {
      const params = m['params'] as Message | undefined;
      if (params && 'requestId' in params) return { ...m, params: { ...params, requestId: this.shift(params['requestId'], offset) } };
    }
    return m;
  }

  private inbound(m: Message): Message {
    if (typeof m['method'] === 'string' || !('id' in m)) return m;
    const id = this.shift(m['id'], -(this.opts.idOffset ?? 0));
    const result = m['result'];
    const rewritten = result && typeof result === 'object' && this.opts.rewriteResult ? this.opts.rewriteResult(result as Record<string, unknown>) : result;
    return id === m['id'] && rewritten === result ? m : { ...m, id, ...(rewritten !== undefined && { result: rewritten }) };
  }
}
