/**
 * Writer/reader routing for one shard. Writes go to the writer; reads go round-robin to healthy readers.
 * A read for a tenant or session that wrote recently goes to a reader only if that reader has replayed
 * the write's LSN (checked in the same read-only transaction), else to the writer. An unreachable reader
 * is skipped for `unhealthyRetryMs` and then tried again; with no usable reader, reads use the writer.
 */
import type { PoolMetrics } from './pool-metrics.js';
import { isConnectionError, type Queryable, type RolePool } from './role-pool.js';
import { type LsnTracker, parseLsn } from './lsn-tracker.js';

/** Whose writes a read must see: the tenant, and the session when there is one. */
export interface ConsistencyScope {
  readonly tenantId?: string;
  readonly sessionId?: string;
}

/** Where a read ran (for tests, logs and metrics). */
export type ReadTarget = { role: 'writer'; reason: 'no-reader' | 'not-replayed' | 'readers-down' | 'asked' } | { role: 'reader'; index: number };

/** Options of ReplicaRouter. */
export interface ReplicaRouterOptions {
  readonly shard: string;
  readonly writer: RolePool;
  readonly readers: readonly RolePool[];
  readonly lsn: LsnTracker;
  /** How long an unreachable reader is skipped, ms. @defaultValue 5000 */
  readonly unhealthyRetryMs?: number;
  readonly metrics?: PoolMetrics;
  /** Told when a reader is marked unhealthy. */
  readonly onReaderDown?: (index: number, err: unknown) => void;
}

interface ReaderState {
  readonly pool: RolePool;
  downUntil: number;
  /** Highest replay LSN this reader was seen at (monotonic), so a caught-up reader needs no check. */
  replayed: bigint;
}

/** Routes one shard's queries between its writer and readers. */
export class ReplicaRouter {
  readonly shard: string;
  readonly writer: RolePool;
  private readonly readers: ReaderState[];
  private readonly lsn: LsnTracker;
  private readonly retryMs: number;
  private next = 0;
  private probeTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: ReplicaRouterOptions) {
    this.shard = opts.shard;
    this.writer = opts.writer;
    this.readers = opts.readers.map((pool) => ({ pool, downUntil: 0, replayed: 0n }));
    this.lsn = opts.lsn;
    this.retryMs = opts.unhealthyRetryMs ?? 5_000;
  }

  /** Runs `fn` in a writer transaction, then records the WAL position for the scope's keys. */
  async write<T>(scope: ConsistencyScope, fn: (q: Queryable) => Promise<T>): Promise<T> {
    const result = await this.writer.transaction(fn);
    const keys = this.keys(scope);
    if (keys.length > 0 && this.readers.length > 0) {
      // After COMMIT: the commit record is at or before the current WAL write position.
      const { rows } = await this.writer.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
      await this.lsn.note(keys, parseLsn(rows[0]!.lsn));
    }
    return result;
  }

  /** Runs `fn` in a read-only transaction on a reader that has seen the scope's writes, else on the writer. */
  async read<T>(scope: ConsistencyScope, fn: (q: Queryable) => Promise<T>): Promise<T> {
    return (await this.readWithTarget(scope, fn)).result;
  }

  /** Like read, and tells where it ran. */
  async readWithTarget<T>(scope: ConsistencyScope, fn: (q: Queryable) => Promise<T>): Promise<{ result: T; target: ReadTarget }> {
    if (this.readers.length === 0) return { result: await this.writer.transaction(fn, { readOnly: true }), target: { role: 'writer', reason: 'no-reader' } };
    const pending = await this.lsn.pending(this.keys(scope));
    const now = Date.now();
    let notReplayed = false;
    for (let tried = 0; tried < this.readers.length; tried++) {
      const index = this.next++ % this.readers.length;
      const r = this.readers[index]!;
      if (r.downUntil > now) continue;
      try {
        const out = await r.pool.transaction(
          async (q) => {
            if (pending !== null && r.replayed < pending) {
              const { rows } = await q.query<{ lsn: string | null }>('SELECT pg_last_wal_replay_lsn()::text AS lsn');
              const replayed = rows[0]?.lsn ? parseLsn(rows[0].lsn) : 0n;
              if (replayed > r.replayed) r.replayed = replayed;
              if (replayed < pending) return { ok: false as const };
            }
            return { ok: true as const, value: await fn(q) };
          },
          { readOnly: true },
        );
        if (out.ok) return { result: out.value, target: { role: 'reader', index } };
        notReplayed = true;
        // Another reader may be further ahead; try it before falling back to the writer.
      } catch (err) {
        if (!isConnectionError(err)) throw err;
        this.markDown(index, err);
      }
    }
    const result = await this.writer.transaction(fn, { readOnly: true });
    return { result, target: { role: 'writer', reason: notReplayed ? 'not-replayed' : 'readers-down' } };
  }

  /** Reads from the writer regardless of replicas (for reads that must not lag, e.g. before a write). */
  async readFromWriter<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    return this.writer.transaction(fn, { readOnly: true });
  }

  /** Indexes of readers currently considered usable. */
  healthyReaders(): number[] {
    const now = Date.now();
    return this.readers.flatMap((r, i) => (r.downUntil > now ? [] : [i]));
  }

  /**
   * Probes every reader (also those marked down): reachable ones become usable again, and their replay
   * lag is reported to the replication-lag gauge. Never throws.
   */
  async probe(): Promise<void> {
    await Promise.all(
      this.readers.map(async (r, index) => {
        try {
          const { rows } = await r.pool.query<{ lag: number | null; lsn: string | null }>(
            `SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                    ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 END AS lag,
                    pg_last_wal_replay_lsn()::text AS lsn`,
          );
          r.downUntil = 0;
          const lsn = rows[0]?.lsn;
          if (lsn) {
            const n = parseLsn(lsn);
            if (n > r.replayed) r.replayed = n;
          }
          this.opts.metrics?.setLag(this.shard, String(index), Number(rows[0]?.lag ?? 0));
        } catch (err) {
          this.markDown(index, err);
        }
      }),
    );
  }

  /** Probes every `intervalMs` until close(). */
  startProbing(intervalMs = 5_000): void {
    if (this.probeTimer) return;
    this.probeTimer = setInterval(() => void this.probe(), intervalMs);
    this.probeTimer.unref();
  }

  /** Stops probing and closes every pool of the shard. */
  async close(): Promise<void> {
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
    for (const p of [this.writer, ...this.readers.map((r) => r.pool)]) this.opts.metrics?.remove(p);
    await Promise.all([this.writer.close(), ...this.readers.map((r) => r.pool.close())]);
  }

  private markDown(index: number, err: unknown): void {
    const r = this.readers[index]!;
    r.downUntil = Date.now() + this.retryMs;
    // A restarted replica may come back from an older base; forget what it had replayed.
    r.replayed = 0n;
    this.opts.onReaderDown?.(index, err);
  }

  private keys(scope: ConsistencyScope): string[] {
    const keys: string[] = [];
    if (scope.tenantId) keys.push(`${this.shard}:t:${scope.tenantId}`);
    if (scope.sessionId) keys.push(`${this.shard}:s:${scope.sessionId}`);
    return keys;
  }
}
