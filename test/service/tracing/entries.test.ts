/**
 * Tracing in the process entries: `npm run gateway` (gateway-main.ts), `npm run worker` (worker-main.ts)
 * and `npm start` (local/main.ts, gateway and worker in one process) as child processes configured only by
 * OTEL_* and the usual keys, exporting to a receiver the test starts. The batch delay is a minute, so what arrives was flushed by the SIGTERM shutdown; a task
 * created on the gateway runs on the worker process and its consumer span lands in the caller's trace.
 * A grpc protocol or a malformed header list stops the start with one line naming the key (value hidden).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../../service/src/config.js';
import { tracesUrl } from '../../../service/src/log/tracing-sdk.js';
import { startOtlpReceiver, SPAN_KIND, type OtlpReceiver } from '../../support/otlp-receiver.js';
import { createTestDatabase, createTestRedisPrefix, testServiceUrls } from '../../support/platform-db.js';
import { testRequestStateKeys } from '../../support/platform-gateway.js';
import { modernCall, spawnWorker, waitForTask, type WorkerChild } from '../tasks/support.js';
import { OutputReader } from '../../support/child-output.js';
import { newTraceparent, traceOf } from './support.js';

const baseEnv = { DATABASE_URL: 'postgres://u@127.0.0.1/db', REDIS_URL: 'redis://127.0.0.1:6379', REQUEST_STATE_KEYS: testRequestStateKeys() };

describe('traces: OTEL_* configuration', () => {
  it('refuses grpc (not in this build) naming the key and the supported values', () => {
    assert.throws(
      () => loadConfig({ ...baseEnv, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }),
      (err: ConfigError) =>
        err instanceof ConfigError && /^OTEL_EXPORTER_OTLP_PROTOCOL: .*http\/protobuf, http\/json.*grpc is not supported/.test(err.issues[0]!),
    );
    assert.throws(() => loadConfig({ ...baseEnv, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' }), /OTEL_EXPORTER_OTLP_TRACES_PROTOCOL/);
  });

  it('refuses a malformed header list without echoing it (it may hold a collector key)', () => {
    assert.throws(
      () => loadConfig({ ...baseEnv, OTEL_EXPORTER_OTLP_HEADERS: 'api-key=s3cr3t-value,=oops' }),
      (err: ConfigError) => err instanceof ConfigError && err.issues[0]!.startsWith('OTEL_EXPORTER_OTLP_HEADERS:') && !err.message.includes('s3cr3t'),
    );
  });

  it('refuses an unknown sampler, a ratio outside 0..1 and a non-URL endpoint', () => {
    assert.throws(() => loadConfig({ ...baseEnv, OTEL_TRACES_SAMPLER: 'jaeger_remote' }), /OTEL_TRACES_SAMPLER: .*parentbased_always_on/);
    assert.throws(() => loadConfig({ ...baseEnv, OTEL_TRACES_SAMPLER_ARG: '1.5' }), /OTEL_TRACES_SAMPLER_ARG/);
    assert.throws(() => loadConfig({ ...baseEnv, OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }), /OTEL_EXPORTER_OTLP_ENDPOINT: .*http\(s\) URL/);
  });

  it('spans go to <endpoint>/v1/traces, or to the traces endpoint as it is; nowhere when disabled', () => {
    const url = (env: Record<string, string>) => tracesUrl(loadConfig({ ...baseEnv, ...env }));
    assert.equal(url({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }), 'http://collector:4318/v1/traces');
    assert.equal(url({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example/base' }), 'https://otlp.example/base/v1/traces');
    assert.equal(
      url({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://other:4318/custom/spans' }),
      'http://other:4318/custom/spans',
    );
    assert.equal(url({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }), undefined);
    assert.equal(url({}), undefined);
  });

  it('defaults: http/protobuf, parent-based always-on sampling, off (no endpoint)', () => {
    const c = loadConfig(baseEnv);
    assert.equal(c.OTEL_EXPORTER_OTLP_PROTOCOL, 'http/protobuf');
    assert.equal(c.OTEL_TRACES_SAMPLER, 'parentbased_always_on');
    assert.equal(c.OTEL_EXPORTER_OTLP_ENDPOINT, undefined);
  });
});

describe('traces: npm run gateway and npm run worker', function () {
  this.timeout(120_000);
  let receiver: OtlpReceiver;

  before(async () => {
    receiver = await startOtlpReceiver();
  });
  after(async () => {
    await receiver?.close();
  });

  it('export the spans of a task call on shutdown; the worker process’s span joins the caller’s trace', async () => {
    const db = await createTestDatabase();
    const redis = createTestRedisPrefix();
    const adminToken = 'admin-token-for-tracing-entries';
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: db.url,
      REDIS_URL: testServiceUrls().redisUrl,
      REDIS_KEY_PREFIX: redis.prefix,
      TASK_QUEUE_PREFIX: `${redis.prefix}bull`,
      REQUEST_STATE_KEYS: testRequestStateKeys(),
      ADMIN_TOKEN: adminToken,
      WORKER_METRICS_PORT: '0',
      LOG_LEVEL: 'info',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=entries',
      // Only the shutdown flush delivers within the test.
      OTEL_BSP_SCHEDULE_DELAY: '60000',
    };
    const gateway = spawn(process.execPath, ['--import', 'tsx', 'service/src/gateway-main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let worker: WorkerChild | undefined;
    try {
      let stdout = '';
      const url = await new Promise<string>((resolve, reject) => {
        gateway.stdout.on('data', (c: Buffer) => {
          stdout += c.toString();
          const line = stdout.split('\n').find((l) => l.includes('gateway listening'));
          const m = line && /"url":"(http:\/\/[^"]+)"/.exec(line);
          if (m) resolve(m[1]!);
        });
        gateway.stderr.on('data', (c: Buffer) => (stdout += c.toString()));
        gateway.once('exit', (code) => reject(new Error(`gateway exited early (${code}): ${stdout}`)));
      });
      assert.match(stdout, /tracing: exporting spans over OTLP/);
      worker = await spawnWorker({ ...env, OTEL_SERVICE_NAME: 'traces-entries-worker' });
      const created = await fetch(`${url}/admin/v1/tenants`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'acme', toolsets: ['diagnostics'] }),
      });
      assert.equal(created.status, 201, await created.clone().text());
      const { apiKey } = (await created.json()) as { apiKey: string };
      const caller = newTraceparent();
      const task = await modernCall(`${url}/mcp`, apiKey, 'tools/call', {
        name: 'diagnostics.sleep',
        arguments: { ms: 20 },
        _meta: { traceparent: caller.traceparent },
      });
      const taskId = (task['task'] as { taskId: string } | undefined)?.taskId ?? (task['taskId'] as string);
      await waitForTask(
        () => modernCall(`${url}/mcp`, apiKey, 'tasks/get', { taskId }),
        (t) => t['status'] === 'completed',
      );
      assert.equal(receiver.spans.length, 0, 'nothing exported before the batch delay or a shutdown');

      gateway.kill('SIGTERM');
      assert.equal(((await once(gateway, 'exit')) as [number])[0], 0);
      assert.equal(await worker.stop(), 0);
      const tree = traceOf(receiver.spans, caller.traceId);
      const server = tree.named('tools/call diagnostics.sleep');
      assert.ok(server, `the gateway's spans arrived (got ${receiver.spans.map((s) => s.name).join(', ')})`);
      assert.equal(server.parentSpanId, caller.spanId);
      assert.equal(server.resource['service.name'], 'unified-mcp-gateway');
      assert.equal(server.resource['deployment.environment.name'], 'entries');
      const producer = tree.named('send umcp-tasks')!;
      const consumer = tree.named('process umcp-tasks');
      assert.ok(consumer, 'the worker process exported its consumer span on shutdown');
      assert.equal(consumer.kind, SPAN_KIND.consumer);
      assert.equal(consumer.parentSpanId, producer.spanId);
      assert.equal(consumer.resource['service.name'], 'traces-entries-worker');
      // The signal-specific protocol wins over the general one.
      assert.ok(receiver.requests.every((r) => r.contentType === 'application/x-protobuf'));
    } finally {
      if (gateway.exitCode === null) gateway.kill('SIGKILL');
      await worker?.kill();
      await db.drop();
      await redis.cleanup();
    }
  });
});

describe('traces: npm start', function () {
  this.timeout(120_000);

  it('exports from the one process (gateway and in-process worker) and flushes on Ctrl+C', async () => {
    const receiver = await startOtlpReceiver();
    const db = await createTestDatabase();
    const redis = createTestRedisPrefix();
    const dataDir = mkdtempSync(join(tmpdir(), 'umcp-traces-local-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'service/src/local/main.ts'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        UMCP_DATA_DIR: dataDir,
        PORT: '0',
        DATABASE_URL: db.url,
        REDIS_URL: testServiceUrls().redisUrl,
        REDIS_KEY_PREFIX: redis.prefix,
        TASK_QUEUE_PREFIX: `${redis.prefix}bull`,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_SERVICE_NAME: 'traces-npm-start',
        OTEL_BSP_SCHEDULE_DELAY: '60000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const err = new OutputReader(child.stderr!);
    const out = new OutputReader(child.stdout!, () => `stderr so far:\n${err.output}`);
    try {
      await out.waitFor(/^Ready\. .*\n/m, 100_000);
      assert.match(out.output, new RegExp(`tracing: spans go to ${receiver.url}/v1/traces \\(http/protobuf\\)`));
      const line = (key: string) =>
        out.output
          .split('\n')
          .find((l) => l.startsWith(`${key}=`))!
          .slice(key.length + 1);
      const caller = newTraceparent();
      const task = await modernCall(line('MCP_URL'), line('API_KEY'), 'tools/call', {
        name: 'diagnostics.sleep',
        arguments: { ms: 10 },
        _meta: { traceparent: caller.traceparent },
      });
      const taskId = (task['task'] as { taskId: string } | undefined)?.taskId ?? (task['taskId'] as string);
      await waitForTask(
        () => modernCall(line('MCP_URL'), line('API_KEY'), 'tasks/get', { taskId }),
        (t) => t['status'] === 'completed',
      );
      assert.equal(receiver.spans.length, 0);
      child.kill('SIGINT');
      assert.equal(((await once(child, 'exit')) as [number])[0], 0);
      const tree = traceOf(receiver.spans, caller.traceId);
      assert.equal(tree.named('tools/call diagnostics.sleep')?.resource['service.name'], 'traces-npm-start');
      assert.equal(tree.named('process umcp-tasks')?.parentSpanId, tree.named('send umcp-tasks')?.spanId);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await db.drop();
      await redis.cleanup();
      await receiver.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
