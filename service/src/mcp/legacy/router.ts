/**
 * Cross-replica delivery of client messages that belong to a running exchange: the client's answer to a
 * server-to-client request (sampling, elicitation, roots/list) and `notifications/cancelled` for a request
 * running elsewhere. The target is named by `<replicaId>~<instanceTag>`; a message for another replica is
 * published on that replica's channel `<prefix>legacy:replica:<replicaId>`, which only it subscribes to.
 */
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/server';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ChannelHub } from './channel-hub.js';
import type { SessionTransport } from './session-transport.js';

const Routed = z.object({ sid: z.string(), tag: z.string(), message: z.record(z.string(), z.unknown()) });
const WIRE_ID = /^([A-Za-z0-9_-]{1,64})~([A-Za-z0-9_-]{1,32})~/;

/** Routes client messages to the (possibly remote) server instance waiting for them. */
export class ReplicaRouter {
  private readonly local = new Map<string, SessionTransport>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly hub: ChannelHub,
    private readonly keyPrefix: string,
    private readonly replicaId: string,
    private readonly logger: Logger,
  ) {}

  private channel(replicaId: string): string {
    return `${this.keyPrefix}legacy:replica:${replicaId}`;
  }

  private callKey(sid: string, requestId: RequestId): string {
    return `${this.keyPrefix}legacy:call:${sid}:${JSON.stringify(requestId)}`;
  }

  /** Starts listening on this replica's channel. */
  async start(): Promise<void> {
    if (this.unsubscribe) return;
    this.unsubscribe = await this.hub.subscribe(this.channel(this.replicaId), (payload) => {
      const parsed = Routed.safeParse(JSON.parse(payload));
      if (parsed.success) this.deliverLocal(parsed.data.sid, parsed.data.tag, parsed.data.message as JSONRPCMessage);
    });
  }

  /** Makes a live instance reachable while it serves `requestIds` of session `sid`. */
  async register(sid: string, transport: SessionTransport, requestIds: readonly RequestId[], leaseMs: number): Promise<void> {
    this.local.set(transport.tag, transport);
    if (requestIds.length === 0) return;
    const m = this.redis.multi();
    for (const id of requestIds) m.set(this.callKey(sid, id), `${this.replicaId}~${transport.tag}`, 'PX', leaseMs);
    await m.exec();
  }

  /** Keeps the call records alive with the lease. */
  async renew(sid: string, requestIds: readonly RequestId[], leaseMs: number): Promise<void> {
    if (requestIds.length === 0) return;
    const m = this.redis.multi();
    for (const id of requestIds) m.pexpire(this.callKey(sid, id), leaseMs);
    await m.exec();
  }

  /** Forgets an instance (its exchange ended). */
  async unregister(sid: string, transport: SessionTransport, requestIds: readonly RequestId[]): Promise<void> {
    this.local.delete(transport.tag);
    if (requestIds.length > 0) await this.redis.del(...requestIds.map((id) => this.callKey(sid, id)));
  }

  /** Routes the client's answer to a server-to-client request; false when its id names no instance. */
  async routeClientResponse(sid: string, message: JSONRPCMessage & { id: RequestId }): Promise<boolean> {
    const m = typeof message.id === 'string' ? WIRE_ID.exec(message.id) : null;
    if (!m) return false;
    await this.route(sid, m[1]!, m[2]!, message);
    return true;
  }

  /** Forwards `notifications/cancelled` to the replica running the request; false when none runs it. */
  async routeCancel(sid: string, requestId: RequestId, message: JSONRPCMessage): Promise<boolean> {
    const target = await this.redis.get(this.callKey(sid, requestId));
    const m = target === null ? null : /^([^~]+)~([^~]+)$/.exec(target);
    if (!m) return false;
    await this.route(sid, m[1]!, m[2]!, message);
    return true;
  }

  private async route(sid: string, replicaId: string, tag: string, message: JSONRPCMessage): Promise<void> {
    if (replicaId === this.replicaId) {
      this.deliverLocal(sid, tag, message);
      return;
    }
    const receivers = await this.redis.publish(this.channel(replicaId), JSON.stringify({ sid, tag, message }));
    if (receivers === 0) this.logger.warn({ sessionId: sid, replicaId }, 'legacy: target replica of a routed message is gone');
  }

  private deliverLocal(sid: string, tag: string, message: JSONRPCMessage): void {
    const transport = this.local.get(tag);
    if (!transport || transport.sessionId !== sid) {
      this.logger.debug({ sessionId: sid }, 'legacy: routed message for an instance that already finished');
      return;
    }
    if ('method' in message) transport.deliver(message);
    else transport.deliverClientResponse(message);
  }

  /** Stops listening. */
  close(): void {
    this.unsubscribe?.();
    this.local.clear();
  }
}
