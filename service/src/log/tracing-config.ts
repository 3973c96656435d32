/**
 * The OpenTelemetry keys the service honours (docs/tracing.md): the standard `OTEL_*` environment
 * variables, parsed with the rest of the configuration (service/src/config.ts) so a bad value stops the
 * start with one line naming the key, and documented in docs/service.md like every other key. Tracing is
 * off (no SDK loaded, the API's no-op tracer) unless an OTLP endpoint is set and OTEL_SDK_DISABLED is not.
 */
import { z } from 'zod';

/** OTLP protocols this build exports with (grpc needs a package the service does not ship). */
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

/** OTEL_TRACES_SAMPLER values this build implements (the remote Jaeger and X-Ray samplers are not). */
export const TRACE_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type TraceSampler = (typeof TRACE_SAMPLERS)[number];

const url = z.url({ protocol: /^https?$/, error: 'an http(s) URL' });
const protocol = z.enum(OTLP_PROTOCOLS, {
  error: `one of ${OTLP_PROTOCOLS.join(', ')} (grpc is not supported by this build: point it at the collector's OTLP/HTTP port, usually 4318)`,
});
const bool = z.enum(['true', 'false'], { error: 'true or false' }).transform((v) => v === 'true');
/** A `key=value,...` list, checked at start (the value is never echoed: headers may hold a collector key). */
const kvList = (key: string) =>
  z.string().superRefine((raw, ctx) => {
    try {
      parseKeyValueList(raw, key);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message.slice(key.length + 2) });
    }
  });
const ms = (def: number) => z.coerce.number().int().min(0).max(3_600_000).default(def);

/** The OTEL_* keys; descriptions feed docs/service.md. */
export const TracingConfigSchema = z.object({
  OTEL_SDK_DISABLED: bool.default(false).describe('`true` turns tracing off even when an OTLP endpoint is set.'),
  OTEL_EXPORTER_OTLP_ENDPOINT: url
    .optional()
    .describe('OTLP/HTTP base URL of the trace collector (spans go to `<endpoint>/v1/traces`). Tracing is off when neither endpoint is set.'),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url.optional().describe('Full OTLP/HTTP URL for spans, used as it is; wins over OTEL_EXPORTER_OTLP_ENDPOINT.'),
  OTEL_EXPORTER_OTLP_PROTOCOL: protocol.default('http/protobuf').describe('OTLP encoding: `http/protobuf` or `http/json` (`grpc` is refused at start).'),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: protocol.optional().describe('OTLP encoding for spans; wins over OTEL_EXPORTER_OTLP_PROTOCOL.'),
  OTEL_EXPORTER_OTLP_HEADERS: kvList('OTEL_EXPORTER_OTLP_HEADERS')
    .optional()
    .describe('Headers sent with every export, `key=value` pairs separated by commas, values URL-encoded (e.g. a collector API key; never logged).'),
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: kvList('OTEL_EXPORTER_OTLP_TRACES_HEADERS')
    .optional()
    .describe('Headers for span exports; merged over OTEL_EXPORTER_OTLP_HEADERS.'),
  OTEL_EXPORTER_OTLP_TIMEOUT: ms(10_000).describe('Timeout of one export request (ms).'),
  OTEL_SERVICE_NAME: z
    .string()
    .min(1)
    .optional()
    .describe('`service.name` of the spans; default: `unified-mcp-gateway` (gateway, `npm start`) or `unified-mcp-worker` (task worker).'),
  OTEL_RESOURCE_ATTRIBUTES: kvList('OTEL_RESOURCE_ATTRIBUTES')
    .optional()
    .describe('Extra resource attributes, `key=value` pairs separated by commas, values URL-encoded (e.g. `deployment.environment.name=prod`).'),
  OTEL_TRACES_SAMPLER: z
    .enum(TRACE_SAMPLERS, { error: `one of ${TRACE_SAMPLERS.join(', ')}` })
    .default('parentbased_always_on')
    .describe('Sampler: `always_on`, `always_off`, `traceidratio`, or `parentbased_` + one of those (a sampled caller is always followed).'),
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).optional().describe('Ratio of traces kept by the `traceidratio` samplers, 0..1; default 1.'),
  OTEL_BSP_SCHEDULE_DELAY: ms(5_000).describe('Batch span processor: most time between two exports (ms).'),
  OTEL_BSP_MAX_QUEUE_SIZE: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(2048)
    .describe('Batch span processor: spans held before new ones are dropped.'),
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: z.coerce.number().int().min(1).max(100_000).default(512).describe('Batch span processor: most spans per export request.'),
});

/** Parsed OTEL_* keys. */
export type TracingConfig = z.output<typeof TracingConfigSchema>;

/**
 * Parses a W3C-baggage-style `key=value,key2=value2` list (OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS):
 * values percent-decoded; throws naming `key` on a malformed pair.
 */
export function parseKeyValueList(raw: string | undefined, key: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const pair of raw.split(',')) {
    if (!pair.trim()) continue;
    const eq = pair.indexOf('=');
    const name = eq > 0 ? pair.slice(0, eq).trim() : '';
    if (!name) throw new Error(`${key}: expected key=value pairs separated by commas (got a pair without a key)`);
    try {
      out[name] = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      throw new Error(`${key}: the value of "${name}" is not valid percent-encoding`);
    }
  }
  return out;
}
