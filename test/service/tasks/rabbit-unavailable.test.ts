/**
 * A RabbitMQ task queue whose broker cannot be used says why (issue 19: "clear startup errors when a
 * backend's required variable is missing or wrong"): a wrong password, an unknown vhost, nothing listening.
 * Before, each of them ended `npm start` with "channel aquisition timed out". Real broker: the machine's
 * on 127.0.0.1:5672 for the login and vhost cases (skipped with one line when absent); a closed port.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { freePort } from '../../../service/src/local/free-port.js';
import { RabbitTaskQueue } from '../../../service/src/tasks/queues/rabbitmq.js';
import { CancelPublisher } from '../../../service/src/tasks/queues/redis.js';
import { guard } from '../../../service/src/tasks/mcp-tasks.js';
import { QueueUnavailableError } from '../../../service/src/tasks/task-queue.js';
import { consumerStartFailure } from './support.js';

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

/** The error a consumer's start (what `npm start` and the worker do first) fails with, for AMQP_URL `url`. */
async function startFailure(url: string): Promise<Error> {
  // The cancel channel is never used here; its client connects lazily and is closed with the queue.
  return consumerStartFailure(
    new RabbitTaskQueue(url, 'umcp-unavailable-test', new CancelPublisher('redis://127.0.0.1:1', 'unused'), () => undefined, 1_500),
    url,
  );
}

describe('RabbitMQ task queue: an unusable broker is named with its cause', function () {
  this.timeout(30_000);

  it('nothing listening: cannot reach, with the address and the socket error', async () => {
    const port = await freePort();
    const err = await startFailure(`amqp://guest:guest@127.0.0.1:${port}`);
    assert.ok(err instanceof QueueUnavailableError, err.message);
    assert.match(err.message, new RegExp(`^cannot reach RabbitMQ at amqp://127\\.0\\.0\\.1:${port} \\(AMQP_URL\\): connect ECONNREFUSED`));
  });

  describe('the machine broker (127.0.0.1:5672)', () => {
    before(async function () {
      if (!(await portOpen(5672))) {
        console.log('      skipped: no RabbitMQ broker on 127.0.0.1:5672');
        this.skip();
      }
    });

    it('a wrong password: the login was refused, the password never shown', async () => {
      const err = await startFailure('amqp://guest:not-the-password@127.0.0.1:5672');
      assert.match(
        err.message,
        /^RabbitMQ at amqp:\/\/127\.0\.0\.1:5672 \(AMQP_URL\) refused the login: check the user and password in AMQP_URL \(ACCESS_REFUSED/,
      );
      assert.doesNotMatch(err.message, /not-the-password/);
    });

    it('an unknown vhost: named as such', async () => {
      const err = await startFailure('amqp://guest:guest@127.0.0.1:5672/no-such-vhost-here');
      assert.match(
        err.message,
        /RabbitMQ at amqp:\/\/127\.0\.0\.1:5672\/no-such-vhost-here \(AMQP_URL\) refused the virtual host: .*vhost no-such-vhost-here not found/,
      );
    });
  });

  it('a tasks/* request that meets it reports the queue as unavailable, not as a gateway error', async () => {
    try {
      await guard(async () => {
        throw new QueueUnavailableError('cannot reach RabbitMQ at amqp://127.0.0.1:5672 (AMQP_URL): connect ECONNREFUSED');
      });
      assert.fail('guard did not throw');
    } catch (e) {
      assert.deepEqual((e as { data?: unknown }).data, { cause: 'task store or queue unavailable' });
    }
  });
});
