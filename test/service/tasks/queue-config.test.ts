/** The queue backends' configuration and pure helpers (issue 19): config checks, backoff, delay steps, durations. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from '../../../service/src/config.js';
import { parseDuration } from '../../../service/src/tasks/duration.js';
import { DELAY_STEPS, delayStep } from '../../../service/src/tasks/queues/rabbitmq.js';
import { regionOfQueueUrl } from '../../../service/src/tasks/queues/sqs.js';
import { backoffDelay } from '../../../service/src/tasks/task-queue.js';

const MINIMAL = {
  DATABASE_URL: 'postgres://u@127.0.0.1:5432/db',
  REDIS_URL: 'redis://127.0.0.1:6379',
  REQUEST_STATE_KEYS: `k1:${randomBytes(32).toString('base64')}`,
};
const problems = (env: Record<string, string>): string => {
  try {
    loadConfig({ ...MINIMAL, ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  return '';
};

describe('task queue backend configuration', () => {
  it('defaults to bullmq and needs nothing more', () => {
    assert.equal(loadConfig(MINIMAL).TASK_QUEUE_BACKEND, 'bullmq');
  });
  it('rabbitmq needs AMQP_URL (an amqp(s) URL, never echoed)', () => {
    assert.match(problems({ TASK_QUEUE_BACKEND: 'rabbitmq' }), /AMQP_URL: required with TASK_QUEUE_BACKEND=rabbitmq/);
    const bad = problems({ TASK_QUEUE_BACKEND: 'rabbitmq', AMQP_URL: 'http://guest:s3cret@host' });
    assert.match(bad, /AMQP_URL: expected an amqp:\/\/ or amqps:\/\/ URL \(got \(value hidden\)\)/);
    assert.ok(!bad.includes('s3cret'));
    assert.equal(
      loadConfig({ ...MINIMAL, TASK_QUEUE_BACKEND: 'rabbitmq', AMQP_URL: 'amqps://u:p@b.mq.example.com:5671' }).AMQP_URL,
      'amqps://u:p@b.mq.example.com:5671',
    );
  });
  it('sqs needs both queue URLs; an unknown backend is named', () => {
    const msg = problems({ TASK_QUEUE_BACKEND: 'sqs' });
    assert.match(msg, /SQS_QUEUE_URL: required with TASK_QUEUE_BACKEND=sqs/);
    assert.match(msg, /SQS_DLQ_URL: required with TASK_QUEUE_BACKEND=sqs/);
    assert.match(
      problems({ TASK_QUEUE_BACKEND: 'kafka' }),
      /TASK_QUEUE_BACKEND: expected one of "bullmq"\|"rabbitmq"\|"sqs"|TASK_QUEUE_BACKEND:.*bullmq.*rabbitmq.*sqs/,
    );
  });
});

describe('task queue helpers', () => {
  it('backoff doubles per attempt with up to 50 % jitter', () => {
    const policy = { backoffMs: 1_000 };
    assert.equal(
      backoffDelay(policy, 1, () => 0),
      1_000,
    );
    assert.equal(
      backoffDelay(policy, 3, () => 0),
      4_000,
    );
    assert.equal(
      backoffDelay(policy, 3, () => 1),
      2_000,
    );
  });
  it('a RabbitMQ delay goes to one of its two neighbouring steps, unbiased on average', () => {
    assert.equal(delayStep(10), 128);
    assert.equal(delayStep(1e12), DELAY_STEPS.at(-1));
    assert.equal(
      delayStep(1_000, () => 0.99),
      768,
    );
    assert.equal(
      delayStep(1_000, () => 0),
      1_024,
    );
    let sum = 0;
    let seed = 1;
    const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let i = 0; i < 20_000; i++) sum += delayStep(900, rand);
    assert.ok(Math.abs(sum / 20_000 - 900) < 10, `mean ${sum / 20_000}`);
  });
  it('parses admin durations and refuses others', () => {
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('0s'), 0);
    assert.equal(parseDuration('250'), 250);
    for (const bad of ['soon', '-1s', '5w', '']) assert.equal(parseDuration(bad), undefined, bad);
  });
  it('reads the region of an AWS queue URL', () => {
    assert.equal(regionOfQueueUrl('https://sqs.eu-west-1.amazonaws.com/123456789012/q'), 'eu-west-1');
    assert.equal(regionOfQueueUrl('http://sqs.us-east-1.localhost:4566/000000000000/q'), undefined);
  });
});
