/**
 * Workloads: request defaults and per-stack overrides, the V8 heap sized to the memory limit, probes on the contract paths, zone spread, PDBs,
 * HPA (CPU + requests/s), KEDA on the BullMQ wait list, scheduled scale-down outside prod, network
 * policies, alerts on the contract's metric names, and the stack outputs the global stack reads.
 */
import assert from 'node:assert/strict';
import { HTTP, METRICS, QUEUE } from '../../../contract/index.js';
import { REGIONAL_OUTPUTS } from '../../../infra/global/region-pool.js';
import { checkAppArgs } from '../../../infra/regional/app/index.js';
import { heapLimitMiB } from '../../../infra/regional/app/workloads.js';
import { ofType, one, REGIONAL_STACKS, runStack, isProd } from '../support/stacks.js';
import type { MockRunResult } from '../../../infra/tools/mock-run.js';

const container = (r: MockRunResult, tier: string) => one(r, 'kubernetes:apps/v1:Deployment', `-${tier}`).inputs.spec.template.spec.containers[0];

/** Requests each stack file asks for (the file's overrides over 500m / 512Mi / 10Gi). */
const EXPECTED_REQUESTS: Record<string, Record<'gateway' | 'worker', [string, string, string]>> = {
  dev: { gateway: ['250m', '256Mi', '2Gi'], worker: ['500m', '512Mi', '10Gi'] },
  'prod-us-east-1': { gateway: ['500m', '512Mi', '10Gi'], worker: ['1', '1Gi', '10Gi'] },
  'prod-eu-west-1': { gateway: ['500m', '512Mi', '10Gi'], worker: ['500m', '512Mi', '10Gi'] },
};

