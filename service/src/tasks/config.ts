/**
 * Configuration keys of the task tier (gateway side and `npm run worker`), merged into the service's one
 * config schema (service/src/config.ts). Each key's env name, meaning and default are documented here.
 */
import { z } from 'zod';
import { HTTP } from '../../../contract/index.js';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** Task and worker keys. */
export const TasksConfigSchema = z.object({
  TASK_QUEUE_BACKEND: z
    .enum(['bullmq', 'rabbitmq', 'sqs'])
    .default('bullmq')
    .describe('Task queue backend: `bullmq` (Redis), `rabbitmq` (AMQP_URL) or `sqs` (SQS_QUEUE_URL, SQS_DLQ_URL); docs/tasks.md.'),
  AMQP_URL: z
    .string()
    .regex(/^amqps?:\/\//, 'an amqp:// or amqps:// URL')
    .optional()
    .describe('RabbitMQ URL with credentials and vhost (`amqps://user:pass@host:5671/vhost`), required with TASK_QUEUE_BACKEND=rabbitmq.'),
  SQS_QUEUE_URL: z
    .url({ protocol: /^https?$/, error: 'an http(s) URL' })
    .optional()
    .describe('URL of the SQS task queue (its redrive policy names SQS_DLQ_URL), required with TASK_QUEUE_BACKEND=sqs.'),
  SQS_DLQ_URL: z
    .url({ protocol: /^https?$/, error: 'an http(s) URL' })
    .optional()
    .describe('URL of the SQS dead-letter queue, required with TASK_QUEUE_BACKEND=sqs.'),
  SQS_ENDPOINT: z
    .url({ protocol: /^https?$/, error: 'an http(s) URL' })
    .optional()
    .describe('SQS endpoint override (an SQS-compatible server in tests); unset = the AWS endpoint of AWS_REGION.'),
  SQS_WAIT_TIME_SECONDS: int(0, 20).default(20).describe('SQS long-polling wait of a worker receive, seconds.'),
  WORKER_CONCURRENCY: int(1, 1000).default(8).describe('Jobs one worker process runs at the same time.'),
  TASK_QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{1,64}$/, 'letters, digits, :, _ or -')
    .default('bull')
    .describe(
      'Separates deployments on one broker: BullMQ key prefix (KEDA reads the list `<prefix>:umcp-tasks:wait`), RabbitMQ queue/exchange name prefix (`<prefix>.umcp-tasks`).',
    ),
  TASK_TTL_MS: int(1_000, 7 * 24 * 3_600_000)
    .default(3_600_000)
    .describe('How long a task and its result stay readable after creation, ms.'),
  TASK_POLL_INTERVAL_MS: int(50, 60_000).default(1_000).describe('Poll interval suggested to clients, ms.'),
  TASK_MAX_ATTEMPTS: int(1, 50).default(3).describe('Default attempts per job before it moves to the dead-letter queue.'),
  TASK_BACKOFF_MS: int(10, 3_600_000).default(1_000).describe('First retry delay, ms (exponential, with jitter).'),
  TASK_JOB_TIMEOUT_MS: int(100, 24 * 3_600_000)
    .default(300_000)
    .describe('Longest a single attempt may run before it fails (and retries), ms.'),
  TASK_LOCK_MS: int(1_000, 600_000)
    .default(30_000)
    .describe('Job lock (BullMQ lock, SQS visibility timeout, run lease); a worker that stops renewing it (crash) loses its job after this, ms.'),
  TASK_STALLED_INTERVAL_MS: int(500, 600_000).default(30_000).describe('How often workers look for stalled jobs (of crashed workers), ms.'),
  WORKER_SHUTDOWN_GRACE_MS: int(0, 3_600_000)
    .default(30_000)
    .describe('On SIGTERM a worker finishes running jobs up to this long, then hands the rest back to the queue, ms.'),
  WORKER_METRICS_PORT: int(0, 65_535).default(HTTP.workerPort).describe("Port of the worker's /metrics, /healthz and /readyz (0 = any free port)."),
});

/** Parsed task configuration. */
export type TasksConfig = z.output<typeof TasksConfigSchema>;
