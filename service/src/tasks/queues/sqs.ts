/**
 * Amazon SQS adapter of the task queue port (TASK_QUEUE_BACKEND=sqs; SQS_QUEUE_URL, SQS_DLQ_URL, optional
 * SQS_ENDPOINT), on @aws-sdk/client-sqs with the SDK's default credential chain (EKS Pod Identity in the
 * cluster). Both queues are created by the regional stack (infra/regional/queue): a standard queue whose
 * redrive policy moves a message received too often (workers crashing on it) to the DLQ.
 *
 * - Workers long-poll (SQS_WAIT_TIME_SECONDS) and receive in batches of up to 10, never more than their
 *   free slots; the visibility timeout is TASK_LOCK_MS, and a heartbeat extends it every third of that
 *   while the job runs, so a crashed worker's message reappears after TASK_LOCK_MS.
 * - Acknowledgements are batched deletes. A retry sends the next attempt with its backoff delay (SQS
 *   delays stop at 15 min: a longer one carries `notBefore` and is hidden again when received early),
 *   then deletes the failed one; a hand-back (shutdown, task held elsewhere) only resets the visibility.
 * - DLQ administration receives the whole DLQ with a short visibility timeout and deletes what it replays
 *   or purges; the rest becomes visible again at once.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
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
  /** Epoch ms before which the job must not run (delays beyond SQS's 15 minutes). */
  readonly notBefore?: number;
}

/** Longest SQS message delay, s. */
const MAX_DELAY_S = 900;
/** Longest SQS visibility timeout, s. */
const MAX_VISIBILITY_S = 43_200;

export interface SqsQueueOptions {
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly endpoint?: string;
  readonly region?: string;
  /** Long-polling wait of a worker receive, s. */
  readonly waitTimeSeconds: number;
}

/** The region of an SQS queue URL (`https://sqs.<region>.amazonaws.com/...`), if it names one. */
export function regionOfQueueUrl(url: string): string | undefined {
  return /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\//.exec(url)?.[1];
}

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));

/** SQS producer, DLQ administration and consumer factory. */
export class SqsTaskQueue implements TaskQueue {
  readonly backend = 'sqs' as const;
  readonly exclusiveDelivery = false;
  readonly client: SQSClient;
  private readonly dead = new ScannedDeadLetters(
    (pick) => this.scanDead(pick),
    (data) => this.send({ data, attempt: 1 }),
  );

