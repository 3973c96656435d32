/**
 * RabbitMQ adapter of the task queue port (TASK_QUEUE_BACKEND=rabbitmq, AMQP_URL), on rabbitmq-client
 * (connection, channel, consumer and publisher recovery after a broker restart or a network cut).
 *
 * Topology, all names under TASK_QUEUE_PREFIX (`<p>.umcp-tasks...`), all queues quorum (replicated on a
 * cluster, durable, at-least-once dead-lettering):
 *
 * - `<p>.umcp-tasks`: the task queue. Workers consume it with manual acks and prefetch = concurrency; a
 *   message is acknowledged only after its outcome is recorded (and a retry republished, confirmed).
 *   `x-delivery-limit` dead-letters a message that keeps killing its workers to the DLX.
 * - `<p>.umcp-tasks.delay.<ms>`: retry (and delayed-enqueue) queues, one per delay step (two per octave,
 *   128 ms .. ~56 h, declared once): `x-message-ttl` = the step, dead-lettered back to the task queue.
 *   A backoff delay is rounded to a neighbouring step at random, so the jitter survives on average.
 * - `<p>.umcp-tasks.dlx` (fanout) -> `<p>.umcp-tasks-dlq`: the dead-letter queue. The worker publishes a
 *   letter with the error history there; messages over the delivery limit arrive through the DLX.
 *
 * Publishes use publisher confirms. DLQ administration reads the DLQ with basic.get on its own channel
 * (unacknowledged messages go back when the channel closes), acknowledging only what it replays or purges.
 */
import { Connection, ConsumerStatus, type AsyncMessage, type Channel, type PublisherProps, type Publisher, type SyncMessage } from 'rabbitmq-client';
import { QUEUE } from '../../../../contract/index.js';
import {
  type ConsumeOptions,
  type DeadLetter,
  type DeadLetterFilter,
  type JobHandler,
  type QueueSnapshot,
  type TaskConsumer,
  type TaskJobData,
  type TaskQueue,
  QueueUnavailableError,
} from '../task-queue.js';
import type { CancelPublisher } from './redis.js';
import { latestPerTask, ScannedDeadLetters } from './scanned-dead-letters.js';

/** A job message on the wire. */
interface JobMessage {
  readonly data: TaskJobData;
  readonly attempt: number;
}

/** Deliveries of one message before the broker dead-letters it (crash loops; retries republish and do not count). */
export const DELIVERY_LIMIT = 10;

/** The retry/delay steps, ms: 2^k and 1.5 * 2^k for k = 7..27. */
export const DELAY_STEPS: readonly number[] = Array.from({ length: 21 }, (_, i) => 2 ** (i + 7)).flatMap((p) => [p, p * 1.5]);

/** The delay step a delay goes to: one of its two neighbours, the nearer one more often (unbiased on average). */
export function delayStep(delayMs: number, random: () => number = Math.random): number {
  const first = DELAY_STEPS[0]!;
  const last = DELAY_STEPS.at(-1)!;
  if (delayMs <= first) return first;
  if (delayMs >= last) return last;
  const i = DELAY_STEPS.findIndex((s) => s >= delayMs);
  const hi = DELAY_STEPS[i]!;
  const lo = DELAY_STEPS[i - 1]!;
  return random() < (delayMs - lo) / (hi - lo) ? hi : lo;
}

/** Queue and exchange names of one deployment. */
export function rabbitNames(prefix: string) {
  const main = `${prefix}.${QUEUE.name}`;
  return { main, dlq: `${prefix}.${QUEUE.deadLetterName}`, dlx: `${main}.dlx`, delay: (ms: number) => `${main}.delay.${ms}` };
}

const quorum = { 'x-queue-type': 'quorum', 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' } as const;

function parse(body: unknown): unknown {
  if (Buffer.isBuffer(body)) return JSON.parse(body.toString('utf8'));
  return typeof body === 'string' ? JSON.parse(body) : body;
}

/** AMQP_URL without its user and password, for messages. */
export function brokerAddress(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(AMQP_URL)';
  }
}

/**
 * Why the broker at `url` cannot be used, from the connection's last error (rabbitmq-client retries in the
 * background and an operation only times out waiting for a channel: "channel aquisition timed out").
 */
export function rabbitUnavailable(url: string, err: Error & { code?: unknown }): QueueUnavailableError {
  const where = `RabbitMQ at ${brokerAddress(url)} (AMQP_URL)`;
  const detail = err.message.replace(/^undefined: /, '');
  if (err.code === 'ACCESS_REFUSED') return new QueueUnavailableError(`${where} refused the login: check the user and password in AMQP_URL (${detail})`);
  if (err.code === 'NOT_ALLOWED')
    return new QueueUnavailableError(`${where} refused the virtual host: it does not exist or the user has no access to it (${detail})`);
  if (typeof err.code === 'string' && /^E[A-Z]+$/.test(err.code)) return new QueueUnavailableError(`cannot reach ${where}: ${detail}`);
  return new QueueUnavailableError(`${where} is not usable: ${detail}`);
}

