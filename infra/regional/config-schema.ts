/**
 * Zod schema of a regional stack's plain (non-secret) config. Defaults depend on `environment`: prod gets
 * a NAT gateway per AZ, deletion protection, spot workers with several instance types and bigger minimums;
 * everything else is small. Secrets are not part of this schema (see infra/config.ts).
 */
import { z } from 'zod';
import { isIpOrCidr } from '../global/config.js';
import { MAX_INBOUND_RULES } from '../global/origin-access.js';
import { cidrsOverlap } from './network/cidr.js';
import { DEFAULT_RUNBOOK_BASE_URL } from './app/alerts.js';

const cpu = z.string().regex(/^\d+(\.\d+)?m?$/, 'a Kubernetes CPU quantity such as "500m"');
const bytes = z.string().regex(/^\d+(Ki|Mi|Gi|Ti)?$/, 'a Kubernetes quantity such as "512Mi"');
const awsRegion = z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'an AWS region such as "us-east-1"');
/** An IPv4 CIDR that is not the whole internet (`/0`). */
const ipv4Cidr = z
  .string()
  .regex(/^(\d{1,3}\.){3}\d{1,3}\/(\d|[12]\d|3[0-2])$/, 'an IPv4 CIDR such as "203.0.113.0/24"')
  .refine((c) => !c.endsWith('/0'), 'not the whole internet: list the networks that need the API (docs/infra.md, "Reaching the cluster API")');

/** Pod resource requests; limits equal requests for memory and ephemeral storage. */
const resourcesSchema = z
  .object({
    /** @defaultValue "500m" */ cpu: cpu.default('500m'),
    /** @defaultValue "512Mi" */ memory: bytes.default('512Mi'),
    /** @defaultValue "10Gi" */ ephemeralStorage: bytes.default('10Gi'),
  })
  .strict();

const tierSchema = z
  .object({
    /** Image reference, e.g. `<account>.dkr.ecr.<region>.amazonaws.com/umcp-gateway:1.2.3`. */
    image: z.string().min(1),
    resources: resourcesSchema.default({ cpu: '500m', memory: '512Mi', ephemeralStorage: '10Gi' }),
    minReplicas: z.number().int().min(1).optional(),
    maxReplicas: z.number().int().min(1).optional(),
  })
  .strict();

const nodeGroupSchema = z
  .object({
    instanceTypes: z.array(z.string().min(1)).min(1),
    capacityType: z.enum(['ON_DEMAND', 'SPOT']).optional(),
    minSize: z.number().int().min(0),
    maxSize: z.number().int().min(1),
    desiredSize: z.number().int().min(0).optional(),
  })
  .strict();

const receiverKind = z.enum(['sns', 'webhook']);
const duration = z.string().regex(/^\d+[smh]$/, 'a duration such as "1h"');

