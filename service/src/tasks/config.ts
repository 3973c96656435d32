/**
 * Configuration keys of the task tier (gateway side and `npm run worker`), merged into the service's one
 * config schema (service/src/config.ts). Each key's env name, meaning and default are documented here.
 */
import { z } from 'zod';
import { HTTP } from '../../../contract/index.js';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** Task and worker keys. */
export const TasksConfigSchema = z.object({
  WORKER_CONCURRENCY: int(1, 1000).default(8).describe('Jobs one worker process runs at the same time.'),
  TASK_QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{1,64}$/, 'letters, digits, :, _ or -')
    .default('bull')
    .describe('BullMQ key prefix; KEDA reads the list `<prefix>:umcp-tasks:wait`.'),
  TASK_TTL_MS: int(1_000, 7 * 24 * 3_600_000)
    .default(3_600_000)
    .describe('How long a task and its result stay readable after creation, ms.'),
  TASK_POLL_INTERVAL_MS: int(50, 60_000).default(1_000).describe('Poll interval suggested to clients, ms.'),
  TASK_MAX_ATTEMPTS: int(1, 50).default(3).describe('Default attempts per job before it moves to the dead-letter queue.'),
  TASK_BACKOFF_MS: int(10, 3_600_000).default(1_000).describe('First retry delay, ms (exponential, with jitter).'),
  TASK_JOB_TIMEOUT_MS: int(100, 24 * 3_600_000)
    .default(300_000)
    .describe('Longest a single attempt may run before it fails (and retries), ms.'),
  TASK_LOCK_MS: int(1_000, 600_000).default(30_000).describe('BullMQ job lock; a worker that stops renewing it (crash) loses its job after this, ms.'),
  TASK_STALLED_INTERVAL_MS: int(500, 600_000).default(30_000).describe('How often workers look for stalled jobs (of crashed workers), ms.'),
  WORKER_SHUTDOWN_GRACE_MS: int(0, 3_600_000)
    .default(30_000)
    .describe('On SIGTERM a worker finishes running jobs up to this long, then hands the rest back to the queue, ms.'),
  WORKER_METRICS_PORT: int(0, 65_535).default(HTTP.workerPort).describe("Port of the worker's /metrics, /healthz and /readyz (0 = any free port)."),
});

/** Parsed task configuration. */
export type TasksConfig = z.output<typeof TasksConfigSchema>;
