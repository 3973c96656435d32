/**
 * `queue.backend` of a regional stack (issue 19): SQS (queue + DLQ with KMS SSE, redrive, alarms,
 * least-privilege Pod Identity roles, KEDA aws-sqs-queue with pod identity) and Amazon MQ for RabbitMQ
 * (private broker, a cluster in prod, credentials only as secrets, KEDA rabbitmq), BullMQ unchanged.
 */
import assert from 'node:assert/strict';
import { runStackUnderMocks, type MockRunResult } from '../../../infra/tools/mock-run.js';
import { failure, ofType, one, runStack } from '../support/stacks.js';

const withQueue = async (stack: string, queue: Record<string, unknown>): Promise<MockRunResult> => {
  await runStack(stack); // keep runs serialised behind the shared fixtures
  return runStackUnderMocks(stack, { config: { 'unified-mcp:queue': queue } });
};
const scaledObject = (r: MockRunResult) => one(r, 'kubernetes:keda.sh/v1alpha1:ScaledObject');
const triggerAuth = (r: MockRunResult) => one(r, 'kubernetes:keda.sh/v1alpha1:TriggerAuthentication');
const roleStatements = (r: MockRunResult, suffix: string) =>
  JSON.parse(one(r, 'aws:iam/role:Role', suffix).inputs.inlinePolicies[0].policy).Statement as { Action: string | string[]; Resource: unknown }[];
const actions = (statements: { Action: string | string[] }[]) => statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
const configMapData = (r: MockRunResult) => Object.assign({}, ...ofType(r, 'kubernetes:core/v1:ConfigMap').map((c) => c.inputs.data ?? {}));

