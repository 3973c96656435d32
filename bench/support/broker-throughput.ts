/**
 * Bare producer/consumer baselines of the RabbitMQ and SQS task queue backends (issue 19), measured next
 * to the platform's task pipeline on the same broker: no-op consumers with the backend's own delivery
 * settings (RabbitMQ: quorum queue, publisher confirms, manual acks, prefetch = consumer concurrency; SQS:
 * long polling, batch receive and batch delete), `concurrency` producers each awaiting its send.
 */
import { randomBytes } from 'node:crypto';
import { CreateQueueCommand, DeleteMessageBatchCommand, DeleteQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Connection } from 'rabbitmq-client';
import { produce } from './task-throughput.js';

interface Bare {
  readonly n: number;
  readonly concurrency: number;
  readonly consumers: number;
  readonly workerConcurrency: number;
}

/** Jobs/s of `n` no-op messages through a bare RabbitMQ quorum queue. */
export async function bareRabbit(opts: Bare & { url: string }): Promise<number> {
  const queue = `umcp-bench-${randomBytes(4).toString('hex')}`;
  const rabbit = new Connection(opts.url);
  await rabbit.queueDeclare({ queue, durable: true, arguments: { 'x-queue-type': 'quorum' } });
  let done = 0;
  const consumers = Array.from({ length: opts.consumers }, () => {
    // One connection per consumer, as separate worker processes would have.
    const own = new Connection(opts.url);
    const sub = own.createConsumer(
      {
        queue,
        queueOptions: { durable: true, arguments: { 'x-queue-type': 'quorum' } },
        qos: { prefetchCount: opts.workerConcurrency },
        concurrency: opts.workerConcurrency,
      },
      async () => {
        done++;
      },
    );
    sub.on('error', (err: unknown) => console.error(`bare RabbitMQ consumer: ${String(err)}`));
    return { own, sub };
  });
  const pub = rabbit.createPublisher({ confirm: true });
  try {
    const started = performance.now();
    await produce(opts.n, opts.concurrency, (i) => pub.send({ routingKey: queue, durable: true }, { i }));
    while (done < opts.n) await new Promise((r) => setTimeout(r, 5));
    return opts.n / ((performance.now() - started) / 1000);
  } finally {
    await pub.close();
    for (const c of consumers) {
      await c.sub.close();
      await c.own.close();
    }
    await rabbit.queueDelete(queue).catch(() => undefined);
    await rabbit.close();
  }
}

/** Jobs/s of `n` no-op messages through a bare SQS queue at `endpoint`. */
export async function bareSqs(
  opts: Bare & { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } },
): Promise<number> {
  const client = new SQSClient({ endpoint: opts.endpoint, region: opts.region, credentials: opts.credentials });
  const QueueUrl = (await client.send(new CreateQueueCommand({ QueueName: `umcp-bench-${randomBytes(4).toString('hex')}` }))).QueueUrl!;
  let done = 0;
  let stop = false;
  // Each consumer: `workerConcurrency` slots, batch receives of up to 10 into free slots, batch deletes.
  const consume = async () => {
    while (!stop) {
      const got = await client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: Math.min(10, opts.workerConcurrency), WaitTimeSeconds: 1 }));
      const msgs = got.Messages ?? [];
      if (!msgs.length) continue;
      await client.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: msgs.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })) }));
      done += msgs.length;
    }
  };
  const loops = Array.from({ length: opts.consumers }, consume);
  try {
    const started = performance.now();
    await produce(opts.n, opts.concurrency, (i) => client.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify({ i }) })));
    while (done < opts.n) await new Promise((r) => setTimeout(r, 5));
    return opts.n / ((performance.now() - started) / 1000);
  } finally {
    stop = true;
    await Promise.allSettled(loops);
    await client.send(new DeleteQueueCommand({ QueueUrl })).catch(() => undefined);
    client.destroy();
  }
}
