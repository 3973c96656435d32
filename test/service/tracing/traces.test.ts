/**
 * Traces (docs/tracing.md) end to end, exported over OTLP to a receiver the test starts, in both encodings
 * (http/protobuf, http/json): real gateways (real MCP endpoint, PostgreSQL, Redis) federating real
 * upstreams of both protocol generations behind a recording proxy, and a task worker.
 * - the span tree of a tools/call: the caller's context (traceparent header, or `_meta.traceparent`) →
 *   the server span `tools/call <tool>` → one span per pipeline stage → the upstream client span, whose
 *   context the upstream receives in its `traceparent` header and `params._meta`;
 * - semantic-convention attributes on each, the tenant, and no argument value anywhere;
 * - 2026-07-28 callers (SDK path and pass-through) and 2025-era callers (the legacy leg);
 * - a task on each queue backend (BullMQ, RabbitMQ, SQS): the producer span on the caller’s trace, the
 *   worker’s consumer span its child (and linked), the worker’s pipeline under it;
 * - off when no endpoint is set (or OTEL_SDK_DISABLED): no SDK, no spans, no trace context sent upstream.
 */
import assert from 'node:assert/strict';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import * as semconv from '@opentelemetry/semantic-conventions/incubating';
import { loadConfig } from '../../../service/src/config.js';
import { ATTR, tracingEnabled } from '../../../service/src/log/tracing.js';
import { TracingConfigSchema } from '../../../service/src/log/tracing-config.js';
import { startTracing, type Tracing } from '../../../service/src/log/tracing-sdk.js';
import { createLogger } from '../../../service/src/log/logger.js';
import { startWorker, type RunningWorker } from '../../../service/src/worker-main.js';
import { startOtlpReceiver, SPAN_KIND, type OtlpReceiver } from '../../support/otlp-receiver.js';
import { startCluster, type Cluster } from '../federation/support/gateway.js';
import { startLegacyUpstream, startModernUpstream, type UpstreamFixture } from '../federation/support/upstream-fixtures.js';
import { createTaskEnv, modernCall, waitForTask, type TaskEnv } from '../tasks/support.js';
import { newTraceparent, parseTraceparent, startRecordingProxy, traceOf } from './support.js';
import { anyRabbit, fauxqs, type Broker, type Unavailable } from '../../support/brokers.js';

const brokerOf: Record<'bullmq' | 'rabbitmq' | 'sqs', () => Promise<Broker | Unavailable | undefined>> = {
  bullmq: async () => undefined,
  rabbitmq: anyRabbit,
  sqs: () => fauxqs(),
};

/** An argument value that must never reach a span. */
const SECRET_ARG = 'argument-value-4f7c1e';
const STAGES = ['resolve target', 'authorize', 'validate arguments', 'audit', 'invoke'];

type Proxy = Awaited<ReturnType<typeof startRecordingProxy>>;

/** An SDK client whose next request carries `next.traceparent` as an HTTP header (when set). */
async function tracingClient(cluster: Cluster, apiKey: string, era: 'modern' | 'legacy') {
  const next: { traceparent?: string } = {};
  const client = new Client({ name: 'traces-test', version: '1' }, { versionNegotiation: { mode: era === 'modern' ? { pin: '2026-07-28' } : 'legacy' } });
  const transport = new StreamableHTTPClientTransport(new URL(cluster.gateways[0]!.mcpUrl), {
    requestInit: { headers: { authorization: `Bearer ${apiKey}` } },
    fetch: (url, init) => {
      const headers = new Headers(init?.headers);
      if (next.traceparent && init?.method === 'POST') headers.set('traceparent', next.traceparent);
      // W3C baggage from a caller is not passed on to upstreams (checked on every upstream request).
      headers.set('baggage', 'user.secret=caller-baggage');
      return fetch(url, { ...init, headers });
    },
  });
  await client.connect(transport);
  return { client, next };
}

