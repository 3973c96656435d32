/** A small typed client of the admin API (/admin/v1) used by the CLI; errors carry the API's message. */
import { HTTP } from '../../../contract/index.js';

/** An admin API error (HTTP status + the API's code and message). */
export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: readonly string[] = [],
  ) {
    super(message);
    this.name = 'AdminApiError';
  }
}

interface NetCause {
  name?: string;
  code?: string;
  message?: string;
  errors?: NetCause[];
}

/**
 * What really stopped a request to the admin API, in one phrase: fetch only says "fetch failed" and keeps
 * the socket's, resolver's or URL parser's error in `cause` (several, one per address, as an AggregateError).
 */
export function fetchFailure(err: unknown, timeoutMs: number): string {
  const e = err as NetCause & { cause?: NetCause };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${timeoutMs} ms (is ADMIN_URL the gateway's address, and is it up?)`;
  const causes = e.cause?.errors?.length ? e.cause.errors : e.cause ? [e.cause] : [e];
  const codes = new Set(causes.map((c) => c.code));
  if (codes.has('ECONNREFUSED'))
    return 'connection refused: nothing listens there (is the platform running, e.g. `npm start`, and is ADMIN_URL the address it printed?)';
  if (codes.has('ENOTFOUND') || codes.has('EAI_AGAIN')) return `host not found (${causes[0]?.message ?? 'DNS lookup failed'})`;
  if (codes.has('ERR_INVALID_URL')) return 'ADMIN_URL is not a valid URL (expected e.g. http://127.0.0.1:8080)';
  if (causes.some((c) => c.message === 'bad port'))
    return 'bad port: fetch refuses to connect to this port (a well-known port of another protocol); the platform listens on 8080 unless PORT says otherwise';
  const detail = [...new Set(causes.map((c) => [c.code, c.message].filter(Boolean).join(': ')))].filter(Boolean).join('; ');
  return detail || (e.message ?? String(err));
}

/** What an answer that is not the admin API's own error means, with what came back (a short excerpt). */
function notAdminApi(baseUrl: string, method: string, url: string, status: number, text: string): string {
  const body = text.trim().replace(/\s+/g, ' ');
  const excerpt = body ? `: ${JSON.stringify(body.length > 120 ? `${body.slice(0, 120)}...` : body)}` : ' with an empty body';
  return `${baseUrl} does not answer as the platform's admin API (${method} ${url} got HTTP ${status}${excerpt}): is ADMIN_URL the address npm start printed (ADMIN_URL=...)?`;
}

/** Calls the admin API at `baseUrl` with `token`. */
export class AdminClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly timeoutMs = 15_000,
  ) {}

  /** Sends one request; returns the parsed JSON body (undefined for 204). */
  async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const url = `${this.baseUrl.replace(/\/+$/, '')}${HTTP.adminPrefix}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new AdminApiError(0, 'unreachable', `cannot reach the admin API at ${this.baseUrl}: ${fetchFailure(err, this.timeoutMs)}`);
    }
    if (res.status === 204) return undefined;
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      if (!res.ok) throw new AdminApiError(res.status, 'not_admin_api', notAdminApi(this.baseUrl, method, url, res.status, text));
      throw new AdminApiError(res.status, 'bad_response', `unexpected non-JSON answer (HTTP ${res.status}) from ${url}`);
    }
    if (!res.ok) {
      const e = (json as { error?: { code?: string; message?: string; issues?: string[] } } | undefined)?.error;
      // Not the admin API's error shape: something else answers at ADMIN_URL (another server, a proxy).
      if (typeof e?.message !== 'string') throw new AdminApiError(res.status, 'not_admin_api', notAdminApi(this.baseUrl, method, url, res.status, text));
      throw new AdminApiError(res.status, e.code ?? 'http_error', e.message, e.issues ?? []);
    }
    return json;
  }
}

/** Parsed command-line options, as `node:util` parseArgs returns them. */
export type CliValues = Record<string, string | boolean | string[] | undefined>;

/**
 * One command group of the admin CLI: runs the verb in `positionals` and resolves true, or resolves false
 * when the command is not one of its own; bad usage throws `usage(message)`.
 */
export type CommandRunner = (
  api: AdminClient,
  positionals: readonly string[],
  values: CliValues,
  out: (line: string) => void,
  usage: (message: string) => Error,
) => Promise<boolean>;

/**
 * The CLI's one output rule: with `--json` the API's JSON, pretty-printed; otherwise the command's own
 * human-readable lines.
 */
export function printer(json: unknown, out: (line: string) => void): (data: unknown, human: () => void) => void {
  return (data, human) => (json ? out(JSON.stringify(data, null, 2)) : human());
}

/**
 * A verb's positional arguments: `need(n, what)` returns exactly `n` of them, URL-encoded for an admin API
 * path, or throws the usage error `expected <prefix><what>`.
 */
export function positionalArgs(args: readonly string[], usage: (message: string) => Error, prefix = ''): (n: number, what: string) => string[] {
  return (n, what) => {
    if (args.length !== n) throw usage(`expected ${prefix}${what}`);
    return args.map(encodeURIComponent);
  };
}

/** A comma-separated option (`--toolsets a,b`, `--allow x,y`) as its trimmed, non-empty items; undefined when not given. */
export function commaList(value: CliValues[string]): string[] | undefined {
  return typeof value === 'string'
    ? value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean)
    : undefined;
}
