/**
 * The service logger: pino, one JSON object per line on stdout, with `requestId` / `tenantId` merged from
 * the AsyncLocalStorage context and credentials redacted wherever they appear in logged objects: known
 * field names (REDACT_PATHS), passwords inside URLs, and driver objects hanging off errors (serializers.ts).
 */
import { pino, type Logger, type LoggerOptions } from 'pino';
import { currentLogContext } from './context.js';
import { scrubString, scrubValue, serializeError } from './serializers.js';

export type { Logger } from 'pino';

/**
 * Paths pino censors. Wildcards cover one level of nesting, which is where request/headers/config
 * objects put them; callers must still never log a raw secret as a message string.
 */
export const REDACT_PATHS = [
  'authorization',
  'headers.authorization',
  '*.headers.authorization',
  'headers.cookie',
  '*.headers.cookie',
  'apiKey',
  '*.apiKey',
  'api_key',
  '*.api_key',
  'plainKey',
  '*.plainKey',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'refreshToken',
  '*.refreshToken',
  'adminToken',
  '*.adminToken',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'clientSecret',
  '*.clientSecret',
  'ADMIN_TOKEN',
  '*.ADMIN_TOKEN',
  'SECRETS_MASTER_KEY',
  '*.SECRETS_MASTER_KEY',
  'DATABASE_URL',
  '*.DATABASE_URL',
  'REDIS_URL',
  '*.REDIS_URL',
  'REDIS_CACHE_URL',
  '*.REDIS_CACHE_URL',
  'connectionString',
  '*.connectionString',
  'bearer',
  '*.bearer',
  'credentials',
  '*.credentials',
  'REQUEST_STATE_KEYS',
  '*.REQUEST_STATE_KEYS',
  // Collector credentials (docs/tracing.md).
  'OTEL_EXPORTER_OTLP_HEADERS',
  '*.OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
  '*.OTEL_EXPORTER_OTLP_TRACES_HEADERS',
];

/** Options for createLogger. */
export interface CreateLoggerOptions {
  /** pino level; @defaultValue 'info' */
  level?: string;
  /** Static fields on every line (e.g. region, version). */
  base?: Record<string, unknown>;
  /** Destination stream; @defaultValue stdout */
  destination?: NodeJS.WritableStream;
}

/** Builds the process logger. */
export function createLogger(opts: CreateLoggerOptions = {}): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? 'info',
    base: { pid: process.pid, ...opts.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // Errors keep their facts, not their driver objects (serializers.ts); every other field is scrubbed too.
    serializers: { err: serializeError, error: serializeError },
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => scrubValue(object, -1) as Record<string, unknown>,
    },
    // The message string too: a URL with a password in an interpolated message is masked.
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? scrubString(a) : a)) as Parameters<typeof method>);
      },
    },
    mixin: () => {
      const ctx = currentLogContext();
      return ctx ? { ...ctx } : {};
    },
  };
  return opts.destination ? pino(options, opts.destination as pino.DestinationStream) : pino(options);
}
