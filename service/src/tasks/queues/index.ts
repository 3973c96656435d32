/**
 * Builds the task queue adapter TASK_QUEUE_BACKEND names (service/src/tasks/task-queue.ts is the port).
 * The cancel channel is Redis pub/sub on every backend: the platform's state Redis is always there.
 */
import type { TasksConfig } from '../config.js';
import type { TaskQueue } from '../task-queue.js';
import { BullmqTaskQueue } from './bullmq.js';
import { RabbitTaskQueue } from './rabbitmq.js';
import { CancelPublisher } from './redis.js';
import { SqsTaskQueue } from './sqs.js';

export { queueConnection, RunLeases } from './redis.js';

/** What a queue needs from its process. */
export interface TaskQueueOptions {
  readonly config: Pick<
    TasksConfig,
    'TASK_QUEUE_BACKEND' | 'TASK_QUEUE_PREFIX' | 'AMQP_URL' | 'SQS_QUEUE_URL' | 'SQS_DLQ_URL' | 'SQS_ENDPOINT' | 'SQS_WAIT_TIME_SECONDS'
  > & { readonly AWS_REGION?: string | undefined };
  /** Redis of BullMQ and of the cancel channel. */
  readonly redisUrl: string;
  readonly cancelChannel: string;
  readonly onError?: (err: Error) => void;
}

/** The configured backend's adapter. */
export function createTaskQueue(opts: TaskQueueOptions): TaskQueue {
  const c = opts.config;
  const cancels = new CancelPublisher(opts.redisUrl, opts.cancelChannel);
  switch (c.TASK_QUEUE_BACKEND) {
    case 'bullmq':
      return new BullmqTaskQueue(opts.redisUrl, c.TASK_QUEUE_PREFIX, cancels, opts.onError);
    case 'rabbitmq':
      if (!c.AMQP_URL) throw new Error('AMQP_URL: required with TASK_QUEUE_BACKEND=rabbitmq');
      return new RabbitTaskQueue(c.AMQP_URL, c.TASK_QUEUE_PREFIX, cancels, opts.onError);
    case 'sqs':
      if (!c.SQS_QUEUE_URL || !c.SQS_DLQ_URL) throw new Error('SQS_QUEUE_URL and SQS_DLQ_URL: required with TASK_QUEUE_BACKEND=sqs');
      return new SqsTaskQueue(
        {
          queueUrl: c.SQS_QUEUE_URL,
          dlqUrl: c.SQS_DLQ_URL,
          waitTimeSeconds: c.SQS_WAIT_TIME_SECONDS,
          ...(c.SQS_ENDPOINT && { endpoint: c.SQS_ENDPOINT }),
          ...(c.AWS_REGION && { region: c.AWS_REGION }),
        },
        cancels,
        opts.onError,
      );
  }
}
