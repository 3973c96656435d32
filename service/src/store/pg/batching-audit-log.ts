/**
 * AuditLog decorator for the request path: tools/call entries are queued and written in batches
 * (PgAuditLog.recordMany: one multi-row INSERT per tenant), so a call no longer costs its own shard
 * transaction (BEGIN, move lock, fence check, INSERT, COMMIT). An entry is written at most `maxDelayMs`
 * after it was recorded, or at once when `maxEntries` are queued. `record()` resolves once its entry is
 * written (the request path does not wait for it). `list()` writes what is queued first, so a listing
 * on this replica sees every call it served. `close()` writes everything still queued: nothing recorded
 * before a graceful shutdown is lost. Write failures go to the inner log's error handler, as before.
 */
import type { AuditEntry, AuditLog } from '../ports.js';

/** What the decorator needs from the store: single and batched writes, and the listing. */
export interface BatchableAuditLog extends AuditLog {
  recordMany(entries: readonly AuditEntry[]): Promise<void>;
}

/** Options of BatchingAuditLog. */
export interface BatchingAuditLogOptions {
  /** Longest an entry waits in the queue, ms. @defaultValue 50 */
  readonly maxDelayMs?: number;
  /** Queue length that triggers a write at once. @defaultValue 256 */
  readonly maxEntries?: number;
}

interface Queued {
  readonly entry: AuditEntry;
  readonly done: () => void;
}

/** Batches audit writes; see the file comment. */
export class BatchingAuditLog implements AuditLog {
  private queue: Queued[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly writing = new Set<Promise<void>>();
  private readonly maxDelayMs: number;
  private readonly maxEntries: number;
  private closed = false;

  constructor(
    private readonly inner: BatchableAuditLog,
    opts: BatchingAuditLogOptions = {},
  ) {
    this.maxDelayMs = opts.maxDelayMs ?? 50;
    this.maxEntries = opts.maxEntries ?? 256;
    if (!(this.maxDelayMs >= 0)) throw new RangeError(`BatchingAuditLog maxDelayMs must be >= 0, got ${this.maxDelayMs}`);
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1)
      throw new RangeError(`BatchingAuditLog maxEntries must be a positive integer, got ${this.maxEntries}`);
  }

  record(entry: AuditEntry): Promise<void> {
    // After close() (shutdown) there is no later flush to wait for: write at once.
    if (this.closed) return this.inner.recordMany([entry]);
    return new Promise<void>((done) => {
      this.queue.push({ entry, done });
      if (this.queue.length >= this.maxEntries) void this.flush();
      // unref: a queued entry alone does not keep the process alive; close() writes it on shutdown.
      else this.timer ??= setTimeout(() => void this.flush(), this.maxDelayMs).unref();
    });
  }

  async list(filter: { tenantId?: string; limit?: number }): Promise<(AuditEntry & { id: string; at: Date })[]> {
    await this.flush();
    return this.inner.list(filter);
  }

  /** Writes everything queued and waits for every write in progress. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    this.queue = [];
    if (batch.length) {
      const write = this.inner
        .recordMany(batch.map((q) => q.entry))
        // recordMany reports its own failures (per entry, to the store's error handler) and never throws.
        .catch(() => undefined)
        .finally(() => {
          this.writing.delete(write);
          for (const q of batch) q.done();
        });
      this.writing.add(write);
    }
    await Promise.all(this.writing);
  }

  /** Graceful shutdown: writes what is queued; later entries are written one by one. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }
}
