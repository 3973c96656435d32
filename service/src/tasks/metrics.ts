/**
 * Task-tier metrics (names in contract/index.ts METRICS; alerts and the KEDA trigger use them).
 * Queue gauges are read from the queue's broker at scrape time, so every gateway and worker reports the same
 * numbers; the duration histogram and the retry counter are observed by the worker that ran the job.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { METRICS } from '../../../contract/index.js';
import type { QueueSnapshot, TaskQueue } from './task-queue.js';

export type { QueueSnapshot } from './task-queue.js';

/**
 * Returns a reader of the queue's numbers: one broker read serves every caller within 250 ms
 * (concurrent callers share it), so the /metrics gauges and the status page cost one read per scrape.
 * Rejects when the broker cannot be read (queue connections wait through outages: callers bound it).
 */
export function queueSnapshotReader(queue: Pick<TaskQueue, 'snapshot'>): () => Promise<QueueSnapshot> {
  let pending: Promise<QueueSnapshot> | undefined;
  return () =>
    (pending ??= (async () => {
      try {
        return await queue.snapshot();
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