  constructor(
    private readonly opts: SqsQueueOptions,
    private readonly cancels: CancelPublisher,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {
    const region = opts.region ?? regionOfQueueUrl(opts.queueUrl);
    this.client = new SQSClient({ ...(region && { region }), ...(opts.endpoint && { endpoint: opts.endpoint }) });
  }

  /**
   * Checks that both queues answer (a consumer's start): a queue that does not exist, an endpoint nobody
   * answers at or missing credentials stop the start with what happened and which variable names the
   * queue, instead of a worker that starts and then logs the same failure every second.
   */
  async probe(timeoutMs = 15_000): Promise<void> {
    for (const [url, key] of [
      [this.opts.queueUrl, 'SQS_QUEUE_URL'],
      [this.opts.dlqUrl, 'SQS_DLQ_URL'],
    ] as const) {
      try {
        await this.client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }), { abortSignal: AbortSignal.timeout(timeoutMs) });
      } catch (err) {
        throw new QueueUnavailableError(
          `SQS queue ${url} (${key}${this.opts.endpoint ? `, at SQS_ENDPOINT ${this.opts.endpoint}` : ''}) is not usable: ${sqsFailure(err, timeoutMs)}`,
        );
      }
    }
  }

  /** Sends a job message after `delayMs`. */
  private async send(message: JobMessage, delayMs = 0): Promise<void> {
    const delayS = seconds(delayMs);
    const body: JobMessage = delayS > MAX_DELAY_S ? { ...message, notBefore: Date.now() + delayMs } : { data: message.data, attempt: message.attempt };
    await this.client.send(
      new SendMessageCommand({ QueueUrl: this.opts.queueUrl, MessageBody: JSON.stringify(body), DelaySeconds: Math.min(delayS, MAX_DELAY_S) }),
    );
  }

  async enqueue(data: TaskJobData, opts: { delayMs?: number } = {}): Promise<void> {
    await this.send({ data, attempt: 1 }, opts.delayMs ?? 0);
  }

  async cancel(taskId: string): Promise<void> {
    // A queued message cannot be removed by id: the worker that receives it sees the task cancelled and deletes it.
    await this.cancels.publish(taskId);
  }

  async has(): Promise<undefined> {
    return undefined;
  }

  private async deleteAll(queueUrl: string, handles: string[]): Promise<void> {
    for (let i = 0; i < handles.length; i += 10) {
      const batch = handles.slice(i, i + 10);
      const out = await this.client.send(
        new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch.map((h, j) => ({ Id: String(j), ReceiptHandle: h })) }),
      );
      if (out.Failed?.length) throw new Error(`SQS: ${out.Failed.length} deletes failed: ${out.Failed[0]?.Message ?? out.Failed[0]?.Code}`);
    }
  }

  /**
   * Receives the whole DLQ (hidden for 30 s meanwhile), calls `pick` with the letters (latest per task),
   * deletes the messages of the task ids it returns and makes the rest visible again.
   */
  private async scanDead(pick: (letters: DeadLetter[]) => Promise<string[]>): Promise<string[]> {
    const messages: { handle: string; letter: DeadLetter }[] = [];
    const junk: string[] = [];
    for (;;) {
      const got = await this.client.send(
        new ReceiveMessageCommand({ QueueUrl: this.opts.dlqUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 30, WaitTimeSeconds: 1 }),
      );
      if (!got.Messages?.length) break;
      for (const m of got.Messages) {
        const letter = toLetter(m);
        if (letter && m.ReceiptHandle) messages.push({ handle: m.ReceiptHandle, letter });
        else if (m.ReceiptHandle) junk.push(m.ReceiptHandle);
      }
    }
    if (junk.length) await this.deleteAll(this.opts.dlqUrl, junk); // not a job: nothing could ever replay it
    const chosen = new Set(await pick(latestPerTask(messages.map((m) => m.letter))));
    await this.deleteAll(
      this.opts.dlqUrl,
      messages.filter((m) => chosen.has(m.letter.taskId)).map((m) => m.handle),
    );
    const rest = messages.filter((m) => !chosen.has(m.letter.taskId));
    for (let i = 0; i < rest.length; i += 10) {
      const out = await this.client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.opts.dlqUrl,
          Entries: rest.slice(i, i + 10).map((m, j) => ({ Id: String(j), ReceiptHandle: m.handle, VisibilityTimeout: 0 })),
        }),
      );
      // Not fatal: those letters stay hidden until the 30 s of the listing pass.
      if (out.Failed?.length) this.onError(new Error(`SQS: ${out.Failed.length} dead letters stay hidden for 30 s: ${out.Failed[0]?.Code ?? 'failed'}`));
    }
    return [...chosen];
  }

  listDead(filter?: DeadLetterFilter, limit?: number): Promise<DeadLetter[]> {
    return this.dead.list(filter, limit);
  }

  getDead(taskId: string): Promise<DeadLetter | undefined> {
    return this.dead.get(taskId);
  }

  async deadLetter(letter: DeadLetter): Promise<void> {
    await this.client.send(new SendMessageCommand({ QueueUrl: this.opts.dlqUrl, MessageBody: JSON.stringify({ letter }) }));
  }

  replay(taskId: string): Promise<boolean> {
    return this.dead.replay(taskId);
  }

  purge(filter?: DeadLetterFilter): Promise<string[]> {
    return this.dead.purge(filter);
  }

  async snapshot(): Promise<QueueSnapshot> {
    const attrs = async (url: string) =>
      (
        await this.client.send(
          new GetQueueAttributesCommand({
            QueueUrl: url,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
          }),
        )
      ).Attributes ?? {};
    const [main, dlq] = await Promise.all([attrs(this.opts.queueUrl), attrs(this.opts.dlqUrl)]);
    const num = (a: Record<string, string>, k: string) => Number(a[k] ?? 0) || 0;
    return {
      waiting: num(main, 'ApproximateNumberOfMessages'),
      active: num(main, 'ApproximateNumberOfMessagesNotVisible'),
      delayed: num(main, 'ApproximateNumberOfMessagesDelayed'),
      failed: 0,
      dlq: num(dlq, 'ApproximateNumberOfMessages'),
      // Not an SQS queue attribute: CloudWatch's ApproximateAgeOfOldestMessage carries it (the stack alarms on it).
      oldestWaitingAgeSeconds: 0,
    };
  }

  consume(handler: JobHandler, opts: ConsumeOptions): TaskConsumer {
    const queueUrl = this.opts.queueUrl;
    const visibilityS = Math.min(MAX_VISIBILITY_S, Math.max(1, seconds(opts.lockMs)));
    const report = (err: unknown) => (opts.onError ?? this.onError)(err instanceof Error ? err : new Error(String(err)));
    const running = new Set<Promise<void>>();
    const poll = new AbortController();
    let stopped = false;
    let loop: Promise<void> | undefined;

    // Batched deletes: flushed at 10 entries or after 20 ms.
    let pending: string[] = [];
    let flushTimer: NodeJS.Timeout | undefined;
    let flushing: Promise<void> = Promise.resolve();
    const flush = () => {
      if (flushTimer) clearTimeout(flushTimer);
      flushTimer = undefined;
      const batch = pending;
      pending = [];
      if (batch.length) flushing = flushing.then(() => this.deleteAll(queueUrl, batch).catch(report));
      return flushing;
    };
    const ack = (handle: string) => {
      pending.push(handle);
      if (pending.length >= 10) void flush();
      else flushTimer ??= setTimeout(() => void flush(), 20);
    };
    const setVisibility = (handle: string, s: number) =>
      this.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: handle, VisibilityTimeout: Math.min(MAX_VISIBILITY_S, s) }));

    const handle = async (m: Message): Promise<void> => {
      const receipt = m.ReceiptHandle;
      if (!receipt) return;
      let message: JobMessage;
      try {
        message = JSON.parse(m.Body ?? '') as JobMessage;
        if (!message?.data?.taskId) throw new Error('no task id');
      } catch {
        return; // not a job: left alone, the redrive policy moves it to the DLQ after maxReceiveCount receives
      }
      if (message.notBefore && message.notBefore > Date.now()) {
        await setVisibility(receipt, seconds(message.notBefore - Date.now())).catch(report);
        return;
      }
      const heartbeat = setInterval(() => void setVisibility(receipt, visibilityS).catch(report), Math.max(500, (visibilityS * 1000) / 3));
      try {
        const outcome = await handler({ data: message.data, attempt: message.attempt || 1 });
        clearInterval(heartbeat);
        if (outcome.kind === 'requeue') await setVisibility(receipt, seconds(outcome.delayMs));
        else {
          if (outcome.kind === 'retry') await this.send({ data: message.data, attempt: (message.attempt || 1) + 1 }, outcome.delayMs);
          ack(receipt);
        }
      } catch (err) {
        report(err); // not acknowledged: the message reappears after its visibility timeout
      } finally {
        clearInterval(heartbeat);
      }
    };

    const run = async () => {
      while (!stopped) {
        const free = opts.concurrency - running.size;
        if (free <= 0) {
          await Promise.race(running);
          continue;
        }
        let got;
        try {
          got = await this.client.send(
            new ReceiveMessageCommand({
              QueueUrl: queueUrl,
              MaxNumberOfMessages: Math.min(10, free),
              WaitTimeSeconds: this.opts.waitTimeSeconds,
              VisibilityTimeout: visibilityS,
            }),
            { abortSignal: poll.signal },
          );
        } catch (err) {
          if (stopped) break;
          report(err);
          await new Promise((r) => setTimeout(r, 1_000));
          continue;
        }
        for (const m of got.Messages ?? []) {
          const p = handle(m).finally(() => running.delete(p));
          running.add(p);
        }
      }
    };

    const probe = () => this.probe();
    return {
      async start() {
        if (!loop) await probe();
        loop ??= run();
      },
      async close() {
        stopped = true;
        poll.abort();
        await loop;
        await Promise.allSettled([...running]);
        await flush();
      },
    };
  }

  async close(): Promise<void> {
    this.client.destroy();
    this.cancels.close();
  }
}

