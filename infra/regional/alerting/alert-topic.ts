import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

/** Arguments of {@link AlertTopic}. */
export interface AlertTopicArgs {
  /** Region of the topic (the stack's region); SigV4 signs for it and the KMS condition names it. */
  readonly region: string;
  /** Name of a created topic, e.g. `umcp-prod-us-east-1-alerts`. */
  readonly topicName: string;
  /** Publish to this existing topic instead of creating one. @defaultValue none: a topic is created */
  readonly existingTopicArn?: string;
  /**
   * Customer-managed KMS key of the existing topic (its publishers need kms:GenerateDataKey and kms:Decrypt
   * on it). Omit for an unencrypted topic or one under the AWS-managed `alias/aws/sns`. @defaultValue none
   */
  readonly existingKmsKeyArn?: string;
  /** Email subscriptions of a created topic (each recipient confirms once). @defaultValue [] */
  readonly emails?: readonly string[];
  /** HTTPS subscriptions of a created topic; the endpoint must confirm the subscription itself. @defaultValue [] */
  readonly httpsEndpoints?: readonly string[];
  /**
   * Also create a managed IAM policy with the publish permissions (for an Alertmanager outside EKS Pod
   * Identity: attach it to that Alertmanager's AWS identity). @defaultValue false
   */
  readonly managedPolicy?: boolean;
  /** @defaultValue {} */
  readonly tags?: Record<string, string>;
}

/** Rejects contradictory args; returns the message or undefined. */
export function checkAlertTopicArgs(args: AlertTopicArgs): string | undefined {
  const arn = /^arn:aws[a-z-]*:sns:([a-z0-9-]+):\d{12}:[A-Za-z0-9_-]{1,256}$/.exec(args.existingTopicArn ?? '');
  if (args.existingTopicArn !== undefined) {
    if (!arn) return `existingTopicArn "${args.existingTopicArn}" is not an SNS topic ARN`;
    if (arn[1] !== args.region) return `existingTopicArn is in ${arn[1]}, the stack in ${args.region}: publish to a topic of the stack's region`;
    if ((args.emails?.length ?? 0) + (args.httpsEndpoints?.length ?? 0) > 0) {
      return 'emails/httpsEndpoints subscribe a topic this stack creates; subscribe an existing topic where it is managed';
    }
  } else if (args.existingKmsKeyArn !== undefined) {
    return 'existingKmsKeyArn belongs to existingTopicArn; a created topic gets its own key';
  }
  if (!/^[A-Za-z0-9_-]{1,256}$/.test(args.topicName)) return `topicName "${args.topicName}" may only hold letters, digits, _ and - (1-256)`;
  for (const e of args.httpsEndpoints ?? []) if (!e.startsWith('https://')) return `httpsEndpoints: "${e}" is not an https:// URL`;
  return undefined;
}

/**
 * The SNS topic alerts are published to: created KMS-encrypted under its own customer-managed key (yearly
 * rotation) with optional email/HTTPS subscriptions, or an existing topic. {@link AlertTopic.publishPolicy}
 * is the least-privilege IAM policy of the publisher (the Alertmanager): sns:Publish on this topic only,
 * and kms:GenerateDataKey/kms:Decrypt on its key only, and only through SNS in this region.
 */
export class AlertTopic extends pulumi.ComponentResource {
  readonly topicArn: pulumi.Output<string>;
  /** The topic's customer-managed key; undefined for an existing topic without `existingKmsKeyArn`. */
  readonly kmsKeyArn?: pulumi.Output<string>;
  /** IAM policy document (JSON) allowing exactly what publishing needs. */
  readonly publishPolicy: pulumi.Output<string>;
  /** ARN of the managed publish policy (only with `managedPolicy`). */
  readonly publishPolicyArn?: pulumi.Output<string>;

