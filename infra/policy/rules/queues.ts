/** The task queue's broker resources (issue 19): SQS queues and Amazon MQ brokers. */
import type { ResourceRule } from '../types.js';
import { environmentOf, isProduction, message } from '../util.js';

const SQS_QUEUE = 'aws:sqs/queue:Queue';
const MQ_BROKER = 'aws:mq/broker:Broker';

/** An SQS queue is a dead-letter queue when its name ends with `-dlq` (the naming of infra/regional/queue). */
const isDeadLetterQueue = (props: Record<string, any>) => typeof props['name'] === 'string' && /-dlq(\.fifo)?$/.test(props['name']);

/** SQS queues: SSE with a customer-managed KMS key; every queue but a DLQ redrives to a DLQ. */
export const sqsQueueControls: ResourceRule = {
  kind: 'resource',
  name: 'sqs-queue-controls',
  description: 'SQS queues are encrypted with a KMS key (not only SQS-managed SSE), and every queue except a "-dlq" queue has a redrive policy to a DLQ.',
  level: 'mandatory',
  check(r) {
    if (r.type !== SQS_QUEUE) return [];
    const p = r.props;
    const problems: string[] = [];
    if (typeof p['kmsMasterKeyId'] !== 'string' || p['kmsMasterKeyId'] === '')
      problems.push(message(r, 'kmsMasterKeyId', 'a KMS key (SSE-KMS)', p['kmsMasterKeyId']));
    if (!isDeadLetterQueue(p) && !p['redrivePolicy']) problems.push(message(r, 'redrivePolicy', 'a redrive policy to a dead-letter queue', p['redrivePolicy']));
    return problems;
  },
};

/** Amazon MQ brokers: never public, general logs on, and in production a multi-AZ deployment. */
export const mqBrokerControls: ResourceRule = {
  kind: 'resource',
  name: 'mq-broker-controls',
  description:
    'Amazon MQ brokers are not publicly accessible, log to CloudWatch, and in prod run multi-AZ (RabbitMQ CLUSTER_MULTI_AZ, ActiveMQ ACTIVE_STANDBY_MULTI_AZ).',
  level: 'mandatory',
  check(r, ctx) {
    if (r.type !== MQ_BROKER) return [];
    const p = r.props;
    const problems: string[] = [];
    if (p['publiclyAccessible'] !== false) problems.push(message(r, 'publiclyAccessible', 'false', p['publiclyAccessible']));
    if (p['logs']?.['general'] !== true) problems.push(message(r, 'logs.general', 'true', p['logs']?.['general']));
    const env = environmentOf(r, ctx);
    if (isProduction(env)) {
      const expected = p['engineType'] === 'RabbitMQ' ? 'CLUSTER_MULTI_AZ' : 'ACTIVE_STANDBY_MULTI_AZ';
      if (p['deploymentMode'] !== expected) problems.push(message(r, `deploymentMode (env ${env})`, expected, p['deploymentMode']));
    }
    return problems;
  },
};
