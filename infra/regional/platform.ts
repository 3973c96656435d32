import * as aws from '@pulumi/aws';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { HTTP, QUEUE } from '../../contract/index.js';
import type { RegionalConfig } from '../config.js';
import { App } from './app/index.js';
import { kubectlImage } from './app/autoscaling.js';
import { createOriginAccess } from './origin-access.js';
import { ExistingClusterPeering } from './network/existing-cluster.js';
import type { OriginAuth } from '../global/origin-access.js';
import { Cache } from './cache/index.js';
import { Cluster, ClusterAddons, defaultNodeGroups, podIdentityRole, policy, POOL_LABEL, SPOT_TAINT, type NodeGroupsSpec } from './cluster/index.js';
import { Database } from './database/index.js';
import { Network } from './network/index.js';
import { PeerStack, peerStackName, VpcPeering } from './peer/index.js';
import { SecretsKey, SHARED_SECRETS, SharedSecrets, type SharedSecretValues } from './secrets/index.js';
import { Storage } from './storage/index.js';
import { AlertTopic } from './alerting/index.js';
import { RabbitBroker, SqsTaskQueue } from './queue/index.js';

/** Environment-dependent defaults, resolved once. */
export function resolveDefaults(cfg: RegionalConfig) {
  const prod = cfg.environment === 'prod';
  const base = defaultNodeGroups(prod);
  const groups: NodeGroupsSpec = {
    system: cfg.cluster.nodeGroups.system ?? base.system,
    gateway: cfg.cluster.nodeGroups.gateway ?? base.gateway,
    workers: cfg.cluster.nodeGroups.workers ?? base.workers,
  };
  return {
    prod,
    natGateways: cfg.network.natGateways ?? (prod ? 'per-az' : 'single'),
    nodeGroups: groups,
    dbInstanceClass: cfg.database.instanceClass ?? (prod ? 'db.r6g.large' : 'db.t4g.medium'),
    dbReaders: cfg.database.readers ?? (prod ? 2 : 1),
    backupRetentionDays: cfg.database.backupRetentionDays ?? (prod ? 14 : 3),
    cacheNodeType: cfg.cache.nodeType ?? (prod ? 'cache.r7g.large' : 'cache.t4g.small'),
    cacheNodes: cfg.cache.nodes ?? (prod ? 3 : 2),
    cacheGlobalDatastore: cfg.peerRegion !== undefined && (cfg.cache.globalDatastore ?? true),
    scaleDown: cfg.app.scheduledScaleDown.enabled ?? !prod,
    replicateToPeer: cfg.storage.replicateToPeer ?? cfg.peerRegion !== undefined,
    brokerDeployment: cfg.queue.deploymentMode ?? (prod ? 'CLUSTER_MULTI_AZ' : 'SINGLE_INSTANCE'),
    brokerInstanceType: cfg.queue.instanceType ?? (prod ? 'mq.m5.large' : 'mq.t3.micro'),
  } as const;
}

/** postgres:// URL without credentials beyond the user (for the shard map). */
function pgUrlNoPassword(user: string, host: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.interpolate`postgres://${user}@${host}:5432/umcp?sslmode=require`;
}

/** postgres:// URL with the password URL-encoded; TLS required (RDS Proxy enforces it). */
function pgUrl(user: string, password: pulumi.Input<string>, host: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.secret(pulumi.interpolate`postgres://${user}:${pulumi.output(password).apply(encodeURIComponent)}@${host}:5432/umcp?sslmode=require`);
}

/**
 * Everything one environment-region runs: network, EKS (or an existing cluster from a kubeconfig), Aurora,
 * ElastiCache, S3, the KMS key of upstream credentials and the workloads. The AWS-specific parts stay in
 * here; App only sees a Kubernetes provider, images and connection strings (the multi-cloud seam,
 * docs/decisions.md).
 */
export class RegionalPlatform extends pulumi.ComponentResource {
  readonly network: Network;
  readonly cluster?: Cluster;
  readonly database: Database;
  readonly cache: Cache;
  readonly storage: Storage;
  readonly secretsKey: SecretsKey;
  /** The secrets every region of the environment shares (config, the primary's, or generated here). */
  readonly sharedSecrets: SharedSecrets;
  readonly app: App;
  /** The SNS receiver of the alerts (when `alerting.sns` is set). */
  readonly alertTopic?: AlertTopic;
  /** The task queue on SQS (`queue.backend: sqs`). */
  readonly sqsQueue?: SqsTaskQueue;
  /** The task queue broker on Amazon MQ for RabbitMQ (`queue.backend: rabbitmq`). */
  readonly rabbitBroker?: RabbitBroker;
  private readonly cfg: RegionalConfig;
  /** The header the edge must send (stack output `originAuth`, secret); only for an ALB ingress. */
  private readonly originAuth?: pulumi.Output<OriginAuth>;