describe('regional task queue backends (queue.backend)', function () {
  this.timeout(120_000);

  it('bullmq (the default): no broker resources, KEDA on the Redis wait list, TASK_QUEUE_BACKEND=bullmq', async () => {
    const r = await runStack('prod-us-east-1');
    assert.equal(ofType(r, 'aws:sqs/queue:Queue').length, 0);
    assert.equal(ofType(r, 'aws:mq/broker:Broker').length, 0);
    assert.equal(scaledObject(r).inputs.spec.triggers[0].type, 'redis');
    assert.equal(configMapData(r)['TASK_QUEUE_BACKEND'], 'bullmq');
  });

  describe('sqs', () => {
    let r: MockRunResult;
    before(async () => {
      r = await withQueue('prod-us-east-1', { backend: 'sqs', maxReceiveCount: 7 });
    });

    it('creates the task queue and its DLQ, both encrypted with the regional KMS key, with a redrive policy', () => {
      const queues = ofType(r, 'aws:sqs/queue:Queue');
      assert.equal(queues.length, 2);
      const main = queues.find((q) => q.inputs.name.endsWith('-umcp-tasks'))!;
      const dlq = queues.find((q) => q.inputs.name.endsWith('-umcp-tasks-dlq'))!;
      for (const q of [main, dlq]) assert.match(String(q.inputs.kmsMasterKeyId), /^arn:aws:kms:/, `${q.name} SSE-KMS`);
      const redrive = JSON.parse(main.inputs.redrivePolicy);
      assert.equal(redrive.maxReceiveCount, 7);
      assert.ok(redrive.deadLetterTargetArn, 'names the DLQ');
      const allow = JSON.parse(one(r, 'aws:sqs/redriveAllowPolicy:RedriveAllowPolicy').inputs.redriveAllowPolicy);
      assert.equal(allow.redrivePermission, 'byQueue');
    });

    it('alarms on the age of the oldest message and on DLQ depth, to the alert topic', () => {
      const alarms = ofType(r, 'aws:cloudwatch/metricAlarm:MetricAlarm').filter((a) => a.inputs.namespace === 'AWS/SQS');
      assert.deepEqual(alarms.map((a) => a.inputs.metricName).sort(), ['ApproximateAgeOfOldestMessage', 'ApproximateNumberOfMessagesVisible']);
      for (const a of alarms) assert.ok(a.inputs.alarmActions.length >= 1, `${a.name} notifies`);
    });

    it('grants the worker and gateway roles only the queue actions each uses', () => {
      const worker = actions(roleStatements(r, '-worker'));
      const gateway = actions(roleStatements(r, '-gateway'));
      for (const a of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:SendMessage', 'sqs:GetQueueAttributes'])
        assert.ok(worker.includes(a), `worker ${a}`);
      for (const a of ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage']) assert.ok(gateway.includes(a), `gateway ${a}`);
      for (const a of [...worker, ...gateway])
        assert.ok(!/^sqs:\*|^\*$|sqs:(DeleteQueue|PurgeQueue|SetQueueAttributes|CreateQueue)/.test(a), `no broad or admin action: ${a}`);
      // The gateway receives only from the DLQ (list, replay, purge), never from the task queue.
      const gwReceive = roleStatements(r, '-gateway').filter((s) => actions([s]).includes('sqs:ReceiveMessage'));
      assert.equal(gwReceive.length, 1);
      assert.match(JSON.stringify(gwReceive[0]!.Resource), /tasks-dlq/);
      assert.deepEqual(actions(roleStatements(r, '-keda-sqs')), ['sqs:GetQueueAttributes']);
      assert.equal(one(r, 'aws:eks/podIdentityAssociation:PodIdentityAssociation', '-keda-sqs').inputs.serviceAccount, 'keda-operator');
    });

    it('scales workers with the aws-sqs-queue scaler through pod identity and passes the queue URLs', () => {
      const trigger = scaledObject(r).inputs.spec.triggers[0];
      assert.equal(trigger.type, 'aws-sqs-queue');
      assert.equal(trigger.metadata.queueLength, '10');
      assert.equal(trigger.metadata.awsRegion, 'us-east-1');
      assert.deepEqual(triggerAuth(r).inputs.spec, { podIdentity: { provider: 'aws' } });
      const data = configMapData(r);
      assert.equal(data['TASK_QUEUE_BACKEND'], 'sqs');
      // SQS_QUEUE_URL / SQS_DLQ_URL and the trigger's queueURL are the queues' `url` outputs, unknown under mocks.
    });

    it('is refused on an existing cluster (no Pod Identity there)', async () => {
      assert.match(await failure('dev', { config: { 'unified-mcp:queue': { backend: 'sqs' } } }), /queue\.backend.*sqs needs cluster\.mode "eks"/);
    });
  });

  describe('rabbitmq', () => {
    it('prod: a private CLUSTER_MULTI_AZ broker in the private subnets; the URL with credentials only in the Secret', async () => {
      const r = await withQueue('prod-us-east-1', { backend: 'rabbitmq' });
      const broker = one(r, 'aws:mq/broker:Broker');
      assert.equal(broker.inputs.engineType, 'RabbitMQ');
      assert.equal(broker.inputs.deploymentMode, 'CLUSTER_MULTI_AZ');
      assert.equal(broker.inputs.publiclyAccessible, false);
      const privateIds = ofType(r, 'aws:ec2/subnet:Subnet')
        .filter((s) => s.inputs.tags.tier === 'private')
        .map((s) => `subnet-${s.name}`);
      assert.deepEqual([...broker.inputs.subnetIds].sort(), [...privateIds].sort());
      assert.ok(
        broker.secretPaths?.some((p) => p.startsWith('users')),
        'broker users are secret',
      );
      const secret = ofType(r, 'kubernetes:core/v1:Secret').find((s) => s.inputs.stringData?.AMQP_URL);
      assert.ok(secret, 'AMQP_URL in the app Secret');
      assert.ok(
        secret.secretPaths?.some((p) => p === 'stringData' || p.includes('AMQP_URL')),
        'AMQP_URL is a secret value',
      );
      assert.match(secret.inputs.stringData.AMQP_URL, /^amqps:\/\/umcp:[A-Za-z0-9]+@/);
      assert.ok(!JSON.stringify(configMapData(r)).includes('amqps://'), 'no broker URL in the ConfigMap');
      const sg = ofType(r, 'aws:ec2/securityGroup:SecurityGroup').find((g) => /AMQPS/.test(g.inputs.description));
      assert.deepEqual(
        sg!.inputs.ingress.map((i: { fromPort: number }) => i.fromPort),
        [5671],
      );
      const trigger = scaledObject(r).inputs.spec.triggers[0];
      assert.equal(trigger.type, 'rabbitmq');
      assert.equal(trigger.metadata.queueName, 'bull.umcp-tasks');
      assert.equal(triggerAuth(r).inputs.spec.secretTargetRef[0].key, 'AMQP_URL');
    });

    it('dev: a single-instance broker; prod refuses a single instance', async () => {
      const r = await withQueue('dev', { backend: 'rabbitmq' });
      assert.equal(one(r, 'aws:mq/broker:Broker').inputs.deploymentMode, 'SINGLE_INSTANCE');
      assert.equal(one(r, 'aws:mq/broker:Broker').inputs.subnetIds.length, 1);
      assert.match(
        await failure('prod-us-east-1', { config: { 'unified-mcp:queue': { backend: 'rabbitmq', deploymentMode: 'SINGLE_INSTANCE' } } }),
        /queue\.deploymentMode.*CLUSTER_MULTI_AZ/,
      );
    });
  });
});