describe('traces: semantic-convention names', () => {
  it('match the OpenTelemetry semantic conventions package (incubating MCP, gen-ai, JSON-RPC, messaging keys)', () => {
    assert.equal(ATTR.MCP_METHOD_NAME, semconv.ATTR_MCP_METHOD_NAME);
    assert.equal(ATTR.MCP_SESSION_ID, semconv.ATTR_MCP_SESSION_ID);
    assert.equal(ATTR.MCP_PROTOCOL_VERSION, semconv.ATTR_MCP_PROTOCOL_VERSION);
    assert.equal(ATTR.MCP_RESOURCE_URI, semconv.ATTR_MCP_RESOURCE_URI);
    assert.equal(ATTR.JSONRPC_REQUEST_ID, semconv.ATTR_JSONRPC_REQUEST_ID);
    assert.equal(ATTR.GEN_AI_TOOL_NAME, semconv.ATTR_GEN_AI_TOOL_NAME);
    assert.equal(ATTR.GEN_AI_PROMPT_NAME, semconv.ATTR_GEN_AI_PROMPT_NAME);
    assert.equal(ATTR.GEN_AI_OPERATION_NAME, semconv.ATTR_GEN_AI_OPERATION_NAME);
    assert.equal(ATTR.RPC_RESPONSE_STATUS_CODE, semconv.ATTR_RPC_RESPONSE_STATUS_CODE);
    assert.equal(ATTR.ERROR_TYPE, semconv.ATTR_ERROR_TYPE);
    assert.equal(ATTR.NETWORK_TRANSPORT, semconv.ATTR_NETWORK_TRANSPORT);
    assert.equal(ATTR.NETWORK_PROTOCOL_NAME, semconv.ATTR_NETWORK_PROTOCOL_NAME);
    assert.equal(ATTR.SERVER_ADDRESS, semconv.ATTR_SERVER_ADDRESS);
    assert.equal(ATTR.SERVER_PORT, semconv.ATTR_SERVER_PORT);
    assert.equal(ATTR.MESSAGING_SYSTEM, semconv.ATTR_MESSAGING_SYSTEM);
    assert.equal(ATTR.MESSAGING_OPERATION_TYPE, semconv.ATTR_MESSAGING_OPERATION_TYPE);
    assert.equal(ATTR.MESSAGING_OPERATION_NAME, semconv.ATTR_MESSAGING_OPERATION_NAME);
    assert.equal(ATTR.MESSAGING_DESTINATION_NAME, semconv.ATTR_MESSAGING_DESTINATION_NAME);
    assert.equal(ATTR.MESSAGING_MESSAGE_ID, semconv.ATTR_MESSAGING_MESSAGE_ID);
  });
});

