/**
 * Starts the OpenTelemetry SDK for this process from the OTEL_* keys (tracing-config.ts): an OTLP/HTTP
 * exporter (`http/protobuf` or `http/json`) behind a batch span processor, the sampler and resource the
 * environment names, W3C trace-context propagation, and AsyncLocalStorage context. Called
 * once by each process entry (gateway-main.ts, worker-main.ts, `npm start`), which flushes it on shutdown.
 *
 * Off (returns undefined, loads none of the SDK's modules, the API stays the no-op one) when no OTLP
 * endpoint is set or OTEL_SDK_DISABLED=true.
 */
import { context, diag, propagation, trace, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { setTracingEnabled } from './tracing.js';
import { parseKeyValueList, type TracingConfig } from './tracing-config.js';

/** A started SDK. */
export interface Tracing {
  /** Where spans go, and how they are encoded. */
  readonly url: string;
  readonly protocol: string;
  /** Exports what is buffered. */
  flush(): Promise<void>;
  /** Exports what is buffered and stops; spans started afterwards are dropped. */
  shutdown(): Promise<void>;
}

/** What the entry knows about the process. */
export interface TracingOptions {
  /** `service.name` unless OTEL_SERVICE_NAME names one. */
  readonly defaultServiceName: string;
  readonly version?: string;
  readonly region?: string;
  /** Export failures are logged here (warn), never thrown. */
  readonly logger?: Logger;
}

/** The URL spans are sent to: the signal's endpoint as it is, else `<endpoint>/v1/traces`; undefined when off. */
export function tracesUrl(config: TracingConfig): string | undefined {
  if (config.OTEL_SDK_DISABLED) return undefined;
  if (config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = config.OTEL_EXPORTER_OTLP_ENDPOINT;
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined;
}

/** Starts tracing, or returns undefined when it is off (see the file comment). */
export async function startTracing(config: TracingConfig, opts: TracingOptions): Promise<Tracing | undefined> {
  const url = tracesUrl(config);
  if (!url) return undefined;
  const protocol = config.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? config.OTEL_EXPORTER_OTLP_PROTOCOL;
  // Loaded only when tracing is on: a process without an endpoint pays nothing for the SDK.
  const [sdk, core, resources, hooks, exporterModule] = await Promise.all([
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/core'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/context-async-hooks'),
    protocol === 'http/json' ? import('@opentelemetry/exporter-trace-otlp-http') : import('@opentelemetry/exporter-trace-otlp-proto'),
  ]);
  const headers = {
    ...parseKeyValueList(config.OTEL_EXPORTER_OTLP_HEADERS, 'OTEL_EXPORTER_OTLP_HEADERS'),
    ...parseKeyValueList(config.OTEL_EXPORTER_OTLP_TRACES_HEADERS, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'),
  };
  const exporter = new exporterModule.OTLPTraceExporter({ url, headers, timeoutMillis: config.OTEL_EXPORTER_OTLP_TIMEOUT });

  const ratio = config.OTEL_TRACES_SAMPLER_ARG ?? 1;
  const root = {
    always_on: () => new sdk.AlwaysOnSampler(),
    always_off: () => new sdk.AlwaysOffSampler(),
    traceidratio: () => new sdk.TraceIdRatioBasedSampler(ratio),
  };
  const name = config.OTEL_TRACES_SAMPLER;
  const sampler = name.startsWith('parentbased_')
    ? new sdk.ParentBasedSampler({ root: root[name.slice('parentbased_'.length) as keyof typeof root]() })
    : root[name as keyof typeof root]();

  const attributes: Record<string, string> = {
    'service.name': opts.defaultServiceName,
    ...(opts.version && { 'service.version': opts.version }),
    ...(opts.region && { 'cloud.region': opts.region }),
    ...parseKeyValueList(config.OTEL_RESOURCE_ATTRIBUTES, 'OTEL_RESOURCE_ATTRIBUTES'),
    ...(config.OTEL_SERVICE_NAME && { 'service.name': config.OTEL_SERVICE_NAME }),
  };
  const provider = new sdk.TracerProvider({
    sampler,
    resource: resources.defaultResource().merge(resources.resourceFromAttributes(attributes)),
    spanProcessors: [
      new sdk.BatchSpanProcessor({
        exporter,
        scheduledDelayMillis: config.OTEL_BSP_SCHEDULE_DELAY,
        maxQueueSize: config.OTEL_BSP_MAX_QUEUE_SIZE,
        maxExportBatchSize: Math.min(config.OTEL_BSP_MAX_EXPORT_BATCH_SIZE, config.OTEL_BSP_MAX_QUEUE_SIZE),
        exportTimeoutMillis: config.OTEL_EXPORTER_OTLP_TIMEOUT,
      }),
    ],
  });
  // The SDK reports export failures through diag; they reach the service log (never the headers).
  if (opts.logger) {
    const log = opts.logger.child({ component: 'tracing' });
    const logger: DiagLogger = {
      error: (message) => log.warn(`tracing: ${message}`),
      warn: (message) => log.warn(`tracing: ${message}`),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    };
    diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  }
  const contextManager = new hooks.AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  // W3C trace context only: baggage is neither read nor passed on (it could carry a caller's data to upstreams).
  propagation.setGlobalPropagator(new core.W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  setTracingEnabled(true);
  opts.logger?.info({ url, protocol, sampler: name }, 'tracing: exporting spans over OTLP');

  let stopped: Promise<void> | undefined;
  return {
    url,
    protocol,
    flush: () => provider.forceFlush(),
    shutdown: () =>
      (stopped ??= (async () => {
        try {
          await provider.shutdown();
        } finally {
          setTracingEnabled(false);
          trace.disable();
          propagation.disable();
          context.disable();
          diag.disable();
        }
      })()),
  };
}
