/**
 * SSE_STREAMS_PER_TENANT: how many SSE responses one tenant may hold open on this process. Every SSE
 * response counts while it is open; a request that would open a long-lived stream (a GET stream of a
 * 2025-era session, a 2026-07-28 `subscriptions/listen`) is refused up front with `429` and a JSON-RPC
 * error once the tenant is at the limit, before the endpoint does any work. Request streams (a tools/call
 * answered as SSE) are counted but never refused: they end with their result.
 */
import type { IncomingMessage } from 'node:http';
import { EdgeErrorCode } from '../protocol/errors.js';
import { jsonRpcError } from './respond.js';

/** Whether `req` opens a stream that stays open until the client or a drain closes it. */
export function opensLongLivedStream(req: IncomingMessage): boolean {
  if (req.method === 'GET') return true;
  return req.method === 'POST' && req.headers['mcp-method'] === 'subscriptions/listen';
}

/** Per-tenant counts of open SSE responses. */
export class SseStreamLimiter {
  private readonly open = new Map<string, number>();

  /** @param perTenant the limit; 0 = unlimited */
  constructor(private readonly perTenant: number) {}

  /** Open SSE responses of `tenantId`. */
  count(tenantId: string): number {
    return this.open.get(tenantId) ?? 0;
  }

  /** The 429 for a long-lived stream `tenantId` may not open now. */
  refusal(): Response {
    return jsonRpcError(
      429,
      EdgeErrorCode.Refused,
      `Too many open streams for this tenant: ${this.perTenant} (SSE_STREAMS_PER_TENANT); close one or retry later`,
      { 'retry-after': '5' },
    );
  }

  /**
   * Reserves a stream of `tenantId` before the request is handled (so concurrent openers cannot all pass
   * the check), or undefined when the tenant is at the limit. The returned release is idempotent.
   */
  tryAcquire(tenantId: string): (() => void) | undefined {
    if (this.perTenant > 0 && this.count(tenantId) >= this.perTenant) return undefined;
    return this.acquire(tenantId);
  }

  /** Counts a stream of `tenantId` (a request stream: never refused) until the returned release runs. */
  acquire(tenantId: string): () => void {
    this.open.set(tenantId, this.count(tenantId) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = this.count(tenantId) - 1;
      if (n <= 0) this.open.delete(tenantId);
      else this.open.set(tenantId, n);
    };
  }
}