  constructor(name: string, args: AlertTopicArgs, opts?: pulumi.ComponentResourceOptions) {
    super('unified-mcp:alerting:AlertTopic', name, {}, opts);
    const problem = checkAlertTopicArgs(args);
    if (problem) throw new pulumi.ResourceError(problem, this);
    const parent = { parent: this };
    const tags = args.tags ?? {};

    if (args.existingTopicArn !== undefined) {
      this.topicArn = pulumi.output(args.existingTopicArn);
      if (args.existingKmsKeyArn !== undefined) this.kmsKeyArn = pulumi.output(args.existingKmsKeyArn);
    } else {
      const key = new aws.kms.Key(
        `${name}-kms`,
        {
          description: `Server-side encryption of the alert topic ${args.topicName}`,
          keyUsage: 'ENCRYPT_DECRYPT',
          customerMasterKeySpec: 'SYMMETRIC_DEFAULT',
          enableKeyRotation: true,
          deletionWindowInDays: 30,
          tags,
        },
        parent,
      );
      new aws.kms.Alias(`${name}-kms`, { name: `alias/${args.topicName}`, targetKeyId: key.keyId }, parent);
      const topic = new aws.sns.Topic(`${name}-topic`, { name: args.topicName, kmsMasterKeyId: key.arn, tags }, parent);
      // Publishing only over TLS (SigV4 requests from the Alertmanager always are).
      new aws.sns.TopicPolicy(
        `${name}-topic`,
        {
          arn: topic.arn,
          policy: pulumi.jsonStringify({
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'DenyInsecureTransport',
                Effect: 'Deny',
                Principal: '*',
                Action: 'sns:Publish',
                Resource: topic.arn,
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              },
            ],
          }),
        },
        parent,
      );
      (args.emails ?? []).forEach(
        (email, i) =>
          new aws.sns.TopicSubscription(
            `${name}-email-${i}`,
            {
              topic: topic.arn,
              protocol: 'email',
              endpoint: email,
            },
            parent,
          ),
      );
      (args.httpsEndpoints ?? []).forEach(
        (url, i) =>
          new aws.sns.TopicSubscription(
            `${name}-https-${i}`,
            {
              // Paging services (PagerDuty, Opsgenie, ...) confirm SNS subscriptions themselves.
              topic: topic.arn,
              protocol: 'https',
              endpoint: url,
              endpointAutoConfirms: true,
              rawMessageDelivery: false,
            },
            parent,
          ),
      );
      this.topicArn = topic.arn;
      this.kmsKeyArn = key.arn;
    }

    this.publishPolicy = publishPolicyDocument(this.topicArn, this.kmsKeyArn, args.region);
    if (args.managedPolicy) {
      this.publishPolicyArn = new aws.iam.Policy(
        `${name}-publish`,
        {
          description: `Publish alerts to ${args.topicName} (attach to the Alertmanager's AWS identity)`,
          policy: this.publishPolicy,
          tags,
        },
        parent,
      ).arn;
    }
    this.registerOutputs({ topicArn: this.topicArn, publishPolicy: this.publishPolicy });
  }
}

/** The publisher's policy: sns:Publish on the topic; with a key, kms:GenerateDataKey + kms:Decrypt on it via SNS. */
export function publishPolicyDocument(topicArn: pulumi.Input<string>, kmsKeyArn: pulumi.Input<string> | undefined, region: string): pulumi.Output<string> {
  return pulumi.jsonStringify({
    Version: '2012-10-17',
    Statement: [
      { Sid: 'PublishAlerts', Effect: 'Allow', Action: 'sns:Publish', Resource: topicArn },
      ...(kmsKeyArn !== undefined
        ? [
            {
              Sid: 'EncryptAlertsViaSns',
              Effect: 'Allow',
              Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
              Resource: kmsKeyArn,
              Condition: { StringEquals: { 'kms:ViaService': `sns.${region}.amazonaws.com` } },
            },
          ]
        : []),
    ],
  });
}
