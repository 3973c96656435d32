/**
 * Live server instances of 2025-era sessions kept on this replica between exchanges, so that the next request
 * of a session reaching this replica is served by an instance that has already run (or replayed) `initialize`
 * and needs no restore. An instance serves one exchange at a time: `take` removes it from the pool, and the
 * exchange gives it back when it ended cleanly (every request answered, no server-to-client request open,
 * nothing cancelled); otherwise it is closed.
 *
 * Nothing here is state another replica needs: the pool only saves the restore. Every request still loads
 * the session record from Redis, and a pooled instance is used only when it matches that record and the
 * request:
 * - the principal (tenant, subject, kind, toolsets, scopes), which the factory builds the tool surface from;
 * - the log level stored in the record (`logging/setLevel` served on another replica: the caller re-applies
 *   the stored level through the SDK's own handler).
 * Instances are dropped when the session is deleted (control channel) and when the tenant's tool, prompt or
 * resource lists change (tenant channel: upstreams registered, removed, or changed), so the factory's next
 * instance sees the new surface; an instance that was in use (or being built) when such a change arrived is
 * closed when given back, not pooled (each instance is leased with the tenant's change count of its start). Idle instances are closed after `idleMs`; the pool holds at most `maxIdle`
 * (oldest session evicted first) and `maxIdlePerSession` per session.
 */
import type { Principal } from '../../domain/principal.js';
import type { SessionTransport, TransportSink } from './session-transport.js';

/** A live server instance of a session, serving one exchange at a time. */
export interface LiveInstance {
  readonly transport: SessionTransport;
  /** The log level the instance applies (the session's when it was restored, then each `logging/setLevel` it served). */
  logLevel: string | undefined;
  close(): Promise<void>;
}

/** Limits of the pool. */
export interface InstancePoolOptions {
  /** Idle instances kept on this replica, all sessions together. @defaultValue 256 */
  maxIdle?: number;
  /** Idle instances kept per session (concurrent requests of one session each need their own). @defaultValue 2 */
  maxIdlePerSession?: number;
  /** An instance idle longer than this is closed, in ms. @defaultValue 60000 */
  idleMs?: number;
}

interface Entry {
  readonly instance: LiveInstance;
  readonly tenantId: string;
  readonly fingerprint: string;
  readonly since: number;
}

/** What the factory's instance depends on, of the principal. */
export function principalFingerprint(p: Principal): string {
  return JSON.stringify([p.tenantId, p.subject, p.kind, p.tenantName, [...p.toolsets], [...p.scopes], p.server ?? null]);
}

/** Idle live instances by session. */
export class InstancePool {
  /** Session id -> idle instances; Map order = least recently given back first. */
  private readonly idle = new Map<string, Entry[]>();
  private size = 0;
  private readonly maxIdle: number;
  private readonly maxPerSession: number;
  private readonly idleMs: number;
  private readonly sweeper: NodeJS.Timeout;
  /** Tenant -> list changes this replica has seen (dropTenant). */
  private readonly changes = new Map<string, number>();
  /** The tenant's change count when each instance out of the pool was taken, or when its build began. */
  private readonly leases = new WeakMap<LiveInstance, number>();

  /** @param idleSink where an idle instance's late messages go (e.g. notifications to the session's GET stream). */
  constructor(
    private readonly idleSink: (sid: string) => TransportSink,
    opts: InstancePoolOptions = {},
  ) {
    this.maxIdle = opts.maxIdle ?? 256;
    this.maxPerSession = opts.maxIdlePerSession ?? 2;
    this.idleMs = opts.idleMs ?? 60_000;
    for (const [name, v] of [
      ['maxIdle', this.maxIdle],
      ['maxIdlePerSession', this.maxPerSession],
      ['idleMs', this.idleMs],
    ] as const) {
      if (!Number.isInteger(v) || v < 0) throw new Error(`InstancePool option ${name} must be a non-negative integer, got ${v}`);
    }
    this.sweeper = setInterval(() => this.sweep(), Math.max(1000, Math.floor(this.idleMs / 2)));
    this.sweeper.unref();
  }

  /** Number of idle instances held. */
  get count(): number {
    return this.size;
  }

  /** The tenant's list changes seen so far: read before building an instance, handed to {@link lease}. */
  changeCount(tenantId: string): number {
    return this.changes.get(tenantId) ?? 0;
  }

  /** Records that `instance` reflects its tenant's lists as of `changeCount` (read before it was built). */
  lease(instance: LiveInstance, changeCount: number): void {
    this.leases.set(instance, changeCount);
  }

  /** Takes an idle instance of `sid` built for the same principal; undefined when there is none. */
  take(sid: string, fingerprint: string): LiveInstance | undefined {
    const list = this.idle.get(sid);
    if (!list) return undefined;
    const i = list.findIndex((e) => e.fingerprint === fingerprint);
    if (i < 0) return undefined;
    const [entry] = list.splice(i, 1);
    this.size--;
    if (list.length === 0) this.idle.delete(sid);
    // Pooled means current: a change since it was given back would have closed it.
    this.leases.set(entry!.instance, this.changeCount(entry!.tenantId));
    return entry!.instance;
  }

  /**
   * Gives an instance back after its exchange; closes it when it is not idle, the pool is full, or its
   * tenant's lists changed since it was leased (or it never was).
   */
  give(sid: string, principal: Principal, instance: LiveInstance): void {
    const current = this.leases.get(instance) === this.changeCount(principal.tenantId);
    if (!current || !instance.transport.idle || this.maxIdle === 0 || this.maxPerSession === 0) {
      void instance.close();
      return;
    }
    instance.transport.bind(this.idleSink(sid));
    const list = this.idle.get(sid) ?? [];
    this.idle.delete(sid); // re-inserted last: most recently used
    list.push({ instance, tenantId: principal.tenantId, fingerprint: principalFingerprint(principal), since: Date.now() });
    this.size++;
    while (list.length > this.maxPerSession) this.discard(list.shift()!);
    this.idle.set(sid, list);
    while (this.size > this.maxIdle) {
      const [oldestSid, oldest] = this.idle.entries().next().value as [string, Entry[]];
      this.discard(oldest.shift()!);
      if (oldest.length === 0) this.idle.delete(oldestSid);
    }
  }

  /** Closes the idle instances of a session (deleted). */
  dropSession(sid: string): void {
    const list = this.idle.get(sid);
    if (!list) return;
    this.idle.delete(sid);
    for (const e of list) this.discard(e);
  }

  /** Closes the idle instances of a tenant's sessions (its lists changed: the factory builds another surface). */
  dropTenant(tenantId: string): void {
    this.changes.set(tenantId, this.changeCount(tenantId) + 1);
    for (const [sid, list] of this.idle) {
      const keep = list.filter((e) => e.tenantId !== tenantId || (this.discard(e), false));
      if (keep.length === 0) this.idle.delete(sid);
      else this.idle.set(sid, keep);
    }
  }

  /** Closes every idle instance and stops the sweeper. */
  close(): void {
    clearInterval(this.sweeper);
    for (const list of this.idle.values()) for (const e of list) this.discard(e);
    this.idle.clear();
  }

  private sweep(): void {
    const before = Date.now() - this.idleMs;
    for (const [sid, list] of this.idle) {
      const keep = list.filter((e) => e.since > before || (this.discard(e), false));
      if (keep.length === 0) this.idle.delete(sid);
      else if (keep.length !== list.length) this.idle.set(sid, keep);
    }
  }

  private discard(e: Entry): void {
    this.size--;
    void e.instance.close();
  }
}