/** RabbitMQ producer, DLQ administration and consumer factory. */
export class RabbitTaskQueue implements TaskQueue {
  readonly backend = 'rabbitmq' as const;
  readonly exclusiveDelivery = false;
  private readonly rabbit: Connection;
  private readonly publisher: Publisher;
  private readonly names: ReturnType<typeof rabbitNames>;
  /** The connection's last error while it is not connected (why an operation found no channel). */
  private connectionError: (Error & { code?: unknown }) | undefined;
  private readonly dead = new ScannedDeadLetters(
    (pick) => this.scanDead(pick),
    (data) => this.send({ data, attempt: 1 }),
  );

  constructor(
    private readonly url: string,
    prefix: string,
    private readonly cancels: CancelPublisher,
    private readonly onError: (err: Error) => void = () => undefined,
    acquireTimeoutMs = 20_000,
  ) {
    this.names = rabbitNames(prefix);
    this.rabbit = new Connection({ url, connectionName: 'umcp-task-queue', retryLow: 200, retryHigh: 5_000, acquireTimeout: acquireTimeoutMs });
    this.rabbit.on('error', (err) => {
      this.connectionError = err;
      onError(err);
    });
    this.rabbit.on('connection', () => (this.connectionError = undefined));
    this.publisher = this.rabbit.createPublisher({
      confirm: true,
      maxAttempts: 3,
      // Declared on every (re)connect: the whole topology, so a wiped broker heals on its own.
      ...this.topology(),
    });
  }

