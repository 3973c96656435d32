/** Policy rules of the task queue's broker resources (issue 19), and the stacks' queues passing them under mocks. */
import assert from 'node:assert/strict';
import { mqBrokerControls, sqsQueueControls } from '../../../infra/policy/rules/index.js';
import type { PolicyTarget } from '../../../infra/policy/types.js';
import { runStackUnderMocks } from '../../../infra/tools/mock-run.js';
import { runStack } from '../support/stacks.js';

const res = (type: string, name: string, props: Record<string, any>): PolicyTarget => ({ type, name, props });
const Q = 'aws:sqs/queue:Queue';
const B = 'aws:mq/broker:Broker';
const KEY = 'arn:aws:kms:us-east-1:123456789012:key/abc';

describe('queue policy rules', () => {
  describe('sqs-queue-controls', () => {
    it('accepts a KMS-encrypted queue with a redrive policy and a KMS-encrypted DLQ', () => {
      assert.deepEqual(sqsQueueControls.check(res(Q, 'q', { name: 'p-umcp-tasks', kmsMasterKeyId: KEY, redrivePolicy: '{"maxReceiveCount":10}' }), {}), []);
      assert.deepEqual(sqsQueueControls.check(res(Q, 'dlq', { name: 'p-umcp-tasks-dlq', kmsMasterKeyId: KEY }), {}), []);
    });
    it('names a queue without a KMS key or without a redrive policy', () => {
      const found = sqsQueueControls.check(res(Q, 'q', { name: 'p-umcp-tasks', sqsManagedSseEnabled: true }), {});
      assert.equal(found.length, 2);
      assert.match(found[0]!, /aws:sqs\/queue:Queue "q".*kmsMasterKeyId.*expected a KMS key/);
      assert.match(found[1]!, /redrivePolicy.*expected a redrive policy/);
    });
  });

  describe('mq-broker-controls', () => {
    const good = { engineType: 'RabbitMQ', publiclyAccessible: false, logs: { general: true }, deploymentMode: 'CLUSTER_MULTI_AZ' };
    it('accepts a private logged cluster in prod and a single instance elsewhere', () => {
      assert.deepEqual(mqBrokerControls.check(res(B, 'b', good), { environment: 'prod' }), []);
      assert.deepEqual(mqBrokerControls.check(res(B, 'b', { ...good, deploymentMode: 'SINGLE_INSTANCE' }), { environment: 'dev' }), []);
    });
    it('rejects a public broker, one without logs, and a single instance in prod', () => {
      const found = mqBrokerControls.check(res(B, 'b', { ...good, publiclyAccessible: true, logs: {}, deploymentMode: 'SINGLE_INSTANCE' }), {
        environment: 'prod',
      });
      assert.equal(found.length, 3);
      assert.match(found.join('\n'), /publiclyAccessible.*expected false/);
      assert.match(found.join('\n'), /deploymentMode \(env prod\).*expected CLUSTER_MULTI_AZ/);
    });
  });

  describe('the stacks with each queue backend pass them', function () {
    this.timeout(120_000);
    for (const backend of ['sqs', 'rabbitmq']) {
      it(`prod-us-east-1 with queue.backend ${backend}`, async () => {
        await runStack('prod-us-east-1'); // keep runs serialised behind the shared fixtures
        const r = await runStackUnderMocks('prod-us-east-1', { config: { 'unified-mcp:queue': { backend } } });
        const targets = r.resources.filter((x) => x.type === Q || x.type === B);
        assert.ok(targets.length >= 1);
        for (const t of targets) {
          const target = res(t.type, t.name, t.inputs);
          assert.deepEqual([...sqsQueueControls.check(target, { environment: 'prod' }), ...mqBrokerControls.check(target, { environment: 'prod' })], []);
        }
      });
    }
  });
});