for (const protocol of ['http/protobuf', 'http/json'] as const) {
  describe(`traces exported over OTLP ${protocol}`, function () {
    this.timeout(90_000);
    let receiver: OtlpReceiver;
    let tracing: Tracing;

    before(async () => {
      receiver = await startOtlpReceiver();
      const config = TracingConfigSchema.parse({
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-key=k%3Dv',
        OTEL_SERVICE_NAME: 'traces-test',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test,team=mcp',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      });
      tracing = (await startTracing(config, { defaultServiceName: 'unified-mcp-gateway', version: '9.9.9', logger: createLogger({ level: 'silent' }) }))!;
      assert.ok(tracing, 'tracing started');
      assert.equal(tracingEnabled(), true);
    });
    after(async () => {
      await tracing?.shutdown();
      await receiver?.close();
      assert.equal(tracingEnabled(), false);
    });

    describe('federated tools/call', () => {
      let cluster: Cluster;
      let modern: UpstreamFixture;
      let legacy: UpstreamFixture;
      let modernProxy: Proxy;
      let legacyProxy: Proxy;
      let apiKey: string;
      let tenantId: string;

      before(async () => {
        [cluster, modern, legacy] = await Promise.all([startCluster(1), startModernUpstream('m'), startLegacyUpstream('l')]);
        [modernProxy, legacyProxy] = await Promise.all([startRecordingProxy(modern.url), startRecordingProxy(legacy.url)]);
        ({ apiKey, id: tenantId } = await cluster.tenant('acme', ['diagnostics']));
        for (const [name, url] of [
          ['mod', modernProxy.url],
          ['leg', legacyProxy.url],
        ] as const) {
          const r = await cluster.admin('POST', '/tenants/acme/upstreams', { name, url, credentials: { bearer: 'upstream-token' } });
          assert.equal(r.status, 201, JSON.stringify(r.body));
        }
      });
      after(async () => {
        await cluster?.stop();
        await Promise.all([modernProxy?.close(), legacyProxy?.close(), modern?.close(), legacy?.close()]);
      });

      /** Checks the tree of one federated call and returns its spans. */
      async function checkCallTree(opts: {
        traceId: string;
        callerSpanId: string;
        tool: string;
        upstreamTool: string;
        proxy: Proxy;
        protocolVersion: string;
        session: boolean;
        passThrough?: boolean;
      }) {
        const server = `tools/call ${opts.tool}`;
        const client = `tools/call ${opts.upstreamTool}`;
        await tracing.flush();
        const spans = await receiver.waitFor((all) => ['invoke', server, client].every((n) => all.some((s) => s.traceId === opts.traceId && s.name === n)));
        const tree = traceOf(spans, opts.traceId);
        const serverSpan = tree.named(server)!;
        assert.equal(serverSpan.kind, SPAN_KIND.server);
        assert.equal(serverSpan.parentSpanId, opts.callerSpanId, 'the server span continues the caller’s trace');
        assert.equal(serverSpan.attributes[ATTR.MCP_METHOD_NAME], 'tools/call');
        assert.equal(serverSpan.attributes[ATTR.GEN_AI_TOOL_NAME], opts.tool);
        assert.equal(serverSpan.attributes[ATTR.GEN_AI_OPERATION_NAME], 'execute_tool');
        assert.equal(serverSpan.attributes[ATTR.TENANT_ID], tenantId);
        assert.equal(serverSpan.attributes[ATTR.MCP_PROTOCOL_VERSION], opts.protocolVersion);
        assert.equal(serverSpan.attributes[ATTR.NETWORK_TRANSPORT], 'tcp');
        assert.equal(serverSpan.attributes[ATTR.SERVER_ADDRESS], '127.0.0.1');
        assert.equal(typeof serverSpan.attributes[ATTR.SERVER_PORT], 'number');
        assert.equal(typeof serverSpan.attributes[ATTR.JSONRPC_REQUEST_ID], 'string');
        assert.equal(typeof serverSpan.attributes[ATTR.MCP_SESSION_ID], opts.session ? 'string' : 'undefined');
        assert.equal(serverSpan.resource['service.name'], 'traces-test');
        assert.equal(serverSpan.resource['service.version'], '9.9.9');
        assert.equal(serverSpan.resource['deployment.environment.name'], 'test');
        assert.equal(serverSpan.resource['team'], 'mcp');
        // Every stage has its span inside the request's, nested in pipeline order.
        // The pass-through path resolves its target itself (before the pipeline), then runs the stages.
        for (const stage of opts.passThrough ? STAGES.slice(1) : STAGES) {
          const span = tree.named(stage);
          assert.ok(span, `stage span "${stage}" (got ${tree.spans.map((s) => s.name).join(', ')})`);
          assert.equal(span.kind, SPAN_KIND.internal);
          assert.equal(span.attributes[ATTR.PIPELINE_STAGE], stage);
          assert.ok(tree.ancestry(span).includes(server), `"${stage}" under the request span`);
        }
        const order = ['audit', 'validate arguments', 'authorize'];
        assert.deepEqual(
          tree.ancestry(tree.named('invoke')!).filter((n) => order.includes(n)),
          order,
          'stages nest in pipeline order',
        );
        // The upstream call: a client span under invoke, whose context the upstream received.
        const clientSpan = tree.named(client)!;
        assert.equal(clientSpan.kind, SPAN_KIND.client);
        assert.equal(clientSpan.parentSpanId, tree.named('invoke')!.spanId);
        assert.equal(clientSpan.attributes[ATTR.GEN_AI_TOOL_NAME], opts.upstreamTool);
        assert.equal(clientSpan.attributes[ATTR.SERVER_ADDRESS], '127.0.0.1');
        assert.equal(clientSpan.attributes[ATTR.SERVER_PORT], Number(new URL(opts.proxy.url).port));
        const call = opts.proxy.seen.findLast((r) => r.method === 'tools/call' && r.body.includes(SECRET_ARG))!;
        assert.ok(call, 'the upstream got the call');
        assert.deepEqual(parseTraceparent(call.traceparent), { traceId: opts.traceId, spanId: clientSpan.spanId }, 'traceparent header = the client span');
        assert.deepEqual(parseTraceparent(call.metaTraceparent), { traceId: opts.traceId, spanId: clientSpan.spanId }, '_meta.traceparent = the client span');
        assert.ok(
          opts.proxy.seen.every((r) => r.baggage === undefined && !r.body.includes('caller-baggage')),
          'no caller baggage upstream',
        );
        // Never an argument value.
        assert.ok(!JSON.stringify(tree.spans).includes(SECRET_ARG), 'no argument value in any span');
        return tree;
      }

      it('2026-07-28 caller, 2025-era upstream (SDK client path): trace from the traceparent header', async () => {
        const { client, next } = await tracingClient(cluster, apiKey, 'modern');
        try {
          const caller = newTraceparent();
          next.traceparent = caller.traceparent;
          const r = await client.callTool({ name: 'leg__echo', arguments: { text: SECRET_ARG } });
          assert.equal(r.isError, undefined);
          await checkCallTree({
            traceId: caller.traceId,
            callerSpanId: caller.spanId,
            tool: 'leg__echo',
            upstreamTool: 'echo',
            proxy: legacyProxy,
            protocolVersion: '2026-07-28',
            session: false,
          });
        } finally {
          await client.close();
        }
      });

      it('2026-07-28 caller, 2026-07-28 upstream (pass-through): trace from _meta.traceparent, the caller’s context replaced upstream', async () => {
        const { client } = await tracingClient(cluster, apiKey, 'modern');
        try {
          const caller = newTraceparent();
          await client.callTool({ name: 'mod__echo', arguments: { text: SECRET_ARG }, _meta: { traceparent: caller.traceparent } });
          await checkCallTree({
            traceId: caller.traceId,
            callerSpanId: caller.spanId,
            tool: 'mod__echo',
            upstreamTool: 'echo',
            proxy: modernProxy,
            protocolVersion: '2026-07-28',
            session: false,
            passThrough: true,
          });
        } finally {
          await client.close();
        }
      });

      it('2025-era caller (legacy leg, session): trace from the header, session id and protocol version recorded', async () => {
        const { client, next } = await tracingClient(cluster, apiKey, 'legacy');
        try {
          const caller = newTraceparent();
          next.traceparent = caller.traceparent;
          await client.callTool({ name: 'mod__echo', arguments: { text: SECRET_ARG } });
          await checkCallTree({
            traceId: caller.traceId,
            callerSpanId: caller.spanId,
            tool: 'mod__echo',
            upstreamTool: 'echo',
            proxy: modernProxy,
            protocolVersion: '2025-11-25',
            session: true,
          });
        } finally {
          await client.close();
        }
      });

      it('a request without (valid) trace context starts a new trace; other methods get their own server span', async () => {
        const { client, next } = await tracingClient(cluster, apiKey, 'modern');
        try {
          receiver.clear();
          next.traceparent = '00-not-a-valid-traceparent-01';
          await client.listTools();
          await tracing.flush();
          const [list] = await receiver.waitFor((all) => all.some((s) => s.name === 'tools/list'));
          const span = receiver.spans.find((s) => s.name === 'tools/list')!;
          assert.equal(span.kind, SPAN_KIND.server);
          assert.equal(span.parentSpanId, undefined, 'a root span');
          assert.equal(span.attributes[ATTR.MCP_METHOD_NAME], 'tools/list');
          assert.equal(span.attributes[ATTR.GEN_AI_TOOL_NAME], undefined);
          assert.ok(list);
        } finally {
          await client.close();
        }
      });

      it('a failed call marks the request span (error.type, JSON-RPC code) and never records the arguments', async () => {
        const { client, next } = await tracingClient(cluster, apiKey, 'modern');
        try {
          const caller = newTraceparent();
          next.traceparent = caller.traceparent;
          await assert.rejects(client.callTool({ name: 'nope__missing', arguments: { text: SECRET_ARG } }));
          await tracing.flush();
          await receiver.waitFor((all) => all.some((s) => s.traceId === caller.traceId && s.name === 'tools/call nope__missing'));
          const tree = traceOf(receiver.spans, caller.traceId);
          const server = tree.named('tools/call nope__missing')!;
          assert.equal(server.statusCode, 2);
          assert.equal(server.attributes[ATTR.ERROR_TYPE], '-32602');
          assert.equal(server.attributes[ATTR.RPC_RESPONSE_STATUS_CODE], '-32602');
          assert.equal(tree.named('resolve target')!.statusCode, 2);
          assert.ok(!JSON.stringify(tree.spans).includes(SECRET_ARG));
        } finally {
          await client.close();
        }
      });

      it('follows the caller’s sampling decision (parent-based): an unsampled caller gets no spans, the upstream still gets the context', async () => {
        const { client, next } = await tracingClient(cluster, apiKey, 'modern');
        try {
          const caller = newTraceparent();
          next.traceparent = caller.traceparent.replace(/-01$/, '-00');
          const before = legacyProxy.seen.length;
          await client.callTool({ name: 'leg__echo', arguments: { text: SECRET_ARG } });
          await tracing.flush();
          await new Promise((r) => setTimeout(r, 300));
          assert.equal(receiver.spans.filter((s) => s.traceId === caller.traceId).length, 0, 'nothing exported for an unsampled trace');
          const call = legacyProxy.seen.slice(before).find((r) => r.method === 'tools/call')!;
          assert.match(call.traceparent ?? '', new RegExp(`^00-${caller.traceId}-[0-9a-f]{16}-00$`));
        } finally {
          await client.close();
        }
      });

      for (const era of ['modern', 'legacy'] as const) {
        it(`prompts/get and resources/read of an upstream (${era === 'modern' ? '2026-07-28' : '2025-era'} caller): client spans, context received upstream`, async () => {
          const { client, next } = await tracingClient(cluster, apiKey, era);
          try {
            const uri = (await client.listResources()).resources.map((r) => r.uri).find((u) => u.includes('readme') && u.includes('leg'))!;
            assert.ok(uri, 'the upstream readme is listed');
            const caller = newTraceparent();
            next.traceparent = caller.traceparent;
            const before = legacyProxy.seen.length;
            await client.getPrompt({ name: 'leg__greet', arguments: { name: SECRET_ARG } });
            await client.readResource({ uri });
            await tracing.flush();
            const spans = await receiver.waitFor((all) =>
              ['prompts/get greet', 'resources/read'].every((n) =>
                all.some((s) => s.traceId === caller.traceId && s.name === n && s.kind === SPAN_KIND.client),
              ),
            );
            const tree = traceOf(spans, caller.traceId);
            const prompt = tree.spans.find((s) => s.name === 'prompts/get greet' && s.kind === SPAN_KIND.client)!;
            assert.equal(prompt.attributes[ATTR.GEN_AI_PROMPT_NAME], 'greet');
            assert.deepEqual(tree.ancestry(prompt), ['prompts/get leg__greet']);
            assert.equal(tree.named('prompts/get leg__greet')!.attributes[ATTR.GEN_AI_PROMPT_NAME], 'leg__greet');
            const read = tree.spans.find((s) => s.name === 'resources/read' && s.kind === SPAN_KIND.client)!;
            assert.equal(read.attributes[ATTR.MCP_RESOURCE_URI], 'mem://readme');
            const readServer = tree.spans.find((s) => s.name === 'resources/read' && s.kind === SPAN_KIND.server)!;
            assert.equal(readServer.attributes[ATTR.MCP_RESOURCE_URI], uri);
            const seen = legacyProxy.seen.slice(before);
            for (const [method, span] of [
              ['prompts/get', prompt],
              ['resources/read', read],
            ] as const) {
              const r = seen.find((x) => x.method === method)!;
              assert.ok(r, `${method} reached the upstream`);
              assert.deepEqual(parseTraceparent(r.traceparent), { traceId: caller.traceId, spanId: span.spanId }, `${method}: header`);
              assert.deepEqual(parseTraceparent(r.metaTraceparent), { traceId: caller.traceId, spanId: span.spanId }, `${method}: _meta`);
            }
            assert.ok(!JSON.stringify(tree.spans).includes(SECRET_ARG), 'no prompt argument in any span');
          } finally {
            await client.close();
          }
        });
      }

      it('a tool error (isError) marks the request span with error.type tool_error', async () => {
        const { client, next } = await tracingClient(cluster, apiKey, 'modern');
        try {
          const caller = newTraceparent();
          next.traceparent = caller.traceparent;
          const r = await client.callTool({ name: 'diagnostics.fail', arguments: { message: 'boom' } });
          assert.equal(r.isError, true);
          await tracing.flush();
          await receiver.waitFor((all) => all.some((s) => s.traceId === caller.traceId && s.name === 'tools/call diagnostics.fail'));
          const server = traceOf(receiver.spans, caller.traceId).named('tools/call diagnostics.fail')!;
          assert.equal(server.attributes[ATTR.ERROR_TYPE], 'tool_error');
        } finally {
          await client.close();
        }
      });

      it('a gateway federating a gateway: the inner gateway’s server span is the outer one’s client span’s child', async () => {
        // Tenant `inner` of the same gateway serves the built-ins; `acme` federates it as an upstream, so the
        // upstream of this call is instrumented too and exports to the same receiver.
        const inner = await cluster.tenant('inner', ['diagnostics']);
        const r = await cluster.admin('POST', '/tenants/acme/upstreams', {
          name: 'inner',
          url: cluster.gateways[0]!.mcpUrl,
          credentials: { bearer: inner.apiKey },
        });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        const { client, next } = await tracingClient(cluster, apiKey, 'modern');
        try {
          const caller = newTraceparent();
          next.traceparent = caller.traceparent;
          await client.callTool({ name: 'inner__diagnostics.echo', arguments: { text: SECRET_ARG } });
          await tracing.flush();
          const spans = await receiver.waitFor(
            (all) => all.filter((s) => s.traceId === caller.traceId && s.name === 'tools/call diagnostics.echo').length === 2,
          );
          const tree = traceOf(spans, caller.traceId);
          const [client1, server2] = ['client', 'server'].map((k) =>
            tree.spans.find((s) => s.name === 'tools/call diagnostics.echo' && s.kind === SPAN_KIND[k as 'client' | 'server'])!,
          );
          assert.ok(client1 && server2);
          assert.equal(server2.parentSpanId, client1.spanId, 'the upstream’s server span continues the gateway’s client span');
          assert.equal(server2.attributes[ATTR.TENANT_ID], inner.id);
          assert.deepEqual(tree.ancestry(server2).slice(0, 2), ['tools/call diagnostics.echo', 'invoke']);
          assert.ok(tree.ancestry(server2).includes('tools/call inner__diagnostics.echo'));
          assert.ok(
            tree.spans.some(
              (s) => s.name === 'invoke' && tree.ancestry(s)[0] === 'large-result offload' && tree.ancestry(s).includes('tools/call diagnostics.echo'),
            ),
            'the inner pipeline’s stages',
          );
          assert.ok(!JSON.stringify(tree.spans).includes(SECRET_ARG));
        } finally {
          await client.close();
        }
      });

      it('exports with the configured headers and encoding', () => {
        assert.ok(receiver.requests.length > 0);
        for (const r of receiver.requests) {
          assert.equal(r.contentType, protocol === 'http/json' ? 'application/json' : 'application/x-protobuf');
          assert.equal(r.headers['x-collector-key'], 'k=v');
          assert.equal(r.path, '/v1/traces');
        }
      });
    });

    // Every queue backend carries the context in the job body (once, through the port); one encoding is enough for the other two.
    for (const backend of protocol === 'http/protobuf' ? (['bullmq', 'rabbitmq', 'sqs'] as const) : (['bullmq'] as const))
      describe(`tasks (${backend})`, () => {
        let env: TaskEnv;
        let worker: RunningWorker;
        let key: string;
        let broker: Broker | undefined;
        let restore = () => undefined as void;

        before(async function () {
          const got = await brokerOf[backend]();
          if (got && 'skipped' in got) {
            console.log(`      skipped: the ${backend} task trace test (${got.skipped})`);
            this.skip();
          }
          broker = got;
          // The in-process gateway's and worker's AWS SDK read credentials from the process environment.
          const saved = Object.fromEntries(Object.keys(broker?.env ?? {}).map((k) => [k, process.env[k]]));
          for (const [k, v] of Object.entries(broker?.env ?? {})) if (k.startsWith('AWS_')) process.env[k] = v;
          restore = () => {
            for (const [k, v] of Object.entries(saved))
              if (v === undefined) delete process.env[k];
              else process.env[k] = v;
          };
          env = await createTaskEnv({ ...broker?.env });
          await env.startGateway();
          worker = await startWorker(loadConfig(env.env), { logger: createLogger({ level: 'silent' }), serveMetrics: false });
          ({ key } = await env.tenant('acme'));
        });
        after(async () => {
          try {
            await worker?.close();
            await env?.cleanup();
          } finally {
            await broker?.stop();
            restore();
          }
        });

        it('the worker’s span for a task joins the caller’s trace (producer → consumer → the tool’s pipeline)', async () => {
          const caller = newTraceparent();
          const url = env.gateways[0]!.mcpUrl;
          const created = await modernCall(url, key, 'tools/call', {
            name: 'diagnostics.sleep',
            arguments: { ms: 50 },
            _meta: { traceparent: caller.traceparent },
          });
          assert.equal(created['resultType'], 'task');
          const taskId = (created['task'] as { taskId: string } | undefined)?.taskId ?? (created['taskId'] as string);
          await waitForTask(
            () => modernCall(url, key, 'tasks/get', { taskId }),
            (t) => t['status'] === 'completed',
          );
          await tracing.flush();
          await receiver.waitFor((all) => all.some((s) => s.traceId === caller.traceId && s.name === 'process umcp-tasks'));
          // The worker's pipeline spans end after the consumer span's children; wait for its invoke too.
          await receiver.waitFor((all) => all.filter((s) => s.traceId === caller.traceId && s.name === 'invoke').length >= 1);
          const tree = traceOf(receiver.spans, caller.traceId);
          const server = tree.named('tools/call diagnostics.sleep')!;
          assert.equal(server.parentSpanId, caller.spanId);
          const producer = tree.named('send umcp-tasks')!;
          assert.equal(producer.kind, SPAN_KIND.producer);
          assert.ok(tree.ancestry(producer).includes('task or direct'), 'the enqueue happens in the task stage');
          assert.equal(producer.attributes[ATTR.MESSAGING_SYSTEM], { bullmq: 'bullmq', rabbitmq: 'rabbitmq', sqs: 'aws_sqs' }[backend]);
          assert.equal(producer.attributes[ATTR.MESSAGING_OPERATION_TYPE], 'send');
          assert.equal(producer.attributes[ATTR.MESSAGING_DESTINATION_NAME], 'umcp-tasks');
          assert.equal(producer.attributes[ATTR.TASK_ID], taskId);
          const consumer = tree.named('process umcp-tasks')!;
          assert.equal(consumer.kind, SPAN_KIND.consumer);
          assert.equal(consumer.parentSpanId, producer.spanId, 'the consumer span is the producer’s child');
          assert.deepEqual(consumer.links, [{ traceId: caller.traceId, spanId: producer.spanId }]);
          assert.equal(consumer.attributes[ATTR.MESSAGING_OPERATION_TYPE], 'process');
          assert.equal(consumer.attributes[ATTR.TASK_ATTEMPT], 1);
          // The worker runs the tool through its own pipeline, inside the consumer span.
          const workerInvoke = tree.spans.find((s) => s.name === 'invoke' && tree.ancestry(s).includes('process umcp-tasks'));
          assert.ok(workerInvoke, `the worker's pipeline joins the trace (got ${tree.spans.map((s) => `${s.name}<${tree.ancestry(s)[0]}`).join(', ')})`);
        });
      });
  });
}

describe('traces: off unless an OTLP endpoint is set', function () {
  this.timeout(60_000);

  it('starts nothing without an endpoint, or with OTEL_SDK_DISABLED=true', async () => {
    assert.equal(await startTracing(TracingConfigSchema.parse({}), { defaultServiceName: 'x' }), undefined);
    assert.equal(
      await startTracing(TracingConfigSchema.parse({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' }), {
        defaultServiceName: 'x',
      }),
      undefined,
    );
    assert.equal(tracingEnabled(), false);
  });

  it('a federated call exports nothing and sends no trace context upstream (the caller’s header is not forwarded)', async () => {
    const receiver = await startOtlpReceiver();
    const [cluster, legacy] = await Promise.all([startCluster(1), startLegacyUpstream('l')]);
    const proxy = await startRecordingProxy(legacy.url);
    try {
      assert.equal(
        await startTracing(
          loadConfig({
            ...process.env,
            OTEL_EXPORTER_OTLP_ENDPOINT: undefined,
            DATABASE_URL: 'postgres://x',
            REDIS_URL: 'redis://x',
            REQUEST_STATE_KEYS: `k:${Buffer.alloc(32).toString('base64')}`,
          }),
          { defaultServiceName: 'x' },
        ),
        undefined,
      );
      const { apiKey } = await cluster.tenant('acme', ['diagnostics']);
      assert.equal((await cluster.admin('POST', '/tenants/acme/upstreams', { name: 'leg', url: proxy.url })).status, 201);
      const { client, next } = await tracingClient(cluster, apiKey, 'modern');
      next.traceparent = newTraceparent().traceparent;
      await client.callTool({ name: 'leg__echo', arguments: { text: 'x' } });
      await client.close();
      const call = proxy.seen.find((r) => r.method === 'tools/call')!;
      assert.ok(call);
      assert.equal(call.traceparent, undefined);
      assert.equal(call.metaTraceparent, undefined);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(receiver.requests.length, 0);
    } finally {
      await cluster.stop();
      await proxy.close();
      await legacy.close();
      await receiver.close();
    }
  });
});
