/**
 * An SQS task queue that cannot be used stops its consumer's start (the worker, `npm start`) with what
 * happened and which variable names the queue (issue 19: "clear startup errors when a backend's required
 * variable is missing or wrong"). Before, the worker started and logged the failure every second.
 * Real SQS-protocol server: fauxqs (test/support/brokers.ts); a closed port for an endpoint nobody answers at.
 */
import assert from 'node:assert/strict';
import { freePort } from '../../../service/src/local/free-port.js';
import { SqsTaskQueue } from '../../../service/src/tasks/queues/sqs.js';
import { CancelPublisher } from '../../../service/src/tasks/queues/redis.js';
import { QueueUnavailableError } from '../../../service/src/tasks/task-queue.js';
import { fauxqs, SQS_TEST_CREDENTIALS, type Broker } from '../../support/brokers.js';
import { consumerStartFailure } from './support.js';

/** The error a consumer's start fails with for these queue URLs and endpoint. */
async function startFailure(queueUrl: string, dlqUrl: string, endpoint: string): Promise<Error> {
  const queue = new SqsTaskQueue(
    { queueUrl, dlqUrl, endpoint, region: SQS_TEST_CREDENTIALS.AWS_REGION, waitTimeSeconds: 1 },
    new CancelPublisher('redis://127.0.0.1:1', 'unused'),
  );
  return consumerStartFailure(queue, queueUrl);
}

describe('SQS task queue: a queue it cannot use stops the start, naming it and the cause', function () {
  this.timeout(60_000);
  const saved: Record<string, string | undefined> = {};
  let broker: Broker | undefined;
  before(async function () {
    for (const [k, v] of Object.entries(SQS_TEST_CREDENTIALS)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    const got = await fauxqs();
    if ('skipped' in got) console.log(`      fauxqs cases skipped: ${got.skipped}`);
    else broker = got;
  });
  after(async () => {
    await broker?.stop();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('nothing answers at SQS_ENDPOINT: the queue, the endpoint and the refused connection', async () => {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const err = await startFailure(`${endpoint}/000000000000/q`, `${endpoint}/000000000000/q-dlq`, endpoint);
    assert.ok(err instanceof QueueUnavailableError, err.message);
    assert.match(
      err.message,
      new RegExp(`^SQS queue ${endpoint}/000000000000/q \\(SQS_QUEUE_URL, at SQS_ENDPOINT ${endpoint}\\) is not usable: .*ECONNREFUSED`),
    );
  });

  it('a queue that does not exist: says so, for the queue or the DLQ variable that names it', async function () {
    if (!broker) this.skip();
    const { SQS_QUEUE_URL: queueUrl, SQS_DLQ_URL: dlqUrl, SQS_ENDPOINT: endpoint } = broker!.env as Record<string, string>;
    const base = queueUrl!.slice(0, queueUrl!.lastIndexOf('/'));
    const main = await startFailure(`${base}/no-such-queue`, dlqUrl!, endpoint!);
    assert.match(main.message, /^SQS queue \S+\/no-such-queue \(SQS_QUEUE_URL, at SQS_ENDPOINT \S+\) is not usable: the queue does not exist/);
    const dlq = await startFailure(queueUrl!, `${base}/no-such-dlq`, endpoint!);
    assert.match(dlq.message, /^SQS queue \S+\/no-such-dlq \(SQS_DLQ_URL, at SQS_ENDPOINT \S+\) is not usable: the queue does not exist/);
  });

  it('both queues there: the consumer starts', async function () {
    if (!broker) this.skip();
    const { SQS_QUEUE_URL: queueUrl, SQS_DLQ_URL: dlqUrl, SQS_ENDPOINT: endpoint } = broker!.env as Record<string, string>;
    await assert.rejects(startFailure(queueUrl!, dlqUrl!, endpoint!), /consumer started on/);
  });
});
