/**
 * What may reach a log line of an object the service did not build itself. Driver errors carry their
 * driver: pg-pool puts the whole `pg.Client` on an idle connection's error (`err.client`, ~5 KB with its
 * connection parameters, password included), and HTTP/Redis errors carry sockets, requests and options.
 * The error serializer keeps an error's own facts (type, message, stack, code and other plain fields,
 * causes) and replaces every class instance with its class name; credentials inside URLs
 * (`scheme://user:password@host`) are masked in every string of every log line.
 */
const MAX_DEPTH = 4;
const MAX_STRING = 4_000;
/** `scheme://user:password@` (and `scheme://:password@`): the password part is masked. */
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s"']*):[^@/?#\s"']*@/gi;

/** Masks the password of every URL in `s` and bounds its length. */
export function scrubString(s: string): string {
  const masked = s.includes('://') ? s.replace(URL_CREDENTIALS, '$1:[redacted]@') : s;
  return masked.length > MAX_STRING ? `${masked.slice(0, MAX_STRING)}…[${masked.length - MAX_STRING} more characters]` : masked;
}

const isPlain = (v: object) => {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null || Array.isArray(v);
};

/** A copy of `value` safe to log: strings scrubbed, plain objects and arrays walked, errors serialized, other instances named. */
export function scrubValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubString(value);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return depth < MAX_DEPTH ? serializeError(value, depth) : `[${value.name}]`;
  if (value instanceof Date) return value;
  if (!isPlain(value)) return `[${value.constructor?.name ?? 'object'}]`;
  if (depth >= MAX_DEPTH) return Array.isArray(value) ? '[array]' : '[object]';
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => scrubValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubValue(v, depth + 1);
  return out;
}

/**
 * An error as pino's standard serializer shows it (type, message, stack, own fields, cause, an
 * AggregateError's errors), with every field scrubbed: class instances among its fields (pg-pool's
 * `client`) become their class name.
 */
export function serializeError(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error)) return scrubValue(err, depth);
  const out: Record<string, unknown> = { type: err.constructor?.name ?? err.name, message: scrubString(err.message) };
  if (err.stack) out.stack = scrubString(err.stack);
  for (const [k, v] of Object.entries(err)) out[k] = scrubValue(v, depth + 1);
  if (err.cause !== undefined) out.cause = scrubValue(err.cause, depth + 1);
  if (err instanceof AggregateError) out.errors = scrubValue(err.errors, depth + 1);
  return out;
}