/** What an SQS request failure was, in one phrase (the SDK's error name and message, or the socket's error under it). */
function sqsFailure(err: unknown, timeoutMs: number): string {
  const e = err as { name?: unknown; message?: unknown; code?: unknown; cause?: { code?: unknown; message?: unknown } } | undefined;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  if (e?.name === 'QueueDoesNotExist' || /NonExistentQueue/.test(String(e?.name ?? '')) || /does not exist/i.test(String(e?.message ?? '')))
    return `the queue does not exist (${String(e?.message ?? e?.name)})`;
  if (e?.name === 'CredentialsProviderError')
    return `no AWS credentials (${String(e.message)}): set them as the AWS SDK reads them (AWS_ACCESS_KEY_ID..., a profile, Pod Identity)`;
  const name = typeof e?.name === 'string' && e.name !== 'Error' ? `${e.name}: ` : '';
  const code = typeof e?.code === 'string' && !String(e?.message).includes(e.code) ? ` (${e.code})` : '';
  return `${name}${String(e?.message ?? err)}${code}`;
}

/** A DLQ message as a dead letter: a worker's letter, or a job the redrive policy moved (maxReceiveCount). */
function toLetter(m: Message): DeadLetter | undefined {
  try {
    const body = JSON.parse(m.Body ?? '') as { letter?: DeadLetter } & Partial<JobMessage>;
    if (body.letter?.taskId) return body.letter;
    if (body.data?.taskId) {
      const at = new Date().toISOString();
      return {
        ...body.data,
        failedAt: at,
        attempts: body.attempt ?? 1,
        errors: [{ attempt: body.attempt ?? 1, at, message: 'received too often without being deleted (workers crashed on it); moved by the redrive policy' }],
      };
    }
  } catch {
    // fall through
  }
  return undefined;
}
