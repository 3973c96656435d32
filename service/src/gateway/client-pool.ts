/**
 * The client pool of one replica: one UpstreamConnection per (tenant, upstream), replaced when the
 * registration's version changes and closed after an idle period. Health of every pooled upstream is
 * exported to /metrics (`umcp_upstream_up`, `umcp_upstream_circuit_open`, `umcp_upstream_in_flight`).
 */
import { Gauge, type Registry } from 'prom-client';
import { UpstreamConnection, type UpstreamConnectionOptions, type UpstreamHealth } from './upstream-connection.js';
import type { ResolvedUpstream } from './upstream-config.js';

/** Options of ClientPool. */
export interface ClientPoolOptions extends Omit<UpstreamConnectionOptions, 'onListChanged' | 'onResourceUpdated' | 'onError'> {
  /** An upstream's transport or protocol trouble (the connection's own error report). */
  readonly onError?: (err: unknown, upstream: ResolvedUpstream) => void;
  /** Close a connection unused this long, ms. @defaultValue 300000 */
  readonly idleMs?: number;
  readonly registry?: Registry;
  /** An upstream announced a list change. */
  readonly onListChanged: (tenantId: string, namespace: string, kind: 'tools' | 'prompts' | 'resources') => void;
  /** A subscribed upstream resource changed (`uri` in the upstream's terms). */
  readonly onResourceUpdated?: (upstream: ResolvedUpstream, uri: string) => void;
}

/** Pooled upstream clients of this replica. */
export class ClientPool {
  private readonly conns = new Map<string, UpstreamConnection>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly idleMs: number;

  constructor(private readonly opts: ClientPoolOptions) {
    this.idleMs = opts.idleMs ?? 300_000;
    this.sweeper = setInterval(() => this.sweep(), Math.min(this.idleMs, 30_000));
    this.sweeper.unref();
    if (opts.registry) this.registerMetrics(opts.registry);
  }

  /**
   * The connection of `upstream` (created on first use, replaced when the registration changed). A copy
   * bound to a caller (per-user credentials) has a connection of its own: no authenticated connection or
   * upstream session is shared between users.
   */
  get(upstream: ResolvedUpstream): UpstreamConnection {
    const slot = `${upstream.tenantId}/${upstream.id}${upstream.binding ? `#${upstream.binding.key}` : ''}`;
    const existing = this.conns.get(slot);
    if (existing && existing.upstream.version === upstream.version) return existing;
    if (existing) void existing.close();
    const conn = new UpstreamConnection(upstream, {
      ...this.opts,
      onListChanged: (kind) => this.opts.onListChanged(upstream.tenantId, upstream.namespace, kind),
      onResourceUpdated: (uri) => this.opts.onResourceUpdated?.(upstream, uri),
      onError: (err) => this.opts.onError?.(err, upstream),
    });
    this.conns.set(slot, conn);
    return conn;
  }

  /** Health of a tenant's pooled upstreams on this replica. */
  health(tenantId: string): UpstreamHealth[] {
    return [...this.conns.values()].filter((c) => c.upstream.tenantId === tenantId && !c.upstream.binding).map((c) => c.health());
  }

  /** Closes the connections of a tenant's upstreams that are not in `keep` (removed registrations). */
  async retain(tenantId: string, keep: ReadonlySet<string>): Promise<void> {
    const gone = [...this.conns.entries()].filter(([, c]) => c.upstream.tenantId === tenantId && !keep.has(c.upstream.id));
    for (const [slot] of gone) this.conns.delete(slot);
    await Promise.all(gone.map(([, c]) => c.close()));
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const all = [...this.conns.values()];
    this.conns.clear();
    await Promise.all(all.map((c) => c.close()));
  }

  private sweep(): void {
    const cutoff = Date.now() - this.idleMs;
    for (const [slot, c] of this.conns) {
      if (c.lastUsed < cutoff && c.health().inFlight === 0) {
        this.conns.delete(slot);
        void c.close();
      }
    }
  }

  private registerMetrics(registry: Registry): void {
    const labelNames = ['tenant', 'upstream'] as const;
    // Per-user connections are not reported one by one (labels per user would be unbounded).
    const conns = () => [...this.conns.values()].filter((c) => !c.upstream.binding);
    new Gauge({
      name: 'umcp_upstream_up',
      help: 'Upstream reachable from this replica (1) or not (0: circuit open or last call failed)',
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const c of conns()) {
          const h = c.health();
          this.set({ tenant: c.upstream.tenantId, upstream: h.namespace }, h.state === 'closed' && h.lastError === undefined ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'umcp_upstream_circuit_open',
      help: 'Circuit breaker of the upstream is open (1) or half-open/closed (0)',
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const c of conns()) this.set({ tenant: c.upstream.tenantId, upstream: c.upstream.namespace }, c.health().state === 'open' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'umcp_upstream_in_flight',
      help: 'Requests in flight to the upstream from this replica',
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const c of conns()) this.set({ tenant: c.upstream.tenantId, upstream: c.upstream.namespace }, c.health().inFlight);
      },
    });
  }
}
