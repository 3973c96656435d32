/**
 * Scheduled retention purge of the BlobStore (BLOB_RETENTION_DAYS) for a fleet of gateway replicas:
 * every replica runs the timer (unref'd, first run after a random delay so replicas started together
 * spread out), but a run only purges when
 *   1. no replica purged within the last interval (`<prefix>blob:purge:done`, set after a successful
 *      purge with a TTL of 90% of the interval), and
 *   2. it wins a short lock (`<prefix>blob:purge:lock`, SET NX PX; released by its owner only, and it
 *      lapses on its own if the holder dies mid-purge).
 * So N replicas purge about once per interval in total, never two at a time. Failures are logged and
 * retried on the next tick.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { BlobStore } from './blob-store.js';

/** Options of startBlobRetention. */
export interface BlobRetentionOptions {
  readonly store: BlobStore;
  /** The "state" Redis role. */
  readonly redis: Redis;
  readonly keyPrefix: string;
  readonly intervalMs: number;
  readonly logger: Logger;
  /** Longest a purge may hold the lock, ms. @defaultValue min(10 minutes, max(intervalMs, 5 s)) */
  readonly lockMs?: number;
  /** Delay of the first run, ms. @defaultValue random in [0, min(intervalMs, 30 s)) */
  readonly firstRunMs?: number;
}

/** What one run did. */
export type PurgeRun = { ran: true; deleted: number; ms: number } | { ran: false; reason: 'recently-purged' | 'locked' | 'stopped' };

/** A running schedule. */
export interface BlobRetentionSchedule {
  /** One run now (respects the lock and the done marker). */
  runOnce(): Promise<PurgeRun>;
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/** Starts the schedule. */
export function startBlobRetention(opts: BlobRetentionOptions): BlobRetentionSchedule {
  const log = opts.logger.child({ component: 'blob-retention' });
  const lockKey = `${opts.keyPrefix}blob:purge:lock`;
  const doneKey = `${opts.keyPrefix}blob:purge:done`;
  const lockMs = opts.lockMs ?? Math.min(600_000, Math.max(opts.intervalMs, 5_000));
  const doneMs = Math.max(1, Math.floor(opts.intervalMs * 0.9));
  let stopped = false;
  let running: Promise<PurgeRun> | undefined;

  const run = async (): Promise<PurgeRun> => {
    if (stopped) return { ran: false, reason: 'stopped' };
    if ((await opts.redis.exists(doneKey)) === 1) return { ran: false, reason: 'recently-purged' };
    const token = randomUUID();
    if ((await opts.redis.set(lockKey, token, 'PX', lockMs, 'NX')) !== 'OK') return { ran: false, reason: 'locked' };
    const started = performance.now();
    try {
      // Checked again under the lock: another replica may have finished between EXISTS and SET.
      if ((await opts.redis.exists(doneKey)) === 1) return { ran: false, reason: 'recently-purged' };
      const deleted = await opts.store.purgeExpired();
      await opts.redis.set(doneKey, new Date().toISOString(), 'PX', doneMs);
      const ms = Math.round(performance.now() - started);
      log.info({ deleted, ms }, deleted > 0 ? 'object storage retention purge: expired objects deleted' : 'object storage retention purge: nothing expired');
      return { ran: true, deleted, ms };
    } finally {
      await opts.redis
        .eval(RELEASE, 1, lockKey, token)
        .catch((err: unknown) =>
          log.warn({ err: err instanceof Error ? err.message : String(err) }, 'object storage retention purge: lock release failed (it lapses by itself)'),
        );
    }
  };

  const runOnce = (): Promise<PurgeRun> => {
    // One run at a time in this process; a tick during a long purge joins it.
    running ??= run().finally(() => {
      running = undefined;
    });
    return running;
  };

  const tick = () => {
    runOnce().catch((err: unknown) =>
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'object storage retention purge failed; retrying next interval'),
    );
  };
  const first = setTimeout(tick, opts.firstRunMs ?? Math.floor(Math.random() * Math.min(opts.intervalMs, 30_000)));
  first.unref();
  const timer = setInterval(tick, opts.intervalMs);
  timer.unref();
  log.info({ intervalMs: opts.intervalMs }, 'object storage retention purge scheduled');

  return {
    runOnce,
    async stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