/** Alerting: thresholds of the PrometheusRule, runbook links, receivers (infra/regional/app/alert-routing.ts). */
const alertingSchema = z
  .object({
    /**
     * Base URL of docs/operations.md as your team opens it (the repository's file view or a docs site); each
     * alert's `runbook_url` is `<base>#<alert anchor>`. @defaultValue a placeholder repository URL
     */
    runbookBaseUrl: z
      .url({ protocol: /^https?$/ })
      .refine((u) => !u.includes('#'), 'no #fragment: the alert adds it')
      .default(DEFAULT_RUNBOOK_BASE_URL),
    /**
     * SNS receiver: `{}` creates a KMS-encrypted topic `<prefix>-<env>-<region>-alerts` (optionally with
     * email/HTTPS subscriptions); `topicArn` publishes to an existing topic instead. @defaultValue none
     */
    sns: z
      .object({
        /** Existing topic in the stack's region. @defaultValue none: the stack creates one */
        topicArn: z
          .string()
          .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, 'an SNS topic ARN')
          .optional(),
        /** Customer-managed KMS key of that existing topic. @defaultValue none */
        kmsKeyArn: z
          .string()
          .regex(/^arn:aws[a-z-]*:kms:/, 'a KMS key ARN')
          .optional(),
        /** Email subscriptions of the created topic (each recipient confirms once). @defaultValue [] */
        emails: z.array(z.email()).default([]),
        /** HTTPS subscriptions of the created topic (paging services that confirm SNS subscriptions). @defaultValue [] */
        httpsEndpoints: z.array(z.url({ protocol: /^https$/ })).default([]),
      })
      .strict()
      .optional(),
    /** Webhook receiver; its URL is the secret `alertWebhookUrl` (Alertmanager webhook JSON). @defaultValue false */
    webhook: z.boolean().default(false),
    /** Receivers of `severity=page` alerts. @defaultValue every configured receiver */
    page: z.array(receiverKind).optional(),
    /** Receivers of `severity=ticket` alerts. @defaultValue every configured receiver */
    ticket: z.array(receiverKind).optional(),
    /** How often a firing page repeats. @defaultValue "1h" */
    pageRepeatInterval: duration.optional(),
    /** How often a firing ticket repeats. @defaultValue "12h" */
    ticketRepeatInterval: duration.optional(),
    /** Alert thresholds (docs/operations.md names the alert each one drives). */
    thresholds: z
      .object({
        /** UmcpHighErrorRate: share of 5xx over 5 m. @defaultValue 0.05 */ errorRate: z.number().gt(0).lt(1).optional(),
        /** UmcpHighLatency: p99 MCP latency until the response starts, s. @defaultValue 2 */ p99LatencySeconds: z.number().positive().optional(),
        /** UmcpQueueBacklogOld: oldest waiting job, s. @defaultValue 300 */ queueAgeSeconds: z.number().positive().optional(),
        /** UmcpDeadLetters: jobs in the DLQ above which it alerts. @defaultValue 0 */ dlqSize: z.number().int().min(0).optional(),
        /** UmcpPgPoolSaturated: queries waiting for a connection (5 m average). @defaultValue 0 */ poolWaiting: z.number().min(0).optional(),
        /** UmcpReplicationLag: replica lag, s. @defaultValue 30 */ replicationLagSeconds: z.number().positive().optional(),
        /** UmcpLimitCountersUnavailable: limit checks per second whose counters could not be read (5 m rate). @defaultValue 0 */
        limitCounterErrorsPerSecond: z.number().min(0).optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

export const regionalConfigSchema = z
  .object({
    role: z.literal('regional'),
    environment: z.enum(['dev', 'staging', 'prod']),
    /** AWS region of this stack. */
    region: awsRegion,
    /** The other region of the pair (S3 replication target, Aurora/ElastiCache global peer). Absent: single region. */
    peerRegion: awsRegion.optional(),
    /** Primary region of the Aurora global database and the ElastiCache global datastore. @defaultValue true */
    isPrimary: z.boolean().default(true),
    /**
     * A secondary reads the primary's outputs through this StackReference (`<org>/<project>/<stack>`).
     * @defaultValue `<organization>/<project>/<environment>-<peerRegion>`
     */
    peerStack: z
      .string()
      .regex(/^[^/\s]+\/[^/\s]+\/[^/\s]+$/, '"<org>/<project>/<stack>"')
      .optional(),
    /** Pool weight 0..1 for the edge load balancer's random steering (read by the global stack). @defaultValue 0.5 */
    steeringWeight: z.number().min(0).max(1).default(0.5),
    /** Team that owns the stack (`owner` tag). @defaultValue "platform" */
    owner: z.string().min(1).default('platform'),
    /** Cost allocation (`cost-center` tag). @defaultValue "unified-mcp" */
    costCenter: z.string().min(1).default('unified-mcp'),
    /** Short name used in resource names. @defaultValue "umcp" */
    prefix: z
      .string()
      .regex(/^[a-z][a-z0-9-]{1,15}$/, 'lowercase letters, digits and dashes, 2-16 characters')
      .default('umcp'),
    network: z
      .object({
        /** VPC CIDR, a /16. */
        cidr: z.string().regex(/^10\.\d{1,3}\.0\.0\/16$/, 'a private /16 such as "10.20.0.0/16"'),
        /** @defaultValue "per-az" in prod, "single" elsewhere */
        natGateways: z.enum(['per-az', 'single']).optional(),
        /** @defaultValue 3 */
        azCount: z.literal(3).default(3),
        /** Flow log retention in days. @defaultValue 30 */
        flowLogRetentionDays: z.number().int().positive().default(30),
        /**
         * VPC CIDR of the peer region (its stack file's `network.cidr`); required with `peerRegion`. Writes go to
         * the Aurora global writer endpoint, which may sit in either region after a switchover, so the database
         * security groups and the pods' egress policy admit it, and the VPC peering routes it.
         */
        peerCidr: z
          .string()
          .regex(/^10\.\d{1,3}\.0\.0\/16$/, 'a private /16 such as "10.30.0.0/16"')
          .optional(),
      })
      .strict(),
    cluster: z
      .object({
        /** `eks` creates a cluster; `existing` deploys onto the cluster of the `kubeconfig` secret. @defaultValue "eks" */
        mode: z.enum(['eks', 'existing']).default('eks'),
        /** @defaultValue "1.33" */
        version: z
          .string()
          .regex(/^1\.\d+$/)
          .default('1.33'),
        /**
         * The API endpoint is private (reachable from inside the VPC) unless CIDRs are listed here: then it is
         * public for exactly these networks (e.g. the CI runners' egress), never for the whole internet.
         * @defaultValue [] (private only)
         */
        publicAccessCidrs: z.array(ipv4Cidr).default([]),
        /**
         * Networks allowed to the private endpoint on 443 besides the cluster itself: a runner subnet in this
         * VPC, a peered VPC or a VPN range, from where `pulumi up` reaches the API. @defaultValue []
         */
        privateAccessCidrs: z.array(ipv4Cidr).default([]),
        /**
         * The network of the existing cluster (`mode: existing`, required there). The data stores admit
         * `sourceCidrs`; with `vpcId` (same account and region) the stack peers that VPC with its own and adds
         * routes both ways (`routeTableIds`: the route tables of the cluster's subnets). Without `vpcId` you
         * provide the path (Transit Gateway, VPN). docs/infra.md, "Existing cluster". @defaultValue none
         */
        existing: z
          .object({
            /** The cluster's VPC, same account and region. @defaultValue none: connectivity is yours */
            vpcId: z
              .string()
              .regex(/^vpc-[0-9a-f]{8,17}$/, 'a VPC id such as "vpc-0a1b2c3d4e5f60789"')
              .optional(),
            /** Addresses the cluster's pods and nodes send from (VPC CNI: the VPC CIDRs; overlay CNIs: the node subnets). */
            sourceCidrs: z.array(ipv4Cidr).min(1),
            /** Route tables of the cluster's subnets; required with `vpcId`. @defaultValue [] */
            routeTableIds: z.array(z.string().regex(/^rtb-[0-9a-f]{8,17}$/, 'a route table id such as "rtb-0a1b2c3d4e5f60789"')).default([]),
          })
          .strict()
          .optional(),
        /** IAM role ARNs granted cluster-admin through EKS access entries. @defaultValue [] */
        adminRoleArns: z.array(z.string().startsWith('arn:')).default([]),
        nodeGroups: z
          .object({
            system: nodeGroupSchema.optional(),
            gateway: nodeGroupSchema.optional(),
            workers: nodeGroupSchema.optional(),
          })
          .strict()
          .default({}),
      })
      .strict()
      .default({ mode: 'eks', version: '1.33', publicAccessCidrs: [], privateAccessCidrs: [], adminRoleArns: [], nodeGroups: {} }),
    database: z
      .object({
        /** One Aurora global cluster per shard id. @defaultValue ["0"] */
        shards: z
          .array(z.string().regex(/^[a-z0-9]{1,8}$/))
          .min(1)
          .default(['0']),
        /** @defaultValue "db.r6g.large" in prod, "db.t4g.medium" elsewhere */
        instanceClass: z.string().optional(),
        /** Reader instances per shard. @defaultValue 2 in prod, 1 elsewhere */
        readers: z.number().int().min(1).optional(),
        /** @defaultValue "16.6" */
        engineVersion: z.string().default('16.6'),
        /** @defaultValue 14 in prod, 3 elsewhere */
        backupRetentionDays: z.number().int().min(1).max(35).optional(),
        /** @defaultValue "app" */
        username: z
          .string()
          .regex(/^[a-z][a-z0-9_]{0,15}$/)
          .default('app'),
      })
      .strict()
      .default({ shards: ['0'], engineVersion: '16.6', username: 'app' }),
    cache: z
      .object({
        /** @defaultValue "cache.r7g.large" in prod, "cache.t4g.small" elsewhere */
        nodeType: z.string().optional(),
        /** Nodes per replication group (1 primary + replicas), at least 2 for failover. @defaultValue 3 in prod, 2 elsewhere */
        nodes: z.number().int().min(2).max(6).optional(),
        /**
         * Replicate the cache role across the pair through a global datastore (read-only in the secondary; the
         * service must then treat REDIS_CACHE_URL as read-only there). @defaultValue true when peerRegion is set
         */
        globalDatastore: z.boolean().optional(),
      })
      .strict()
      .default({}),
    storage: z
      .object({
        /** Bucket names are `<bucketPrefix>-<region>`; must be globally unique. */
        bucketPrefix: z.string().regex(/^[a-z0-9][a-z0-9-]{2,40}$/),
        /** Replicate objects to `<bucketPrefix>-<peerRegion>`. @defaultValue true when peerRegion is set */
        replicateToPeer: z.boolean().optional(),
        /** Days before noncurrent versions expire. @defaultValue 30 */
        noncurrentVersionDays: z.number().int().positive().default(30),
      })
      .strict(),
    app: z
      .object({
        /** @defaultValue "umcp" */
        namespace: z.string().default('umcp'),
        /** Public origin hostname of this region (TLS certificate must cover it). */
        hostname: z.string().regex(/^[a-z0-9.-]+\.[a-z]{2,}$/, 'a DNS name'),
        /** Further hostnames the gateway answers to (e.g. the global MCP hostname the edge forwards). @defaultValue [] */
        extraHostnames: z.array(z.string().regex(/^[a-z0-9.-]+\.[a-z]{2,}$/, 'a DNS name')).default([]),
        /** ACM certificate for the ALB listener; omit for a plain-HTTP listener (dev only). */
        certificateArn: z.string().startsWith('arn:').optional(),
        /** @defaultValue "alb" */
        ingressClassName: z.string().default('alb'),
        /**
         * Who may reach the internet-facing ALB (`ingressClassName: alb`): the edge only, so its WAF and rate
         * limits cannot be bypassed (docs/edge.md, "Origin access").
         */
        originAccess: z
          .object({
            /** Source CIDRs of the ALB's security group. @defaultValue Cloudflare's published ranges (infra/global/cloudflare-ip-ranges.json) */
            allowedCidrs: z
              .array(z.string().refine((c) => isIpOrCidr(c) && !/\/0$/.test(c), 'an IP range that is not the whole internet, such as "173.245.48.0/20"'))
              .min(1)
              .max(MAX_INBOUND_RULES, `at most ${MAX_INBOUND_RULES}: one security group rule each (default quota)`)
              .optional(),
            /** Require the secret header the edge adds (a listener-rule condition; without it: 404). @defaultValue true */
            requireEdgeHeader: z.boolean().default(true),
            /** Bump to rotate the header's secret; the previous one stays accepted until the next bump. @defaultValue 1 */
            secretVersion: z.number().int().min(1).default(1),
          })
          .strict()
          .default({ requireEdgeHeader: true, secretVersion: 1 }),
        gateway: tierSchema,
        worker: tierSchema,
        /** Scale non-prod down outside working hours. @defaultValue true outside prod */
        scheduledScaleDown: z
          .object({
            enabled: z.boolean().optional(),
            /** Cron (UTC). @defaultValue "0 20 * * 1-5" */ down: z.string().default('0 20 * * 1-5'),
            /** Cron (UTC). @defaultValue "0 7 * * 1-5" */ up: z.string().default('0 7 * * 1-5'),
            /** kubectl image of the CronJobs, fully qualified and pinned. @defaultValue registry.k8s.io/kubectl of `cluster.version` */
            image: z.string().optional(),
          })
          .strict()
          .default({ down: '0 20 * * 1-5', up: '0 7 * * 1-5' }),
      })
      .strict(),
    /**
     * The task queue (TASK_QUEUE_BACKEND, docs/tasks.md): BullMQ on the state Redis, Amazon SQS (queue + DLQ
     * created here, Pod Identity access; EKS only) or Amazon MQ for RabbitMQ (a private broker created here).
     */
    queue: z
      .object({
        /** @defaultValue "bullmq" */
        backend: z.enum(['bullmq', 'rabbitmq', 'sqs']).default('bullmq'),
        /** sqs: receives of one message before the redrive policy parks it in the DLQ. @defaultValue 10 */
        maxReceiveCount: z.number().int().min(2).max(1000).default(10),
        /** rabbitmq: broker instance type. @defaultValue "mq.m5.large" in prod, "mq.t3.micro" elsewhere */
        instanceType: z
          .string()
          .regex(/^mq\.[a-z0-9]+\.[a-z0-9]+$/, 'an Amazon MQ instance type such as "mq.m5.large"')
          .optional(),
        /** rabbitmq: `CLUSTER_MULTI_AZ` (three nodes) or `SINGLE_INSTANCE`. @defaultValue CLUSTER_MULTI_AZ in prod, SINGLE_INSTANCE elsewhere */
        deploymentMode: z.enum(['CLUSTER_MULTI_AZ', 'SINGLE_INSTANCE']).optional(),
        /** rabbitmq: Amazon MQ for RabbitMQ engine version. @defaultValue "3.13" */
        engineVersion: z
          .string()
          .regex(/^\d+\.\d+(\.\d+)?$/, 'a version such as "3.13"')
          .default('3.13'),
      })
      .strict()
      .default({ backend: 'bullmq', maxReceiveCount: 10, engineVersion: '3.13' }),
    /** Alert thresholds, runbook links and where alerts go (docs/operations.md). */
    alerting: alertingSchema.default({ runbookBaseUrl: DEFAULT_RUNBOOK_BASE_URL, webhook: false, thresholds: {} }),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.peerRegion === c.region) ctx.addIssue({ code: 'custom', path: ['peerRegion'], message: 'must differ from region' });
    if (!c.isPrimary && !c.peerRegion) ctx.addIssue({ code: 'custom', path: ['isPrimary'], message: 'a secondary region needs peerRegion (the primary)' });
    if (c.peerRegion && !c.network.peerCidr) {
      ctx.addIssue({ code: 'custom', path: ['network', 'peerCidr'], message: "required with peerRegion: the peer stack file's network.cidr" });
    }
    if (c.network.peerCidr && cidrsOverlap(c.network.peerCidr, c.network.cidr)) {
      ctx.addIssue({ code: 'custom', path: ['network', 'peerCidr'], message: 'must differ from network.cidr (VPC peering needs disjoint ranges)' });
    }
    const existing = c.cluster.existing;
    if (c.cluster.mode === 'existing' && !existing) {
      ctx.addIssue({
        code: 'custom',
        path: ['cluster', 'existing'],
        message: 'required with mode "existing": the cluster\'s sourceCidrs (and vpcId + routeTableIds to peer), so the data stores admit its pods',
      });
    }
    if (existing?.vpcId && existing.routeTableIds.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['cluster', 'existing', 'routeTableIds'],
        message: "required with vpcId: the route tables of the cluster's subnets get a route back to network.cidr",
      });
    }
    for (const [i, cidr] of (existing?.sourceCidrs ?? []).entries()) {
      if (cidrsOverlap(cidr, c.network.cidr))
        ctx.addIssue({
          code: 'custom',
          path: ['cluster', 'existing', 'sourceCidrs', i],
          message: `overlaps network.cidr ${c.network.cidr}: peered VPCs need disjoint ranges`,
        });
    }
    if (c.environment === 'prod' && c.cluster.mode === 'existing') {
      ctx.addIssue({ code: 'custom', path: ['cluster', 'mode'], message: 'prod runs on EKS; "existing" is for dev/staging' });
    }
    if (c.environment === 'prod' && !c.app.certificateArn) {
      ctx.addIssue({ code: 'custom', path: ['app', 'certificateArn'], message: 'required in prod (TLS on the ALB)' });
    }
    const receivers = [...(c.alerting.sns ? ['sns'] : []), ...(c.alerting.webhook ? ['webhook'] : [])];
    if (c.environment === 'prod' && receivers.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['alerting'],
        message: 'prod needs an alert receiver: set alerting.sns (a topic) and/or alerting.webhook: true (secret alertWebhookUrl)',
      });
    }
    for (const severity of ['page', 'ticket'] as const) {
      for (const r of c.alerting[severity] ?? []) {
        if (!receivers.includes(r))
          ctx.addIssue({
            code: 'custom',
            path: ['alerting', severity],
            message: `names "${r}", which is not configured (configured: ${receivers.join(', ') || 'none'})`,
          });
      }
    }
    if (c.environment === 'prod' && c.alerting.page?.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['alerting', 'page'],
        message: 'prod pages must reach a receiver (remove the key to page every configured receiver)',
      });
    }
    if (c.queue.backend === 'sqs' && c.cluster.mode !== 'eks') {
      ctx.addIssue({
        code: 'custom',
        path: ['queue', 'backend'],
        message: 'sqs needs cluster.mode "eks": the workloads reach SQS through EKS Pod Identity roles',
      });
    }
    if (c.queue.backend === 'rabbitmq' && c.environment === 'prod' && c.queue.deploymentMode === 'SINGLE_INSTANCE') {
      ctx.addIssue({
        code: 'custom',
        path: ['queue', 'deploymentMode'],
        message: 'prod runs a CLUSTER_MULTI_AZ broker (a single instance is one node to lose)',
      });
    }
    if (
      c.queue.backend === 'rabbitmq' &&
      c.queue.instanceType?.startsWith('mq.t3.') &&
      (c.queue.deploymentMode ?? (c.environment === 'prod' ? 'CLUSTER_MULTI_AZ' : 'SINGLE_INSTANCE')) === 'CLUSTER_MULTI_AZ'
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['queue', 'instanceType'],
        message: 'mq.t3 instances run single-instance brokers only; a cluster needs mq.m5 or larger',
      });
    }
    for (const [tier, t] of Object.entries({ gateway: c.app.gateway, worker: c.app.worker })) {
      if (t.minReplicas !== undefined && t.maxReplicas !== undefined && t.minReplicas > t.maxReplicas) {
        ctx.addIssue({ code: 'custom', path: ['app', tier, 'minReplicas'], message: 'must not exceed maxReplicas' });
      }
    }
  });

/** Regional settings after validation (defaults that depend on `environment` are resolved by the program). */
export type RegionalSettings = Omit<z.output<typeof regionalConfigSchema>, 'role'>;
