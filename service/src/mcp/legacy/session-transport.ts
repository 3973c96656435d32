/**
 * The SDK `Transport` one short-lived server instance of a 2025-era session talks through. The SDK's
 * `Server`/`McpServer` keep all protocol logic (request dispatch, capability checks, progress, cancellation,
 * server-to-client request correlation); this transport only decides where each outbound message goes:
 * messages related to an inbound request go to that request's SSE stream (event log), unrelated ones to the
 * session's standalone GET stream. Server-to-client request ids are rewritten to
 * `<replicaId>~<instanceTag>~<id>` so the client's answer, POSTed to any replica, can be routed back here.
 */
import type { JSONRPCMessage, JSONRPCRequest, MessageExtraInfo, RequestId, Transport, TransportSendOptions } from '@modelcontextprotocol/server';
import { taskAnswerOf } from '../../protocol/task-answer.js';
import { isJSONRPCErrorResponse, isJSONRPCRequest, isJSONRPCResultResponse } from '@modelcontextprotocol/server';
import { randomBytes } from 'node:crypto';

/** Where a transport's outbound messages go. */
export interface TransportSink {
  /** A response to, or a message sent while serving, inbound request `requestId`. */
  related(message: JSONRPCMessage, requestId: RequestId): Promise<void>;
  /** A message not tied to any inbound request (standalone GET stream). */
  standalone(message: JSONRPCMessage): Promise<void>;
  /**
   * A server-to-client request sent without `relatedRequestId` (the SDK's `ctx.mcpReq.requestSampling` and
   * `elicitInput` send none). An instance serving a call can only be asking on behalf of that call, so the
   * call exchange puts it on its own stream; without this hook it goes to the standalone stream.
   */
  unrelatedRequest?(message: JSONRPCMessage): Promise<void>;
  /** The client cancelled inbound request `requestId`: the SDK will send no response for it. */
  cancelled?(requestId: RequestId): void;
}

const RESTORE_TIMEOUT_MS = 10_000;

/**
 * Transport of one server instance of a session. It serves one exchange at a time; between exchanges (the
 * instance waits in the replica's instance pool) it is bound to another sink with `bind`.
 */
export class SessionTransport implements Transport {
  /** Names this instance in rewritten server-to-client request ids. */
  readonly tag = randomBytes(9).toString('base64url');
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;
  private readonly outbound = new Map<string, RequestId>();
  /** Inbound client requests delivered and not answered yet (JSON of their ids). */
  private readonly inflight = new Set<string>();
  private readonly internal = new Map<string, { resolve: (m: JSONRPCMessage) => void; reject: (e: Error) => void }>();
  private counter = 0;
  private closed = false;
  /** Set when an exchange left state behind that a next exchange must not inherit (a cancelled request). */
  private spent = false;

  constructor(
    readonly sessionId: string,
    private readonly replicaId: string,
    private sink: TransportSink,
  ) {}

  /** Routes the instance's outbound messages to `sink` from now on (the next exchange it serves). */
  bind(sink: TransportSink): void {
    this.sink = sink;
  }

  /**
   * True when the instance is between exchanges: open, every delivered request answered, no server-to-client
   * request waiting for the client. Only such an instance may serve another exchange.
   */
  get idle(): boolean {
    return !this.closed && !this.spent && this.inflight.size === 0 && this.outbound.size === 0 && this.internal.size === 0;
  }

  async start(): Promise<void> {}

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const isResponse = isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message);
    if (isResponse && typeof message.id === 'string' && this.internal.has(message.id)) {
      const waiter = this.internal.get(message.id)!;
      this.internal.delete(message.id);
      waiter.resolve(message);
      return;
    }
    if (this.closed) throw new Error('session transport closed');
    if (isResponse && message.id !== null && message.id !== undefined) this.inflight.delete(JSON.stringify(message.id));
    let out = message;
    // The tools/call answer of a task: the CreateTaskResult goes out as the result (protocol/task-answer.ts).
    const taskAnswer = isJSONRPCResultResponse(message) ? taskAnswerOf(message.result) : undefined;
    if (taskAnswer) out = { ...message, result: taskAnswer } as JSONRPCMessage;
    if (isJSONRPCRequest(message)) {
      const wireId = `${this.replicaId}~${this.tag}~${String(message.id)}`;
      this.outbound.set(wireId, message.id);
      out = { ...message, id: wireId };
    }
    const related = isResponse ? (message.id ?? undefined) : options?.relatedRequestId;
    if (related !== undefined) await this.sink.related(out, related);
    else if (isJSONRPCRequest(out) && this.sink.unrelatedRequest) await this.sink.unrelatedRequest(out);
    else await this.sink.standalone(out);
  }

  /** Hands one inbound client message to the server instance. */
  deliver(message: JSONRPCMessage, extra?: MessageExtraInfo): void {
    if (isJSONRPCRequest(message)) this.inflight.add(JSON.stringify(message.id));
    this.onmessage?.(message, extra);
    if ('method' in message && message.method === 'notifications/cancelled' && !('id' in message)) {
      const requestId = (message.params as { requestId?: unknown } | undefined)?.requestId;
      if (typeof requestId === 'string' || typeof requestId === 'number') {
        // The SDK sends no response for a cancelled request, so this transport cannot see its handler end:
        // the instance is never reused.
        this.spent = true;
        this.sink.cancelled?.(requestId);
      }
    }
  }

  /** Delivers the client's answer to a server-to-client request of this instance; false when not ours. */
  deliverClientResponse(message: JSONRPCMessage): boolean {
    if (!(isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) || typeof message.id !== 'string') return false;
    const original = this.outbound.get(message.id);
    if (original === undefined) return false;
    this.outbound.delete(message.id);
    this.onmessage?.({ ...message, id: original });
    return true;
  }

  /**
   * Sends a request into the server instance outside any client exchange and resolves with its response.
   * Used to restore a session on a replica that has no live instance of it: replaying the stored `initialize` (and `logging/setLevel`) through the SDK's
   * own handlers sets the negotiated version, client info and capabilities exactly as on the original.
   */
  internalRequest(method: string, params: Record<string, unknown>): Promise<JSONRPCMessage> {
    const id = `__restore:${++this.counter}`;
    return new Promise<JSONRPCMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.internal.delete(id);
        reject(new Error(`server instance did not answer ${method} within ${RESTORE_TIMEOUT_MS} ms`));
      }, RESTORE_TIMEOUT_MS);
      this.internal.set(id, {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject,
      });
      const request: JSONRPCRequest = { jsonrpc: '2.0', id, method, params };
      this.onmessage?.(request);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.internal.values()) w.reject(new Error('session transport closed'));
    this.internal.clear();
    this.onclose?.();
  }
}
