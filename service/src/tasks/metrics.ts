/**
 * Task-tier metrics (names in contract/index.ts METRICS; alerts and the KEDA trigger use them).
 * Queue gauges are read from Redis at scrape time, so every gateway and worker reports the same
 * numbers; the duration histogram and the retry counter are observed by the worker that ran the job.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { METRICS } from '../../../contract/index.js';
import type { TaskQueue } from './task-queue.js';

/** The queue's numbers, read from Redis (the same for every gateway and worker). */
export interface QueueSnapshot {
  /** Jobs waiting for a worker. */
  readonly waiting: number;
  /** Jobs being run by a worker. */
  readonly active: number;
  /** Jobs waiting for their retry backoff. */
  readonly delayed: number;
  /** Jobs in BullMQ's failed set of the main queue. */
  readonly failed: number;
  /** Jobs in the dead-letter queue. */
  readonly dlq: number;
  /** Age of the oldest waiting job, seconds (0 when none waits). */
  readonly oldestWaitingAgeSeconds: number;
}

/**
 * Returns a reader of the queue's numbers: one Redis round trip set serves every caller within 250 ms
 * (concurrent callers share it), so the /metrics gauges and the status page cost one read per scrape.
 * Rejects when Redis cannot be read (the queue connection waits through outages: callers bound it).
 */
export function queueSnapshotReader(queue: TaskQueue, now: () => number = Date.now): () => Promise<QueueSnapshot> {
  let pending: Promise<QueueSnapshot> | undefined;
  return () =>
    (pending ??= (async () => {
      try {
        const [counts, oldest, dlq] = await Promise.all([
          queue.queue.getJobCounts('waiting', 'active', 'delayed', 'failed'),
          queue.queue.getJobs(['waiting'], 0, 0, true),
          queue.dlq.getJobCountByTypes('waiting'),
        ]);
        const first = oldest[0];
        return {
          waiting: counts['waiting'] ?? 0,
          active: counts['active'] ?? 0,
          delayed: counts['delayed'] ?? 0,
          failed: counts['failed'] ?? 0,
          dlq,
          oldestWaitingAgeSeconds: first ? Math.max(0, (now() - first.timestamp) / 1000) : 0,
        };
      } finally {
        setTimeout(() => (pending = undefined), 250).unref();
      }
    })());
}

/** Registers the queue gauges (waiting, active, delayed, oldest waiting age, DLQ size) on `registry`. */
export function registerQueueGauges(registry: Registry, read: () => Promise<QueueSnapshot>): void {
  // A failed read keeps the last numbers (scrapes do not fail while Redis is briefly away).
  let snapshot: QueueSnapshot = { waiting: 0, active: 0, delayed: 0, failed: 0, dlq: 0, oldestWaitingAgeSeconds: 0 };
  const gauge = (name: string, help: string, pick: (s: QueueSnapshot) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        snapshot = await read().catch(() => snapshot);
        this.set(pick(snapshot));
      },
    });
  gauge(METRICS.queueWaiting, 'Task jobs waiting for a worker', (s) => s.waiting);
  gauge(METRICS.queueActive, 'Task jobs being run by a worker', (s) => s.active);
  gauge(METRICS.queueDelayed, 'Task jobs waiting for their retry backoff', (s) => s.delayed);
  gauge(METRICS.queueOldestWaitingAge, 'Age of the oldest waiting task job, seconds', (s) => s.oldestWaitingAgeSeconds);
  gauge(METRICS.dlqSize, 'Jobs in the dead-letter queue', (s) => s.dlq);
}

/** Metrics a worker observes per job. */
export interface WorkerMetrics {
  readonly duration: Histogram<'tool' | 'outcome'>;
  readonly retries: Counter<'tool'>;
}

/** Registers the worker's per-job metrics on `registry`. */
export function workerMetrics(registry: Registry): WorkerMetrics {
  return {
    duration: new Histogram({
      name: METRICS.jobDuration,
      help: 'Duration of one job attempt, seconds, by tool and outcome (completed, failed, retry, cancelled)',
      labelNames: ['tool', 'outcome'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900],
      registers: [registry],
    }),
    retries: new Counter({
      name: METRICS.jobRetries,
      help: 'Job attempts that failed and were scheduled for a retry',
      labelNames: ['tool'],
      registers: [registry],
    }),
  };
}
