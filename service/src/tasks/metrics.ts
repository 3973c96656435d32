/**
 * Task-tier metrics (names in contract/index.ts METRICS; alerts and the KEDA trigger use them).
 * Queue gauges are read from Redis at scrape time, so every gateway and worker reports the same
 * numbers; the duration histogram and the retry counter are observed by the worker that ran the job.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { METRICS } from '../../../contract/index.js';
import type { TaskQueue } from './task-queue.js';

/** Registers the queue gauges (waiting, active, delayed, oldest waiting age, DLQ size) on `registry`. */
export function registerQueueGauges(registry: Registry, queue: TaskQueue): void {
  let pending: Promise<void> | undefined;
  let snapshot = { waiting: 0, active: 0, delayed: 0, oldestAge: 0, dlq: 0 };
  // One Redis round trip set per scrape, shared by the five gauges.
  const refresh = () =>
    (pending ??= (async () => {
      try {
        const [counts, oldest, dlq] = await Promise.all([
          queue.queue.getJobCounts('waiting', 'active', 'delayed'),
          queue.queue.getJobs(['waiting'], 0, 0, true),
          queue.dlq.getJobCountByTypes('waiting'),
        ]);
        const first = oldest[0];
        snapshot = {
          waiting: counts['waiting'] ?? 0,
          active: counts['active'] ?? 0,
          delayed: counts['delayed'] ?? 0,
          oldestAge: first ? Math.max(0, (Date.now() - first.timestamp) / 1000) : 0,
          dlq,
        };
      } finally {
        setTimeout(() => (pending = undefined), 250).unref();
      }
    })());
  const gauge = (name: string, help: string, pick: (s: typeof snapshot) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        await refresh().catch(() => undefined);
        this.set(pick(snapshot));
      },
    });
  gauge(METRICS.queueWaiting, 'Task jobs waiting for a worker', (s) => s.waiting);
  gauge(METRICS.queueActive, 'Task jobs being run by a worker', (s) => s.active);
  gauge(METRICS.queueDelayed, 'Task jobs waiting for their retry backoff', (s) => s.delayed);
  gauge(METRICS.queueOldestWaitingAge, 'Age of the oldest waiting task job, seconds', (s) => s.oldestAge);
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
    retries: new Counter({ name: METRICS.jobRetries, help: 'Job attempts that failed and were scheduled for a retry', labelNames: ['tool'], registers: [registry] }),
  };
}