describe('regional app', () => {
  it('heap limit: half of a binary quantity in MiB, at least 64; anything else is refused', () => {
    assert.equal(heapLimitMiB('512Mi'), 256);
    assert.equal(heapLimitMiB('1Gi'), 512);
    assert.equal(heapLimitMiB('1048576Ki'), 512);
    assert.equal(heapLimitMiB('536870912'), 256);
    assert.equal(heapLimitMiB('64Mi'), 64);
    assert.throws(() => heapLimitMiB('512M'), /not a binary Kubernetes quantity/);
  });

  for (const stack of REGIONAL_STACKS) {
    describe(`stack ${stack}`, () => {
      it('requests CPU, memory and ephemeral storage per the defaults and the stack overrides', async () => {
        const r = await runStack(stack);
        for (const tier of ['gateway', 'worker'] as const) {
          const [cpu, memory, eph] = EXPECTED_REQUESTS[stack]![tier];
          const res = container(r, tier).resources;
          assert.deepEqual(res.requests, { cpu, memory, 'ephemeral-storage': eph }, `${tier} requests`);
          assert.deepEqual(res.limits, { memory, 'ephemeral-storage': eph }, `${tier} limits`);
        }
      });

      it("sizes each tier's V8 heap to half its memory limit (NODE_OPTIONS), so garbage is collected before the OOM killer acts", async () => {
        const r = await runStack(stack);
        const mib = (q: string) => Number(/^(\d+)(Mi|Gi)$/.exec(q)![1]) * (q.endsWith('Gi') ? 1024 : 1);
        for (const tier of ['gateway', 'worker'] as const) {
          const memory = EXPECTED_REQUESTS[stack]![tier][1];
          assert.deepEqual(container(r, tier).env, [{ name: 'NODE_OPTIONS', value: `--max-old-space-size=${mib(memory) / 2}` }], tier);
        }
      });

      it('probes /readyz and /healthz on the port each tier listens on and spreads over zones', async () => {
        const r = await runStack(stack);
        // The gateway listens on PORT (8080); the worker only on WORKER_METRICS_PORT (9464), never on 8080.
        const ports = { gateway: { name: 'http', containerPort: HTTP.containerPort }, worker: { name: 'metrics', containerPort: HTTP.workerPort } };
        assert.equal(HTTP.workerPort, 9464);
        for (const tier of ['gateway', 'worker'] as const) {
          const c = container(r, tier);
          assert.equal(c.readinessProbe.httpGet.path, HTTP.readinessPath);
          assert.equal(c.livenessProbe.httpGet.path, HTTP.livenessPath);
          assert.equal(c.startupProbe.httpGet.path, HTTP.livenessPath);
          assert.deepEqual(c.ports, [{ ...ports[tier], protocol: 'TCP' }], `${tier} container port`);
          for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe'])
            assert.equal(c[probe].httpGet.port, ports[tier].name, `${tier} ${probe} port`);
          const annotations = one(r, 'kubernetes:apps/v1:Deployment', `-${tier}`).inputs.spec.template.metadata.annotations;
          assert.equal(annotations['prometheus.io/port'], String(ports[tier].containerPort), `${tier} scrape annotation`);
          const own = (c.env as { name: string }[]).map((e) => e.name);
          assert.deepEqual(
            own,
            ['NODE_OPTIONS'],
            `${tier}: no env beyond the ConfigMap, the Secret and the heap size (UMCP_ROLE and POD_NAME were never read)`,
          );
          const spec = one(r, 'kubernetes:apps/v1:Deployment', `-${tier}`).inputs.spec.template.spec;
          assert.equal(spec.topologySpreadConstraints[0].topologyKey, 'topology.kubernetes.io/zone');
          assert.equal(spec.securityContext.runAsNonRoot, true);
        }
      });

      it('has PDBs, an HPA on CPU and requests per second, and a KEDA ScaledObject on the queue', async () => {
        const r = await runStack(stack);
        assert.equal(ofType(r, 'kubernetes:policy/v1:PodDisruptionBudget').length, 2);
        const hpa = one(r, 'kubernetes:autoscaling/v2:HorizontalPodAutoscaler').inputs.spec;
        assert.deepEqual(
          hpa.metrics.map((m: { type: string }) => m.type),
          ['Resource', 'Pods'],
        );
        assert.equal(hpa.metrics[1].pods.metric.name, 'umcp_http_requests_per_second');
        assert.deepEqual([hpa.minReplicas, hpa.maxReplicas], stack === 'dev' ? [1, 3] : [3, 30], 'replica bounds from the stack file');
        for (const tier of ['gateway', 'worker']) {
          assert.equal(one(r, 'kubernetes:apps/v1:Deployment', `-${tier}`).inputs.spec.replicas, undefined, `${tier}: the autoscaler owns replicas`);
        }
        const so = one(r, 'kubernetes:keda.sh/v1alpha1:ScaledObject').inputs;
        const redis = so.spec.triggers.find((t: { type: string }) => t.type === 'redis');
        assert.equal(redis.metadata.listName, `${QUEUE.prefix}:${QUEUE.name}:wait`);
        assert.equal(redis.metadata.enableTLS, 'true');
        assert.match(redis.metadata.address, /redis-state.*:6379$/);
        assert.equal(so.spec.scaleTargetRef.name, 'umcp-worker');
      });

      it(`${isProd(stack) ? 'does not scale down' : 'scales down'} on a schedule`, async () => {
        const r = await runStack(stack);
        const jobs = ofType(r, 'kubernetes:batch/v1:CronJob');
        assert.equal(jobs.length, isProd(stack) ? 0 : 2);
        if (!isProd(stack)) assert.match(jobs[0]!.inputs.spec.jobTemplate.spec.template.spec.containers[0].command[2], /paused-replicas=0/);
      });

      it('denies all traffic by default and allows DNS, ingress to the gateway, scraping and data egress', async () => {
        const r = await runStack(stack);
        const names = ofType(r, 'kubernetes:networking.k8s.io/v1:NetworkPolicy')
          .map((p) => p.inputs.metadata.name)
          .sort();
        assert.deepEqual(names, ['umcp-allow-dns', 'umcp-allow-metrics-scrape', 'umcp-app-egress', 'umcp-default-deny', 'umcp-gateway-ingress']);
        const deny = one(r, 'kubernetes:networking.k8s.io/v1:NetworkPolicy', '-default-deny').inputs.spec;
        assert.deepEqual(deny, { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
        const scrape = one(r, 'kubernetes:networking.k8s.io/v1:NetworkPolicy', '-allow-metrics-scrape').inputs.spec;
        assert.deepEqual(
          scrape.ingress[0].ports.map((p: { port: string }) => p.port),
          ['http', 'metrics'],
          "both tiers' metrics ports",
        );
      });

      it('scrapes each tier on the port that serves its /metrics (gateway http, worker metrics)', async () => {
        const r = await runStack(stack);
        const pm = one(r, 'kubernetes:monitoring.coreos.com/v1:PodMonitor').inputs.spec;
        assert.deepEqual(
          pm.podMetricsEndpoints.map((e: { port: string; path: string }) => [e.port, e.path]),
          [
            ['http', HTTP.metricsPath],
            ['metrics', HTTP.metricsPath],
          ],
        );
      });

      it('alerts on error rate, latency, queue age, DLQ, pool saturation, replication lag and unreadable limit counters', async () => {
        const r = await runStack(stack);
        const rules = one(r, 'kubernetes:monitoring.coreos.com/v1:PrometheusRule').inputs.spec.groups[0].rules;
        const exprs = rules.map((x: { expr: string }) => x.expr).join('\n');
        for (const m of [
          METRICS.httpRequests,
          METRICS.mcpDuration,
          METRICS.queueOldestWaitingAge,
          METRICS.dlqSize,
          METRICS.pgPoolWaiting,
          METRICS.replicationLag,
          METRICS.limitCounterErrors,
        ]) {
          assert.ok(exprs.includes(m), `an alert reads ${m}`);
        }
        assert.equal(rules.length, 7);
      });

      it('exposes the gateway through an Ingress on its hostname', async () => {
        const r = await runStack(stack);
        const ing = one(r, 'kubernetes:networking.k8s.io/v1:Ingress').inputs;
        assert.equal(ing.spec.rules[0].host, new URL(String(r.outputs.healthUrl)).hostname);
        if (ing.spec.ingressClassName === 'alb') {
          assert.equal(ing.metadata.annotations['alb.ingress.kubernetes.io/healthcheck-path'], HTTP.readinessPath);
          assert.ok(ing.metadata.annotations['alb.ingress.kubernetes.io/certificate-arn'], 'TLS on the ALB');
          assert.match(ing.metadata.annotations['alb.ingress.kubernetes.io/load-balancer-attributes'], /idle_timeout\.timeout_seconds=3600/);
        } else {
          assert.equal(ing.spec.ingressClassName, 'nginx');
          assert.equal(ing.metadata.annotations['nginx.ingress.kubernetes.io/proxy-buffering'], 'off', 'SSE streams unbuffered');
        }
      });

      it('exports the outputs the global stack reads', async () => {
        const r = await runStack(stack);
        const o = r.outputs;
        assert.equal(typeof o.region, 'string');
        assert.match(String(o.environment), /^(dev|prod)$/);
        assert.match(String(o.ingressHostname), /elb\.amazonaws\.com$/);
        assert.equal(o.healthPath, HTTP.readinessPath);
        assert.equal(o.healthUrl, `https://${new URL(String(o.healthUrl)).hostname}${HTTP.readinessPath}`);
        assert.equal(typeof o.steeringWeight, 'number');
        assert.equal(typeof o.isPrimary, 'boolean');
        assert.equal(o.isPrimary, stack !== 'prod-eu-west-1');
        for (const name of Object.values(REGIONAL_OUTPUTS)) assert.ok(name in o, `output ${name} the global stack reads`);
        const endpoints = o.endpoints as { databases: unknown[]; redis: { state: string; cache: string }; bucket: string };
        assert.ok(endpoints.databases.length >= 1 && endpoints.redis.state && endpoints.redis.cache && endpoints.bucket);
      });
    });
  }

  it('hands the service its data-layer settings: shard map without passwords, S3 object store', async () => {
    const r = await runStack('prod-eu-west-1');
    const env = one(r, 'kubernetes:core/v1:ConfigMap').inputs.data;
    assert.equal(env.BLOB_BACKEND, 's3');
    assert.equal(env.BLOB_S3_BUCKET, 'umcp-prod-objects-eu-west-1');
    assert.equal(env.DEFAULT_SHARD_ID, '0');
    const shards = JSON.parse(env.SHARDS);
    assert.deepEqual(
      shards.map((x: { id: string; region: string }) => [x.id, x.region]),
      [['1', 'us-east-1']],
      'writer region is the primary',
    );
    assert.match(shards[0].writerUrl, /^postgres:\/\/app@[^:]+:5432\/umcp\?sslmode=require$/, 'no password in the shard map');
    const secret = one(r, 'kubernetes:core/v1:Secret', '-app-secret').inputs.stringData;
    const password = encodeURIComponent(String(r.outputs.dbPassword)); // the primary's, read through the StackReference
    assert.ok(
      secret.DATABASE_URL.startsWith(`postgres://app:${password}@umcp-prod-shard-0.global-mock.global.rds.amazonaws.com:`),
      'the global writer endpoint',
    );
    for (const k of ['DATABASE_READER_URLS', 'PGPASSWORD', 'REDIS_URL', 'REDIS_CACHE_URL', 'ADMIN_TOKEN']) assert.ok(secret[k], k);
    assert.ok(!JSON.stringify(env).includes(String(r.outputs.dbPassword)), 'no secret in the ConfigMap');
  });

  it('rejects contradictory app args', () => {
    const base = { provider: undefined as never, secretEnv: {}, queueRedisAddress: 'r:6379', dataCidrs: [], ingress: { hostname: 'a.example.com' } };
    const tier = { image: 'i' };
    assert.match(checkAppArgs({ ...base, gateway: { ...tier, minReplicas: 5, maxReplicas: 2 }, worker: tier })!, /gateway: minReplicas 5 exceeds/);
    assert.match(
      checkAppArgs({ ...base, gateway: tier, worker: tier, ingress: { hostname: 'a', ingressClassName: 'nginx', certificateArn: 'arn:x' } })!,
      /ALB setting/,
    );
    assert.equal(checkAppArgs({ ...base, gateway: tier, worker: tier }), undefined);
  });
});
