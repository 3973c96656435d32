import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { QUEUE } from '../../../contract/index.js';

/** Arguments of {@link SqsTaskQueue}. */
export interface SqsTaskQueueArgs {
  /** Queue names are `<namePrefix>-umcp-tasks` and `<namePrefix>-umcp-tasks-dlq`. */
  readonly namePrefix: string;
  /** The regional KMS key of data at rest (SSE of both queues). */
  readonly kmsKeyArn: pulumi.Input<string>;
  /** Receives of one message before the redrive policy moves it to the DLQ (workers crashing on it). @defaultValue 10 */
  readonly maxReceiveCount?: number;
  /** Visibility timeout of the queue, s (workers set their own per receive: TASK_LOCK_MS). @defaultValue 60 */
  readonly visibilityTimeoutSeconds?: number;
  /** Alarm when the oldest message is older than this, s. @defaultValue 300 */
  readonly maxAgeSeconds?: number;
  /** Alarm when the DLQ holds more messages than this. @defaultValue 0 */
  readonly maxDeadLetters?: number;
  /** SNS topic the alarms notify. @defaultValue none */
  readonly alarmTopicArn?: pulumi.Input<string>;
  /** @defaultValue {} */
  readonly tags?: Record<string, string>;
}

/**
 * The task queue on Amazon SQS (TASK_QUEUE_BACKEND=sqs, service/src/tasks/queues/sqs.ts): a standard
 * queue and its dead-letter queue, both with SSE under the regional KMS key; the redrive policy parks a
 * message received `maxReceiveCount` times, the DLQ only accepts redrives from this queue. CloudWatch
 * alarms on the age of the oldest message and on the DLQ depth (the same thresholds as the Prometheus
 * alerts UmcpQueueBacklogOld and UmcpDeadLetters).
 */
export class SqsTaskQueue extends pulumi.ComponentResource {
  readonly queueUrl: pulumi.Output<string>;
  readonly queueArn: pulumi.Output<string>;
  readonly dlqUrl: pulumi.Output<string>;
  readonly dlqArn: pulumi.Output<string>;

  constructor(name: string, args: SqsTaskQueueArgs, opts?: pulumi.ComponentResourceOptions) {
    super('unified-mcp:regional:SqsTaskQueue', name, {}, opts);
    const parent = { parent: this };
    const tags = args.tags ?? {};
    const sse = { kmsMasterKeyId: args.kmsKeyArn, kmsDataKeyReusePeriodSeconds: 300 };
    const dlq = new aws.sqs.Queue(
      `${name}-dlq`,
      { name: `${args.namePrefix}-${QUEUE.deadLetterName}`, ...sse, messageRetentionSeconds: 14 * 86_400, tags },
      parent,
    );
    const queue = new aws.sqs.Queue(
      `${name}-queue`,
      {
        name: `${args.namePrefix}-${QUEUE.name}`,
        ...sse,
        visibilityTimeoutSeconds: args.visibilityTimeoutSeconds ?? 60,
        receiveWaitTimeSeconds: 20,
        messageRetentionSeconds: 4 * 86_400,
        redrivePolicy: pulumi.jsonStringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: args.maxReceiveCount ?? 10 }),
        tags,
      },
      parent,
    );
    new aws.sqs.RedriveAllowPolicy(
      `${name}-dlq-allow`,
      { queueUrl: dlq.url, redriveAllowPolicy: pulumi.jsonStringify({ redrivePermission: 'byQueue', sourceQueueArns: [queue.arn] }) },
      parent,
    );
    const actions = args.alarmTopicArn ? [args.alarmTopicArn] : [];
    /** A CloudWatch alarm on one SQS metric of one queue: its maximum per minute above `threshold`. */
    const alarm = (
      suffix: string,
      a: { description: string; metricName: string; queueName: pulumi.Input<string>; evaluationPeriods: number; threshold: number },
    ) =>
      new aws.cloudwatch.MetricAlarm(
        `${name}-${suffix}`,
        {
          alarmDescription: a.description,
          namespace: 'AWS/SQS',
          metricName: a.metricName,
          dimensions: { QueueName: a.queueName },
          statistic: 'Maximum',
          period: 60,
          evaluationPeriods: a.evaluationPeriods,
          threshold: a.threshold,
          comparisonOperator: 'GreaterThanThreshold',
          treatMissingData: 'notBreaching',
          alarmActions: actions,
          okActions: actions,
          tags,
        },
        parent,
      );
    alarm('age', {
      description: 'The oldest waiting task job is too old (workers down or too few): docs/operations.md#umcpqueuebacklogold',
      metricName: 'ApproximateAgeOfOldestMessage',
      queueName: queue.name,
      evaluationPeriods: 5,
      threshold: args.maxAgeSeconds ?? 300,
    });
    alarm('dlq-depth', {
      description: 'Task jobs in the dead-letter queue; inspect and replay: docs/operations.md#umcpdeadletters',
      metricName: 'ApproximateNumberOfMessagesVisible',
      queueName: dlq.name,
      evaluationPeriods: 1,
      threshold: args.maxDeadLetters ?? 0,
    });
    this.queueUrl = queue.url;
    this.queueArn = queue.arn;
    this.dlqUrl = dlq.url;
    this.dlqArn = dlq.arn;
    this.registerOutputs({ queueUrl: this.queueUrl, dlqUrl: this.dlqUrl });
  }

  /**
   * Least-privilege statements of one tier: workers receive, extend, delete and re-send (retries) on the
   * queue and send letters to the DLQ; gateways send (enqueue, replay, redrive) and administer the DLQ
   * (list, replay, purge); both read the queue attributes (metrics) and use the key for SSE.
   */
  statements(
    tier: 'gateway' | 'worker' | 'scaler',
    kmsKeyArn: pulumi.Input<string>,
  ): { Action: string[]; Resource: pulumi.Input<string> | pulumi.Input<string>[] }[] {
    if (tier === 'scaler') return [{ Action: ['sqs:GetQueueAttributes'], Resource: this.queueArn }];
    const kms = { Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: kmsKeyArn };
    const attrs = { Action: ['sqs:GetQueueAttributes'], Resource: [this.queueArn, this.dlqArn] };
    if (tier === 'worker') {
      return [
        { Action: ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:SendMessage'], Resource: this.queueArn },
        { Action: ['sqs:SendMessage'], Resource: this.dlqArn },
        attrs,
        kms,
      ];
    }
    return [
      { Action: ['sqs:SendMessage'], Resource: this.queueArn },
      { Action: ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage'], Resource: this.dlqArn },
      attrs,
      kms,
    ];
  }
}