  /** Every exchange, queue and binding of the deployment. */
  private topology(): Required<Pick<PublisherProps, 'exchanges' | 'queues' | 'queueBindings'>> {
    const n = this.names;
    return {
      exchanges: [{ exchange: n.dlx, type: 'fanout', durable: true }],
      queues: [
        { queue: n.main, durable: true, arguments: this.mainArgs() },
        { queue: n.dlq, durable: true, arguments: { 'x-queue-type': 'quorum' } },
        ...DELAY_STEPS.map((ms) => ({
          queue: n.delay(ms),
          durable: true,
          arguments: { ...quorum, 'x-message-ttl': ms, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': n.main },
        })),
      ],
      queueBindings: [{ queue: n.dlq, exchange: n.dlx, routingKey: '' }],
    };
  }

  /** Runs `op` on the broker; a channel that never came says why (the connection's last error). */
  private async onBroker<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      const failed = this.connectionError;
      if ((err as { code?: unknown }).code === 'TIMEOUT' && failed) throw rabbitUnavailable(this.url, failed);
      throw err;
    }
  }

  /** Declares the topology now (a consumer may start before anything was published). */
  private async declare(): Promise<void> {
    const t = this.topology();
    await this.onBroker(async () => {
      for (const e of t.exchanges) await this.rabbit.exchangeDeclare(e);
      for (const q of t.queues) await this.rabbit.queueDeclare(q);
      for (const b of t.queueBindings) await this.rabbit.queueBind(b);
    });
  }

  private mainArgs() {
    return { ...quorum, 'x-delivery-limit': DELIVERY_LIMIT, 'x-dead-letter-exchange': this.names.dlx };
  }

  private async publish(queue: string, body: unknown, messageId: string): Promise<void> {
    await this.onBroker(() =>
      this.publisher.send(
        { exchange: '', routingKey: queue, durable: true, contentType: 'application/json', messageId, headers: { 'x-umcp-enqueued-at': Date.now() } },
        body,
      ),
    );
  }

  /** Publishes a job message to the task queue, or to the delay queue of `delayMs`. */
  private async send(message: JobMessage, delayMs = 0): Promise<void> {
    await this.publish(delayMs > 0 ? this.names.delay(delayStep(delayMs)) : this.names.main, message, message.data.taskId);
  }

  async enqueue(data: TaskJobData, opts: { delayMs?: number } = {}): Promise<void> {
    await this.send({ data, attempt: 1 }, opts.delayMs ?? 0);
  }

  async cancel(taskId: string): Promise<void> {
    // A queued message cannot be removed by id: the worker that takes it sees the task cancelled and drops it.
    await this.cancels.publish(taskId);
  }

  async has(): Promise<undefined> {
    return undefined;
  }

  /**
   * Reads the whole DLQ on a private channel, calls `pick` with the letters (latest per task), and
   * acknowledges (removes) the messages of the task ids it returns; the rest go back on channel close.
   */
  private async scanDead(pick: (letters: DeadLetter[]) => Promise<string[]>): Promise<string[]> {
    const ch: Channel = await this.onBroker(() => this.rabbit.acquire());
    try {
      const messages: { msg: SyncMessage; letter: DeadLetter }[] = [];
      for (;;) {
        const msg = await ch.basicGet({ queue: this.names.dlq, noAck: false });
        if (!msg) break;
        const letter = toLetter(msg);
        if (letter) messages.push({ msg, letter });
        else ch.basicAck({ deliveryTag: msg.deliveryTag }); // not a job: nothing could ever replay it
      }
      const chosen = new Set(await pick(latestPerTask(messages.map((m) => m.letter))));
      for (const { msg, letter } of messages) if (chosen.has(letter.taskId)) ch.basicAck({ deliveryTag: msg.deliveryTag });
      return [...chosen];
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  listDead(filter?: DeadLetterFilter, limit?: number): Promise<DeadLetter[]> {
    return this.dead.list(filter, limit);
  }

  getDead(taskId: string): Promise<DeadLetter | undefined> {
    return this.dead.get(taskId);
  }

  async deadLetter(letter: DeadLetter): Promise<void> {
    await this.publish(this.names.dlq, { letter }, letter.taskId);
  }

  replay(taskId: string): Promise<boolean> {
    return this.dead.replay(taskId);
  }

  purge(filter?: DeadLetterFilter): Promise<string[]> {
    return this.dead.purge(filter);
  }

  async snapshot(): Promise<QueueSnapshot> {
    const n = this.names;
    const ch = await this.onBroker(() => this.rabbit.acquire());
    try {
      // Passive declares: counts of ready messages (unacknowledged ones are not reported over AMQP).
      const count = async (queue: string) => (await ch.queueDeclare({ queue, passive: true })).messageCount;
      const [waiting, dlq, ...delays] = await Promise.all([count(n.main), count(n.dlq), ...DELAY_STEPS.map((ms) => count(n.delay(ms)))]);
      return { waiting, active: 0, delayed: delays.reduce((a, b) => a + b, 0), failed: 0, dlq, oldestWaitingAgeSeconds: 0 };
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  consume(handler: JobHandler, opts: ConsumeOptions): TaskConsumer {
    const n = this.names;
    const consumer = this.rabbit.createConsumer(
      {
        queue: n.main,
        queueOptions: { durable: true, arguments: this.mainArgs() },
        qos: { prefetchCount: opts.concurrency },
        concurrency: opts.concurrency,
        requeue: true,
        lazy: true,
        // Its own queue's dead-letter exchange; the publisher (re)declares the rest of the topology.
        exchanges: [{ exchange: n.dlx, type: 'fanout', durable: true }],
      },
      async (msg: AsyncMessage) => {
        let message: JobMessage;
        try {
          message = parse(msg.body) as JobMessage;
          if (!message?.data?.taskId) throw new Error('no task id');
        } catch {
          return ConsumerStatus.DROP; // not a job: the DLX keeps it for inspection
        }
        const outcome = await handler({ data: message.data, attempt: message.attempt || 1 });
        // The follow-up message is confirmed before this one is acknowledged (a crash in between re-runs, never loses).
        if (outcome.kind === 'retry') await this.send({ data: message.data, attempt: (message.attempt || 1) + 1 }, outcome.delayMs);
        if (outcome.kind === 'requeue') await this.send(message, outcome.delayMs);
        return ConsumerStatus.ACK;
      },
    );
    consumer.on('error', (err: unknown) => (opts.onError ?? this.onError)(err instanceof Error ? err : new Error(String(err))));
    return {
      start: async () => {
        await this.declare();
        const ready = new Promise<void>((resolve) => consumer.once('ready', () => resolve()));
        consumer.start();
        await ready;
      },
      close: () => consumer.close(),
    };
  }

  async close(): Promise<void> {
    await this.publisher.close().catch(() => undefined);
    await this.rabbit.close().catch(() => undefined);
    this.cancels.close();
  }
}

/** A DLQ message as a dead letter: a worker's letter, or a job the broker dead-lettered (delivery limit). */
function toLetter(msg: SyncMessage): DeadLetter | undefined {
  try {
    const body = parse(msg.body) as { letter?: DeadLetter } & Partial<JobMessage>;
    if (body.letter?.taskId) return body.letter;
    if (body.data?.taskId) {
      const at = Number(msg.headers?.['x-umcp-enqueued-at']);
      return {
        ...body.data,
        failedAt: new Date(Number.isFinite(at) ? at : Date.now()).toISOString(),
        attempts: body.attempt ?? 1,
        errors: [
          {
            attempt: body.attempt ?? 1,
            at: new Date().toISOString(),
            message: `delivered ${DELIVERY_LIMIT} times without an acknowledgement (workers crashed on it)`,
          },
        ],
      };
    }
  } catch {
    // fall through
  }
  return undefined;
}
