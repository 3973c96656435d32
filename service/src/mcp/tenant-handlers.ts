/**
 * The modern leg's per-tenant SDK handlers (each bound to its tenant's event bus), kept in LRU order
 * and bounded: past `max` entries, the least recently used handlers with nothing in flight (no running
 * exchange, no open listen stream) are closed. A closed tenant simply gets a fresh handler next time;
 * nothing tenant-visible lives in a handler beyond its open streams.
 */
import type { McpHttpHandler } from '@modelcontextprotocol/server';

interface Entry {
  readonly handler: McpHttpHandler;
  inflight: number;
}

/** A handler lease: call `release()` once the exchange (or its SSE stream) has ended. */
export interface HandlerLease {
  readonly handler: McpHttpHandler;
  release(): void;
}

/** Bounded, LRU-ordered map of tenant handlers. */
export class TenantHandlers {
  private readonly entries = new Map<string, Entry>();

  /**
   * @param create - builds a tenant's handler.
   * @param max - handlers kept before idle ones are closed. @defaultValue 1000
   */
  constructor(
    private readonly create: (tenantId: string) => McpHttpHandler,
    private readonly max = 1000,
  ) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`TenantHandlers max must be a positive integer, got ${max}`);
  }

  /** Handlers currently kept. */
  get size(): number {
    return this.entries.size;
  }

  /** The tenant's handler, counted in flight until the lease is released (exactly once). */
  acquire(tenantId: string): HandlerLease {
    let entry = this.entries.get(tenantId);
    if (entry)
      this.entries.delete(tenantId); // re-inserted below: most recently used last
    else entry = { handler: this.create(tenantId), inflight: 0 };
    this.entries.set(tenantId, entry);
    entry.inflight++;
    this.evictIdle();
    let released = false;
    const held = entry;
    return {
      handler: held.handler,
      release: () => {
        if (released) return;
        released = true;
        held.inflight--;
      },
    };
  }

  /** Closes every handler (aborting what is still in flight). */
  async closeAll(): Promise<void> {
    const handlers = [...this.entries.values()].map((e) => e.handler);
    this.entries.clear();
    await Promise.all(handlers.map((h) => h.close().catch(() => undefined)));
  }

  private evictIdle(): void {
    if (this.entries.size <= this.max) return;
    for (const [tenantId, entry] of this.entries) {
      if (this.entries.size <= this.max) break;
      if (entry.inflight > 0) continue;
      this.entries.delete(tenantId);
      void entry.handler.close().catch(() => undefined);
    }
  }
}