  constructor(name: string, cfg: RegionalConfig, opts?: pulumi.ComponentResourceOptions) {
    super('unified-mcp:regional:RegionalPlatform', name, {}, opts);
    this.cfg = cfg;
    const d = resolveDefaults(cfg);
    // The policy pack requires env, region, owner and cost-center on every taggable AWS resource.
    const tags = { project: 'unified-mcp', env: cfg.environment, region: cfg.region, owner: cfg.owner, 'cost-center': cfg.costCenter, stack: cfg.stack };
    const provider = new aws.Provider(`${name}-aws-${cfg.region}`, { region: cfg.region as aws.Region, defaultTags: { tags } }, { parent: this });
    const inRegion = { parent: this, provider };
    const clusterName = `${name}-${cfg.region}`;

    const azs = aws.getAvailabilityZonesOutput({ state: 'available', filters: [{ name: 'opt-in-status', values: ['opt-in-not-required'] }] }, inRegion).names;
    this.network = new Network(
      `${name}-net`,
      {
        cidr: cfg.network.cidr,
        availabilityZones: azs,
        natGateways: d.natGateways,
        flowLogRetentionDays: cfg.network.flowLogRetentionDays,
        clusterName,
      },
      inRegion,
    );
    const privateSubnets = this.network.privateSubnetIds;
    const vpcCidr = [cfg.network.cidr];
    // Writes go to the Aurora global writer endpoint, which sits in either VPC depending on which region is
    // primary now: both VPCs may reach the databases (over the peering below), and nothing else.
    const dataCidrs = cfg.network.peerCidr ? [cfg.network.cidr, cfg.network.peerCidr] : vpcCidr;
    // An existing cluster's pods send from their own VPC: the data stores admit its source CIDRs, and with its
    // VPC id the two VPCs are peered (docs/infra.md, "Existing cluster"). The pods' egress policy needs no
    // change: its destinations (this VPC's data stores) are the same.
    const existing = cfg.cluster.mode === 'existing' ? cfg.cluster.existing : undefined;
    const clusterCidrs = existing?.sourceCidrs ?? [];
    if (existing?.vpcId) {
      new ExistingClusterPeering(
        `${name}-cluster-peering`,
        {
          vpcId: this.network.vpcId,
          cidr: cfg.network.cidr,
          routeTableIds: this.network.privateRouteTableIds,
          clusterVpcId: existing.vpcId,
          clusterCidrs,
          clusterRouteTableIds: existing.routeTableIds,
          tags,
        },
        inRegion,
      );
    }

    // A secondary deploys after its primary and reads what it needs from the primary's outputs through a
    // StackReference (global writer endpoints, cache datastore id, bucket, VPC): nothing is copied by hand.
    // It also creates what spans both regions (VPC peering, S3 replication both ways), through a provider
    // of the primary's region, because only the stack that runs second can see both sides.
    const secondary = !cfg.isPrimary && cfg.peerRegion !== undefined;
    const peer = secondary ? new PeerStack(`${name}-primary`, peerStackName(cfg), { parent: this }) : undefined;
    const peerProvider = secondary
      ? new aws.Provider(`${name}-aws-${cfg.peerRegion}`, { region: cfg.peerRegion as aws.Region, defaultTags: { tags } }, { parent: this })
      : undefined;
    // dbPassword, redisAuthToken, adminApiKey, requestStateKeys: config wins; else a secondary reads the
    // primary's (secret outputs) and a primary or single region generates them (secrets/shared-secrets.ts).
    this.sharedSecrets = new SharedSecrets(
      `${name}-shared`,
      {
        configured: cfg.secrets,
        stack: cfg.stack,
        ...(peer
          ? {
              primaryName: peer.name,
              fromPrimary: Object.fromEntries(SHARED_SECRETS.map((k) => [k, peer.require<string>(k)])) as SharedSecretValues,
            }
          : {}),
      },
      { parent: this },
    );
    const secrets = this.sharedSecrets.values;
    if (peer && peerProvider) {
      const peerCidr = cfg.network.peerCidr!;
      new VpcPeering(
        `${name}-peering`,
        {
          vpcId: this.network.vpcId,
          cidr: cfg.network.cidr,
          routeTableIds: this.network.privateRouteTableIds,
          peerRegion: cfg.peerRegion!,
          peerVpcId: peer.require<string>('vpcId'),
          peerCidr,
          peerRouteTableIds: pulumi.all([peer.require<string[]>('privateRouteTableIds'), peer.require<string>('vpcCidr')]).apply(([ids, exported]) => {
            if (exported !== peerCidr)
              throw new pulumi.ResourceError(`unified-mcp:network.peerCidr is ${peerCidr}, but ${peer.name} exports vpcCidr ${exported}`, this);
            return ids;
          }),
          peerRouteTableCount: cfg.network.azCount,
          peerProvider,
          tags,
        },
        inRegion,
      );
    }

    this.database = new Database(
      `${name}-db`,
      {
        shards: cfg.database.shards,
        role: cfg.isPrimary ? 'primary' : 'secondary',
        global: cfg.peerRegion !== undefined,
        globalClusterPrefix: name,
        region: cfg.region,
        engineVersion: cfg.database.engineVersion,
        instanceClass: d.dbInstanceClass,
        readers: d.dbReaders,
        backupRetentionDays: d.backupRetentionDays,
        deletionProtection: d.prod,
        username: cfg.database.username,
        ...(peer ? { globalWriterEndpoints: peer.require<Record<string, string>>('globalWriterEndpoints') } : {}),
        password: secrets.dbPassword,
        vpcId: this.network.vpcId,
        subnetIds: privateSubnets,
        allowedCidrs: [...dataCidrs, ...clusterCidrs],
        tags,
      },
      inRegion,
    );
    this.cache = new Cache(
      `${name}-redis`,
      {
        role: cfg.isPrimary ? 'primary' : 'secondary',
        globalDatastore: d.cacheGlobalDatastore,
        ...(peer && d.cacheGlobalDatastore ? { globalReplicationGroupId: peer.require<string>('cacheGlobalReplicationGroupId') } : {}),
        nodeType: d.cacheNodeType,
        nodes: d.cacheNodes,
        authToken: secrets.redisAuthToken,
        protect: d.prod,
        vpcId: this.network.vpcId,
        subnetIds: privateSubnets,
        allowedCidrs: [...vpcCidr, ...clusterCidrs],
        tags,
      },
      inRegion,
    );
    this.storage = new Storage(
      `${name}-objects`,
      {
        bucketPrefix: cfg.storage.bucketPrefix,
        region: cfg.region,
        replicateToPeer: d.replicateToPeer,
        role: cfg.isPrimary ? 'primary' : 'secondary',
        ...(cfg.peerRegion ? { peerRegion: cfg.peerRegion } : {}),
        ...(peer && peerProvider && d.replicateToPeer
          ? {
              peer: {
                bucketName: peer.require<string>('bucketName'),
                bucketArn: peer.require<string>('bucketArn'),
                kmsKeyArn: peer.require<string>('bucketKmsKeyArn'),
                provider: peerProvider,
              },
            }
          : {}),
        noncurrentVersionDays: cfg.storage.noncurrentVersionDays,
        protect: d.prod,
        tags,
      },
      inRegion,
    );
    // Upstream credentials: the KMS key wrapping the per-tenant data keys (SECRETS_KMS_KEY_ID below).
    this.secretsKey = new SecretsKey(`${name}-secrets`, { aliasName: `${name}-${cfg.region}-secrets`, protect: d.prod, tags }, inRegion);

    // Alert delivery: the SNS topic Alertmanager publishes to (created, or an existing one from config). On
    // EKS the Alertmanager gets a Pod Identity role with the publish policy; elsewhere a managed policy is
    // created for the operator to attach to that cluster's Alertmanager identity (docs/operations.md).
    const sns = cfg.alerting.sns;
    if (sns) {
      this.alertTopic = new AlertTopic(
        `${name}-alerts`,
        {
          region: cfg.region,
          topicName: `${name}-${cfg.region}-alerts`,
          ...(sns.topicArn ? { existingTopicArn: sns.topicArn } : {}),
          ...(sns.kmsKeyArn ? { existingKmsKeyArn: sns.kmsKeyArn } : {}),
          emails: sns.emails,
          httpsEndpoints: sns.httpsEndpoints,
          managedPolicy: cfg.cluster.mode !== 'eks',
          tags,
        },
        inRegion,
      );
    }

    // The task queue when it is not BullMQ on the state Redis (docs/tasks.md, "Queue backends").
    if (cfg.queue.backend === 'sqs') {
      this.sqsQueue = new SqsTaskQueue(
        `${name}-tasks`,
        {
          namePrefix: `${name}-${cfg.region}`,
          kmsKeyArn: this.storage.kmsKeyArn,
          maxReceiveCount: cfg.queue.maxReceiveCount,
          ...(cfg.alerting.thresholds.queueAgeSeconds !== undefined ? { maxAgeSeconds: cfg.alerting.thresholds.queueAgeSeconds } : {}),
          ...(cfg.alerting.thresholds.dlqSize !== undefined ? { maxDeadLetters: cfg.alerting.thresholds.dlqSize } : {}),
          ...(this.alertTopic ? { alarmTopicArn: this.alertTopic.topicArn } : {}),
          tags,
        },
        inRegion,
      );
    } else if (cfg.queue.backend === 'rabbitmq') {
      this.rabbitBroker = new RabbitBroker(
        `${name}-tasks`,
        {
          namePrefix: `${name}-${cfg.region}`,
          deploymentMode: d.brokerDeployment,
          instanceType: d.brokerInstanceType,
          engineVersion: cfg.queue.engineVersion,
          vpcId: this.network.vpcId,
          subnetIds: privateSubnets,
          allowedCidrs: [...dataCidrs, ...clusterCidrs],
          tags,
        },
        inRegion,
      );
    }

    // Kubernetes: EKS here, or any existing cluster from the kubeconfig secret (the seam).
    let k8sProvider: k8s.Provider;
    let appDependsOn: pulumi.Resource[] = [];
    const onEks = cfg.cluster.mode === 'eks';
    if (onEks) {
      const cluster = new Cluster(
        `${name}-eks`,
        {
          clusterName,
          version: cfg.cluster.version,
          region: cfg.region,
          vpcId: this.network.vpcId,
          privateSubnetIds: privateSubnets,
          publicAccessCidrs: cfg.cluster.publicAccessCidrs,
          privateAccessCidrs: cfg.cluster.privateAccessCidrs,
          adminRoleArns: cfg.cluster.adminRoleArns,
          nodeGroups: d.nodeGroups,
          tags,
        },
        inRegion,
      );
      this.cluster = cluster;
      k8sProvider = cluster.provider;
      const addons = new ClusterAddons(
        `${name}-addons`,
        {
          clusterName: cluster.name,
          region: cfg.region,
          vpcId: this.network.vpcId,
          k8sProvider,
          awsProvider: provider,
          ...(this.alertTopic ? { alertmanagerPolicy: this.alertTopic.publishPolicy } : {}),
        },
        { parent: this },
      );
      appDependsOn = addons.ready;
      // Workload IAM through Pod Identity: both tiers read/write the object store and wrap/unwrap the
      // tenant data keys of upstream credentials (kms:Encrypt/Decrypt on the secrets key only).
      const workloadStatements = [
        { Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'], Resource: pulumi.interpolate`${this.storage.bucketArn}/*` },
        { Action: 's3:ListBucket', Resource: this.storage.bucketArn },
        { Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: this.storage.kmsKeyArn },
        this.secretsKey.wrapUnwrapStatement(),
      ];
      const storageKey = this.storage.kmsKeyArn;
      for (const tier of ['gateway', 'worker'] as const) {
        // SQS: each tier only the queue actions it uses (service/src/tasks/queues/sqs.ts).
        const queueAccess = this.sqsQueue?.statements(tier, storageKey) ?? [];
        podIdentityRole(
          `${name}-${tier}`,
          { clusterName: cluster.name, namespace: cfg.app.namespace, serviceAccount: `umcp-${tier}`, policy: policy([...workloadStatements, ...queueAccess]) },
          inRegion,
        );
      }
      // KEDA reads the SQS queue length with its operator's own Pod Identity (TriggerAuthentication podIdentity aws).
      if (this.sqsQueue) {
        podIdentityRole(
          `${name}-keda-sqs`,
          { clusterName: cluster.name, namespace: 'keda', serviceAccount: 'keda-operator', policy: policy(this.sqsQueue.statements('scaler', storageKey)) },
          inRegion,
        );
      }
    } else {
      k8sProvider = new k8s.Provider(`${name}-existing`, { kubeconfig: cfg.secrets.kubeconfig!, enableServerSideApply: true }, { parent: this });
    }

    const password = secrets.redisAuthToken;
    const redisUrl = (host: pulumi.Input<string>) =>
      pulumi.secret(pulumi.interpolate`rediss://:${pulumi.output(password).apply(encodeURIComponent)}@${host}:6379`);
    const shard0 = this.database.shards[0]!;
    // Shard writers are global writer endpoints (any region, follow switchovers); the shard map's region is
    // the configured primary's.
    const writerRegion = cfg.isPrimary ? cfg.region : (cfg.peerRegion ?? cfg.region);
    const user = cfg.database.username;
    // Only the edge reaches an internet-facing ALB: Cloudflare's ranges + a secret header (docs/edge.md).
    const originAccess = cfg.app.ingressClassName === 'alb' ? createOriginAccess(name, cfg, this) : undefined;
    this.originAuth = originAccess?.auth;
    this.app = new App(
      `${name}-app`,
      {
        provider: k8sProvider,
        namespace: cfg.app.namespace,
        gateway: { ...cfg.app.gateway, ...(onEks ? { nodeSelector: { [POOL_LABEL]: 'gateway' } } : {}) },
        worker: { ...cfg.app.worker, ...(onEks ? { nodeSelector: { [POOL_LABEL]: 'workers' }, tolerations: [{ ...SPOT_TAINT, operator: 'Equal' }] } : {}) },
        env: {
          REGION: cfg.region,
          AWS_REGION: cfg.region,
          PORT: String(HTTP.containerPort),
          PUBLIC_URL: `https://${cfg.app.hostname}`,
          ALLOWED_HOSTS: [cfg.app.hostname, ...cfg.app.extraHostnames].join(','),
          // Names from docs/data-layer.md (service/src/store): object store and shard map.
          BLOB_BACKEND: 's3',
          BLOB_S3_BUCKET: this.storage.bucketName,
          BLOB_S3_REGION: cfg.region,
          DEFAULT_SHARD_ID: shard0.id,
          // Credential envelope encryption by KMS (service/src/gateway/crypto/kms-key-provider.ts); an ARN names its region.
          SECRETS_KMS_KEY_ID: this.secretsKey.keyArn,
          TASK_QUEUE_BACKEND: cfg.queue.backend,
          ...(this.sqsQueue ? { SQS_QUEUE_URL: this.sqsQueue.queueUrl, SQS_DLQ_URL: this.sqsQueue.dlqUrl } : {}),
          SHARDS: pulumi.jsonStringify(
            this.database.shards.slice(1).map((s) => ({
              id: s.id,
              region: writerRegion,
              writerUrl: pgUrlNoPassword(user, s.writer),
              readerUrls: [pgUrlNoPassword(user, s.reader)],
            })),
          ),
        },
        secretEnv: {
          DATABASE_URL: pgUrl(user, secrets.dbPassword, shard0.writer),
          DATABASE_READER_URLS: pgUrl(user, secrets.dbPassword, shard0.reader),
          // Shard URLs carry no password (the shard map stores them); libpq takes it from PGPASSWORD.
          PGPASSWORD: secrets.dbPassword,
          REDIS_URL: redisUrl(this.cache.state.host),
          REDIS_CACHE_URL: redisUrl(this.cache.cache.host),
          REDIS_PASSWORD: password,
          ADMIN_TOKEN: secrets.adminApiKey,
          REQUEST_STATE_KEYS: secrets.requestStateKeys,
          ...(this.rabbitBroker ? { AMQP_URL: this.rabbitBroker.amqpUrl } : {}),
        },
        queueRedisAddress: pulumi.interpolate`${this.cache.state.host}:6379`,
        ...(this.sqsQueue ? { queueTrigger: { backend: 'sqs' as const, queueUrl: this.sqsQueue.queueUrl, region: cfg.region } } : {}),
        // TASK_QUEUE_PREFIX stays the default (`bull`): the RabbitMQ task queue is `bull.umcp-tasks`.
        ...(this.rabbitBroker ? { queueTrigger: { backend: 'rabbitmq' as const, queueName: `${QUEUE.prefix}.${QUEUE.name}` } } : {}),
        ingress: {
          hostname: cfg.app.hostname,
          extraHostnames: cfg.app.extraHostnames,
          ingressClassName: cfg.app.ingressClassName,
          ...(cfg.app.certificateArn ? { certificateArn: cfg.app.certificateArn } : {}),
          ...(originAccess?.ingress ?? {}),
        },
        dataCidrs,
        ...(onEks ? { ingressSourceCidrs: vpcCidr } : {}),
        ...(d.scaleDown
          ? {
              scheduledScaleDown: {
                down: cfg.app.scheduledScaleDown.down,
                up: cfg.app.scheduledScaleDown.up,
                // kubectl of the cluster's minor version, from the Kubernetes project's registry, pinned.
                image: cfg.app.scheduledScaleDown.image ?? kubectlImage(cfg.cluster.version),
              },
            }
          : {}),
        alerts: cfg.alerting.thresholds,
        runbookBaseUrl: cfg.alerting.runbookBaseUrl,
        alertReceivers: {
          ...(this.alertTopic ? { sns: { topicArn: this.alertTopic.topicArn, region: cfg.region } } : {}),
          ...(cfg.secrets.alertWebhookUrl ? { webhookUrl: cfg.secrets.alertWebhookUrl } : {}),
          ...(cfg.alerting.page ? { page: cfg.alerting.page } : {}),
          ...(cfg.alerting.ticket ? { ticket: cfg.alerting.ticket } : {}),
          ...(cfg.alerting.pageRepeatInterval ? { pageRepeatInterval: cfg.alerting.pageRepeatInterval } : {}),
          ...(cfg.alerting.ticketRepeatInterval ? { ticketRepeatInterval: cfg.alerting.ticketRepeatInterval } : {}),
        },
      },
      { parent: this, dependsOn: appDependsOn },
    );

    this.registerOutputs({ vpcId: this.network.vpcId, ingressHostname: this.app.ingressHostname });
  }

  /** Stack outputs; the first seven names are a contract with the global stack (infra/global/region-pool.ts). */
  stackOutputs(): Record<string, unknown> {
    const cfg = this.cfg;
    return {
      region: cfg.region,
      environment: cfg.environment,
      ingressHostname: this.app.ingressHostname,
      healthPath: HTTP.readinessPath,
      healthUrl: `https://${cfg.app.hostname}${HTTP.readinessPath}`,
      steeringWeight: cfg.steeringWeight,
      isPrimary: cfg.isPrimary,
      ...(this.originAuth ? { originAuth: this.originAuth } : {}),
      endpoints: pulumi.secret({
        databases: this.database.shards.map((s) => ({ shard: s.id, writer: s.writer, reader: s.reader })),
        redis: { state: this.cache.state.host, cache: this.cache.cache.host, port: 6379 },
        bucket: this.storage.bucketName,
      }),
      regionalHostname: cfg.app.hostname,
      vpcId: this.network.vpcId,
      bucketName: this.storage.bucketName,
      clusterName: this.cluster ? this.cluster.name : 'existing',
      ...(this.alertTopic ? { alertTopicArn: this.alertTopic.topicArn } : {}),
      ...(this.alertTopic?.publishPolicyArn ? { alertPublishPolicyArn: this.alertTopic.publishPolicyArn } : {}),
      ...(this.cluster ? { kubeconfig: this.cluster.kubeconfig } : {}),
      ...(this.cache.globalReplicationGroupId ? { cacheGlobalReplicationGroupId: this.cache.globalReplicationGroupId } : {}),
      // Secret outputs: the secondary reads them through its StackReference, and the operator reads the admin
      // key with `pulumi stack output adminApiKey --show-secrets` (every regional stack exports its values).
      ...Object.fromEntries(SHARED_SECRETS.map((k) => [k, pulumi.secret(this.sharedSecrets.values[k])])),
      // Read by the secondary through its StackReference (PEER_OUTPUTS in peer/peer-stack.ts).
      ...(cfg.peerRegion !== undefined
        ? {
            globalWriterEndpoints: pulumi.output(Object.fromEntries(this.database.shards.map((s) => [s.id, s.writer]))),
            bucketArn: this.storage.bucketArn,
            bucketKmsKeyArn: this.storage.kmsKeyArn,
            vpcCidr: cfg.network.cidr,
            privateRouteTableIds: this.network.privateRouteTableIds,
          }
        : {}),
    };
  }
}
