/**
 * The service's configuration: every environment variable the gateway (and `npm start`) reads, parsed
 * once with zod at startup. Nothing else in service/src reads process.env.
 *
 * `ConfigSchema = CoreSchema.extend(McpConfigSchema.shape)`: the platform keys live here, the MCP layer's
 * keys in service/src/mcp/config.ts. Every key is documented in docs/service.md (a test checks it).
 * A bad or missing key fails fast with one line per key: its name, what was expected and what was found.
 */
import { z } from 'zod';
import { McpConfigSchema } from './mcp/config.js';
import { TasksConfigSchema } from './tasks/config.js';
import { BlobConfigSchema } from './store/blob/create-blob-store.js';
import { ObjectStorageWiringSchema } from './store/blob/object-storage-config.js';
import { CacheConfigSchema } from './store/cache/cache-config.js';
import { RoutingConfigSchema } from './store/pg/routing/routing-config.js';
import { TracingConfigSchema } from './log/tracing-config.js';

/** Thrown by loadConfig; `issues` holds one human-readable line per bad or missing key. */
export class ConfigError extends Error {
  constructor(readonly issues: readonly string[]) {
    super(`invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** True for addresses that only the local machine can reach (the anonymous mode and default allowlists depend on it). */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const list = (what: string) =>
  z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^[A-Za-z0-9._:*\[\]\/-]+$/, `a comma-separated list of ${what}`)));

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const httpUrl = z.url({ protocol: /^https?$/, error: 'an http(s) URL' });

/** Platform keys (the MCP layer adds its own in McpConfigSchema). Descriptions feed docs/service.md. */
export const CoreSchema = z.object({
  PORT: int(0, 65535).default(8080).describe('TCP port to listen on; 0 picks any free port.'),
  HOST: z.string().min(1).default('0.0.0.0').describe('Interface to bind (use 127.0.0.1 for local-only).'),
  PUBLIC_URL: httpUrl
    .optional()
    .describe('Public base URL clients use (e.g. https://mcp.example.com). The resource URL is `<PUBLIC_URL>/mcp`; default: the listening address.'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
    .describe('PostgreSQL connection URL (writer/primary).'),
  PG_POOL_MAX: int(1, 1000).default(10).describe('Maximum connections in the PostgreSQL pool of this process.'),
  PG_STATEMENT_TIMEOUT_MS: int(100, 600_000).default(15_000).describe('Server-side statement timeout for every query (ms).'),
  PG_IDLE_TIMEOUT_MS: int(1000, 3_600_000).default(30_000).describe('Close pooled connections idle this long (ms).'),
  PG_CONNECT_TIMEOUT_MS: int(100, 120_000).default(5_000).describe('Give up acquiring a new PostgreSQL connection after this long (ms).'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL')
    .describe('Redis of the "state" role: sessions, event log, pub/sub, rate limits, queue (noeviction).'),
  REDIS_CACHE_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL')
    .optional()
    .describe('Redis of the "cache" role (LRU, may be a read replica); default: REDIS_URL.'),
  REDIS_KEY_PREFIX: z.string().min(1).max(64).default('umcp:').describe('Prefix of every Redis key this service writes.'),
  ADMIN_TOKEN: z
    .string()
    .min(16, 'at least 16 characters')
    .optional()
    .describe('Bearer token of the admin API (/admin/v1); the admin API answers 404 when unset.'),
  ANONYMOUS_TENANT: z.string().optional().describe('Tenant name that requests without credentials act as. Refused unless HOST is a loopback address.'),
  TOOLSETS: list('toolset names').default(['platform', 'diagnostics']).describe('Built-in toolsets enabled for the `demo` tenant created by `npm start`.'),
  ALLOWED_HOSTS: list('host names')
    .optional()
    .describe(
      'Host header allowlist for /mcp (DNS-rebinding protection), hostnames without port; `*` disables. Default: loopback names when HOST is loopback, else the PUBLIC_URL host, else no check.',
    ),
  ALLOWED_ORIGINS: list('origin host names')
    .optional()
    .describe(
      'Origin allowlist for /mcp (hostnames, no scheme/port). Requests without Origin always pass. Default: loopback names when HOST is loopback, else none (any browser Origin is refused).',
    ),
  OAUTH_ISSUER: httpUrl.optional().describe('OAuth 2.1 authorization server (JWT `iss`); enables JWT access tokens.'),
  OAUTH_JWKS_URL: httpUrl.optional().describe('JWKS URL of the issuer (required with OAUTH_ISSUER).'),
  OAUTH_AUDIENCE: z.string().min(1).optional().describe('Expected JWT `aud`; default: the resource URL `<PUBLIC_URL>/mcp`.'),
  OAUTH_TENANT_CLAIM: z.string().min(1).default('tenant').describe('JWT claim holding the tenant name (or id).'),
  RATE_LIMIT_PER_MINUTE: int(0, 10_000_000).default(600).describe('Requests per tenant per minute across all replicas; 0 disables.'),
  RATE_LIMIT_REFUSAL_DELAY_MS: int(0, 10_000)
    .default(200)
    .describe(
      "How long a tenant already refused by the rate limit waits for each further 429 (ms, never past its Retry-After): a client looping on refusals slows down instead of taking the replica's CPU from other tenants. 0 answers at once.",
    ),
  LIMITS_COUNTER_TIMEOUT_MS: int(10, 10_000)
    .default(500)
    .describe(
      'How long the counters of the tenant-defined limits (docs/limits.md) may take per call before the call goes on without them (rates fail open) or is refused (quotas fail closed), ms.',
    ),
  MAX_BODY_BYTES: int(1024, 100 * 1024 * 1024)
    .default(4 * 1024 * 1024)
    .describe('Largest accepted request body (bytes); larger -> 413.'),
  MAX_DRAIN_BYTES: int(0, 1024 * 1024 * 1024)
    .default(128 * 1024 * 1024)
    .describe(
      'How much of a refused request body (413, 401, 429...) is read and discarded after the answer so the client receives it instead of a connection reset (bytes); beyond it the connection is closed.',
    ),
  REQUEST_TIMEOUT_MS: int(1000, 3_600_000).default(120_000).describe('Deadline for a non-streaming response (ms); later -> 504.'),
  MAX_CONNECTIONS: int(0, 1_000_000)
    .default(4096)
    .describe(
      'Open client connections per gateway process (idle keep-alive included); a request on a connection over it -> 503 + Retry-After, then closed. 0 = unlimited.',
    ),
  HEADERS_TIMEOUT_MS: int(500, 600_000)
    .default(20_000)
    .describe(
      'Slow headers: a connection whose request headers are not complete this long after it opened (or after its previous request) -> 408 and closed (ms).',
    ),
  REQUEST_RECEIVE_TIMEOUT_MS: int(500, 3_600_000)
    .default(30_000)
    .describe('Slow bodies: a request (headers + body) not fully received this long after it started -> 408 and closed (ms); at least HEADERS_TIMEOUT_MS.'),
  KEEP_ALIVE_TIMEOUT_MS: int(1_000, 600_000)
    .default(65_000)
    .describe('Close an idle keep-alive client connection after this long (ms); above the load balancer idle timeout (60 s) so the balancer closes first.'),
  SSE_STREAMS_PER_TENANT: int(0, 1_000_000)
    .default(200)
    .describe(
      'Open SSE responses per tenant on one gateway process; a GET stream or `subscriptions/listen` over it -> 429 + Retry-After (request streams are counted, never refused). 0 = unlimited.',
    ),
  SHUTDOWN_GRACE_MS: int(0, 600_000).default(25_000).describe('On SIGTERM, how long in-flight requests may take to finish (ms).'),
  API_KEY_CACHE_MS: int(0, 60_000).default(5_000).describe('How long a verified API key is cached in-process (ms); bounds how late a revocation takes effect.'),
  REGION: z.string().min(1).default('local').describe('Region name reported by the platform tools and logs.'),
  VERSION: z.string().min(1).default('0.1.0').describe('Deployment version reported by the platform tools, logs and metrics.'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino log level.'),
  SECRETS_MASTER_KEY: z
    .string()
    .refine((s) => Buffer.from(s, 'base64').length === 32, 'base64 of exactly 32 bytes')
    .optional()
    .describe(
      'Envelope-encryption master key (base64, 32 bytes) for stored secrets (upstream credentials). Without it, upstreams can only be registered without credentials.',
    ),
  SECRETS_PREVIOUS_MASTER_KEYS: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().refine((s) => Buffer.from(s, 'base64').length === 32, 'base64 of exactly 32 bytes')))
    .optional()
    .describe(
      'Retired master keys (comma-separated base64) still accepted for unwrapping until `npm run admin -- keys rotate-master` has re-wrapped every data key.',
    ),
  SECRETS_KMS_KEY_ID: z
    .string()
    .regex(
      /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[\w/-]+|alias\/[\w/-]+|(mrk-)?[0-9a-fA-F-]{32,36})$/,
      'a KMS key id, key ARN, alias/<name> or alias ARN',
    )
    .optional()
    .describe(
      'AWS KMS key that wraps the per-tenant data keys (key id, key ARN, `alias/<name>` or alias ARN); production sets it instead of SECRETS_MASTER_KEY. New data keys are wrapped by KMS Encrypt, stored as `kms:<key ARN>`; a local master key still set only unwraps keys wrapped before the switch, until `npm run admin -- keys rotate-master`. Needs kms:Encrypt and kms:Decrypt on the key.',
    ),
  SECRETS_KMS_ENDPOINT: httpUrl
    .optional()
    .describe("KMS endpoint URL (a VPC interface endpoint, or a test server); default: the public KMS endpoint of the key's region."),
  AWS_REGION: z
    .string()
    .regex(/^[a-z]{2}(-[a-z0-9]+)+$/, 'an AWS region name such as eu-west-1')
    .optional()
    .describe(
      'AWS region of the KMS calls when SECRETS_KMS_KEY_ID is not an ARN (an ARN names its region). Credentials come from the AWS SDK default chain (Pod Identity / IRSA, environment, profile).',
    ),
  FEDERATION_PAGE_SIZE: int(1, 10_000).default(100).describe('Items per page of the merged (built-in + upstream) tools/resources/templates/prompts lists.'),
  UPSTREAM_IDLE_MS: int(1_000, 86_400_000).default(300_000).describe('Close a pooled upstream client unused this long (ms).'),
  UPSTREAM_CONSENT_TTL_MS: int(5_000, 3_600_000)
    .default(600_000)
    .describe('How long a per-user upstream consent link (and its authorization round) stays valid (ms).'),
  UPSTREAM_BREAKER_THRESHOLD: int(1, 1_000).default(3).describe('Consecutive upstream failures (transport errors, timeouts) that open its circuit breaker.'),
  UPSTREAM_HALF_OPEN_MS: int(100, 3_600_000).default(5_000).describe('How long an open upstream breaker waits before a half-open probe (ms).'),
  UPSTREAM_MAX_RESPONSE_BYTES: int(64 * 1024, 1024 * 1024 * 1024)
    .default(32 * 1024 * 1024)
    .describe(
      "Largest upstream HTTP answer read (a JSON body, or one SSE response's stream; a long-lived GET stream per event), bytes. Larger -> the caller gets a JSON-RPC error (-32050) and the connection to that upstream is dropped; bounds the gateway's memory per upstream call.",
    ),
  UPSTREAM_MAX_TOOLS: int(1, 1_000_000)
    .default(5_000)
    .describe("Tools one upstream may list; more -> that upstream is marked failed in the tenant's catalog with a clear error (the rest keeps working)."),
  UPSTREAM_MAX_DESCRIPTION_BYTES: int(256, 16 * 1024 * 1024)
    .default(64 * 1024)
    .describe('Longest tool/resource/prompt description kept from an upstream listing (UTF-8 bytes); longer ones are cut and marked as truncated.'),
  UPSTREAM_ALLOWLIST: list('host names, *.suffix patterns, IPs or CIDRs')
    .optional()
    .describe(
      'Upstream hosts/addresses allowed despite the SSRF rules (loopback, private, link-local, metadata), e.g. `10.0.0.0/8,mcp.internal`. `npm start` defaults to loopback.',
    ),
});

/** The full schema: platform keys plus the MCP layer's. */
export const ConfigSchema = CoreSchema.extend(McpConfigSchema.shape)
  // Data layer (issue 8): read replicas, shards, pool sizing, cache, object storage; see docs/data-layer.md.
  .extend(RoutingConfigSchema.shape)
  .extend(CacheConfigSchema.shape)
  .extend(BlobConfigSchema.shape)
  // Large tool results by reference and the retention purge schedule (object storage wiring).
  .extend(ObjectStorageWiringSchema.shape)
  // Tasks (issue 7): worker tier, queue, retries; see docs/tasks.md.
  .extend(TasksConfigSchema.shape)
  // Traces (issue 20): the standard OTEL_* keys; see docs/tracing.md.
  .extend(TracingConfigSchema.shape);

/** Parsed configuration. */
export type Config = z.output<typeof ConfigSchema>;

/** One documented key: name, meaning and default (as text), used by docs/service.md and its test. */
export interface ConfigKeyDoc {
  readonly key: string;
  readonly description: string;
  readonly defaultValue: string | undefined;
}

/** Every configuration key with its description and default, in schema order. */
export function describeConfig(): ConfigKeyDoc[] {
  return Object.entries(ConfigSchema.shape).map(([key, schema]) => {
    const s = schema as z.ZodType;
    let defaultValue: string | undefined;
    const parsed = s.safeParse(undefined);
    if (parsed.success && parsed.data !== undefined) {
      defaultValue = Array.isArray(parsed.data) ? parsed.data.join(',') : String(parsed.data);
    }
    return { key, description: s.description ?? '', defaultValue };
  });
}

function describeIssue(issue: z.core.$ZodIssue, env: Record<string, string | undefined>): string {
  const key = String(issue.path[0] ?? '(config)');
  const raw = env[key];
  if (raw === undefined && issue.code === 'invalid_type') return `${key}: required but not set`;
  // Secrets never reach the message; other values are shown so the operator sees the typo.
  const shown = raw === undefined ? 'unset' : /TOKEN|KEY|SECRET|PASSWORD|_HEADERS$|_URL$/.test(key) ? '(value hidden)' : JSON.stringify(raw);
  // zod's default messages start with a category ("Too big: expected number to be <=65535"); keep the substance.
  const what = issue.message.replace(/^(Invalid input|Invalid option|Too big|Too small|Invalid string): /, '');
  return `${key}: ${/\bexpected\b/.test(what) ? what : `expected ${what}`} (got ${shown})`;
}

/**
 * Parses the environment once. Empty strings count as unset (common in container manifests).
 * Throws ConfigError listing every bad or missing key.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(ConfigSchema.shape)) {
    const v = env[key];
    input[key] = v === undefined || v.trim() === '' ? undefined : v.trim();
  }
  const result = ConfigSchema.safeParse(input);
  if (!result.success) throw new ConfigError(result.error.issues.map((i) => describeIssue(i, input)));
  const config = result.data;
  const issues: string[] = [];
  if (config.ANONYMOUS_TENANT !== undefined && !isLoopbackHost(config.HOST)) {
    issues.push(`ANONYMOUS_TENANT: refused because HOST=${config.HOST} is not a loopback address (anonymous mode is for local use only)`);
  }
  if ((config.OAUTH_ISSUER === undefined) !== (config.OAUTH_JWKS_URL === undefined)) {
    issues.push(
      `${config.OAUTH_ISSUER === undefined ? 'OAUTH_ISSUER' : 'OAUTH_JWKS_URL'}: required when ${config.OAUTH_ISSUER === undefined ? 'OAUTH_JWKS_URL' : 'OAUTH_ISSUER'} is set`,
    );
  }
  if (config.OAUTH_ISSUER !== undefined && config.OAUTH_AUDIENCE === undefined && config.PUBLIC_URL === undefined) {
    issues.push('OAUTH_AUDIENCE: required with OAUTH_ISSUER when PUBLIC_URL is not set (the audience defaults to <PUBLIC_URL>/mcp)');
  }
  if (config.SECRETS_KMS_KEY_ID !== undefined && !config.SECRETS_KMS_KEY_ID.startsWith('arn:') && config.AWS_REGION === undefined) {
    issues.push('AWS_REGION: required with SECRETS_KMS_KEY_ID unless it is a key or alias ARN (the ARN names the region)');
  }
  if (config.TASK_QUEUE_BACKEND === 'rabbitmq' && config.AMQP_URL === undefined) issues.push('AMQP_URL: required with TASK_QUEUE_BACKEND=rabbitmq');
  if (config.TASK_QUEUE_BACKEND === 'sqs') {
    for (const key of ['SQS_QUEUE_URL', 'SQS_DLQ_URL'] as const) if (config[key] === undefined) issues.push(`${key}: required with TASK_QUEUE_BACKEND=sqs`);
  }
  if (config.REQUEST_RECEIVE_TIMEOUT_MS < config.HEADERS_TIMEOUT_MS) {
    issues.push(
      `REQUEST_RECEIVE_TIMEOUT_MS: must be at least HEADERS_TIMEOUT_MS (${config.HEADERS_TIMEOUT_MS}); the whole request cannot arrive before its headers (got ${config.REQUEST_RECEIVE_TIMEOUT_MS})`,
    );
  }
  if (issues.length) throw new ConfigError(issues);
  return config;
}

/** For process entry points: loadConfig, or exit 1 with one line per bad or missing key (no stack trace). */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

/** Host allowlist for /mcp, or undefined for "no check" (see ALLOWED_HOSTS). */
export function allowedHosts(config: Pick<Config, 'ALLOWED_HOSTS' | 'HOST' | 'PUBLIC_URL'>): string[] | undefined {
  if (config.ALLOWED_HOSTS) return config.ALLOWED_HOSTS.includes('*') ? undefined : config.ALLOWED_HOSTS;
  if (isLoopbackHost(config.HOST)) return ['localhost', '127.0.0.1', '[::1]'];
  if (config.PUBLIC_URL) return [new URL(config.PUBLIC_URL).hostname];
  return undefined;
}

/** Origin allowlist for /mcp (requests without Origin always pass). */
export function allowedOrigins(config: Pick<Config, 'ALLOWED_ORIGINS' | 'HOST'>): string[] {
  if (config.ALLOWED_ORIGINS) return config.ALLOWED_ORIGINS;
  return isLoopbackHost(config.HOST) ? ['localhost', '127.0.0.1', '[::1]'] : [];
}
