/**
 * The service logger: pino, one JSON object per line on stdout, with `requestId` / `tenantId` merged from
 * the AsyncLocalStorage context and credentials redacted wherever they appear in logged objects.
 */
import { pino, type Logger, type LoggerOptions } from 'pino';
import { currentLogContext } from './context.js';

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
    formatters: { level: (label) => ({ level: label }) },
    mixin: () => {
      const ctx = currentLogContext();
      return ctx ? { ...ctx } : {};
    },
  };
  return opts.destination ? pino(options, opts.destination as pino.DestinationStream) : pino(options);
}
