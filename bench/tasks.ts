/**
 * Tasks bench, one run: end-to-end tasks/s of a no-op task (`diagnostics.sleep {ms: 0}` as a task:
 * tools/call -> PostgreSQL record + Redis cache -> task queue -> worker child process -> result stored)
 * with 1 and 2 workers, per queue backend, next to that backend's bare producer/consumer (no-op consumer,
 * same broker, same worker concurrency, 1 and 2 consumers) measured in the same run; prints both and the
 * ratio. Backends: BullMQ on the test Redis, RabbitMQ and SQS on the test brokers of test/support/brokers.ts
 * (a backend without a broker prints why it was skipped).
 * Uses the test PostgreSQL/Redis (TEST_DATABASE_URL / TEST_REDIS_URL or 127.0.0.1); the gateway runs in
 * this process (tsx). `npm run bench` measures the 1-worker BullMQ row against the compiled gateway.
 * `npx tsx bench/tasks.ts [tasks] [client concurrency] [backends, e.g. bullmq,rabbitmq,sqs]`
 */
import { testServiceUrls } from '../test/support/platform-db.js';
import { anyRabbit, fauxqs, SQS_TEST_CREDENTIALS, type Broker } from '../test/support/brokers.js';
import { createTaskEnv } from '../test/service/tasks/support.js';
import { bareRabbit, bareSqs } from './support/broker-throughput.js';
import { bareBullmq, taskPipeline, type TaskPipelineRate } from './support/task-throughput.js';

const N = Number(process.argv[2] ?? 400);
const CONCURRENCY = Number(process.argv[3] ?? 16);
const BACKENDS = (process.argv[4] ?? 'bullmq,rabbitmq,sqs').split(',').map((s) => s.trim()) as ('bullmq' | 'rabbitmq' | 'sqs')[];
const WORKER_CONCURRENCY = 8;

async function pipeline(workers: number, brokerEnv: Record<string, string>): Promise<TaskPipelineRate> {
  const env = await createTaskEnv({ WORKER_CONCURRENCY: String(WORKER_CONCURRENCY), RATE_LIMIT_PER_MINUTE: '0', ...brokerEnv });
  try {
    const gw = await env.startGateway();
    const tenant = await env.tenant('bench');
    for (let i = 0; i < workers; i++) await env.startWorker();
    return await taskPipeline({ mcpUrl: gw.mcpUrl, key: tenant.key, dbUrl: env.db.url, n: N, concurrency: CONCURRENCY });
  } finally {
    await env.cleanup();
  }
}

/** The bare baseline of a backend with `consumers` consumers. */
function bare(backend: string, broker: Broker | undefined, consumers: number): Promise<number> {
  const common = { n: N, concurrency: CONCURRENCY, consumers, workerConcurrency: WORKER_CONCURRENCY };
  if (backend === 'rabbitmq') return bareRabbit({ ...common, url: broker!.env['AMQP_URL']! });
  if (backend === 'sqs') {
    const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION } = SQS_TEST_CREDENTIALS;
    return bareSqs({
      ...common,
      endpoint: broker!.env['SQS_ENDPOINT']!,
      region: AWS_REGION,
      credentials: { accessKeyId: AWS_ACCESS_KEY_ID, secretAccessKey: AWS_SECRET_ACCESS_KEY },
    });
  }
  return bareBullmq({ ...common, redisUrl: testServiceUrls().redisUrl });
}

const rows: string[] = [];
for (const backend of BACKENDS) {
  let broker: Broker | undefined;
  if (backend !== 'bullmq') {
    const got = backend === 'rabbitmq' ? await anyRabbit() : await fauxqs();
    if ('skipped' in got) {
      rows.push(`${backend.padEnd(8)} skipped: ${got.skipped}`);
      continue;
    }
    broker = got;
    // The in-process gateway's AWS SDK reads the test credentials from the environment.
    for (const [k, v] of Object.entries(broker.env)) if (k.startsWith('AWS_')) process.env[k] = v;
  }
  try {
    for (const n of [1, 2]) {
      const baseline = await bare(backend, broker, n);
      const ours = await pipeline(n, broker?.env ?? {});
      rows.push(
        `${backend.padEnd(8)} ${n} worker${n > 1 ? 's' : ' '}  pipeline ${ours.tasksPerS.toFixed(1).padStart(8)} tasks/s   bare ${baseline.toFixed(1).padStart(8)} jobs/s   ratio ${(ours.tasksPerS / baseline).toFixed(3)}   (create phase alone: ${ours.createPerS.toFixed(1)} tasks/s)`,
      );
    }
  } finally {
    await broker?.stop();
  }
}
console.log(`\ntasks bench: ${N} no-op tasks, ${CONCURRENCY} concurrent clients, worker concurrency ${WORKER_CONCURRENCY}`);
for (const r of rows) console.log(r);
process.exit(0);
