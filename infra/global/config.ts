/**
 * Typed, validated view of a global stack's `unified-mcp:*` config (stack `<env>-global`, `role: global`).
 *
 * Accepts both the shapes `pulumi.Config#requireObject` returns (objects, numbers, booleans) and the raw
 * strings `pulumi.runtime.allConfig()` returns (JSON text, "true", "60"), so infra/config.ts can hand over
 * either. Secrets are not here: the Cloudflare API token is `cloudflare:apiToken`, set with `--secret`.
 * Leaves out: reading regional outputs (that is `StackReference` work in region-pool.ts).
 */
import { isIP } from 'node:net';
import { z } from 'zod';

/** Cloudflare load-balancer steering region codes (geo steering `regionPools` keys). */
export const STEERING_REGIONS = ['WNAM', 'ENAM', 'WEU', 'EEU', 'NSAM', 'SSAM', 'OC', 'ME', 'NAF', 'SAF', 'SAS', 'SEAS', 'NEAS'] as const;
export type SteeringRegion = (typeof STEERING_REGIONS)[number];

/** Health-check regions use the same codes except India (`IN`) stands for the steering code `SAS`. */
export function checkRegionFor(code: SteeringRegion): string {
  return code === 'SAS' ? 'IN' : code;
}

/** Rate-limit periods Cloudflare accepts, in seconds. */
export const RATE_LIMIT_PERIODS = [10, 60, 120, 300, 600, 3600] as const;

const HEX32 = /^[0-9a-f]{32}$/;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const AWS_REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
/** `stack`, `project/stack` or `org/project/stack`, as `new pulumi.StackReference` takes. */
const STACK_NAME = /^([A-Za-z0-9_.-]+\/){0,2}[A-Za-z0-9_.-]+$/;

/** An IPv4/IPv6 address, optionally with a prefix length (`/0`..`/32`, `/0`..`/128`). */
export function isIpOrCidr(value: string): boolean {
  const [address, prefix, ...rest] = value.split('/');
  if (address === undefined || rest.length > 0) return false;
  const kind = isIP(address);
  if (kind === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (kind === 4 ? 32 : 128);
}

function fromText(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if (text.startsWith('{') || text.startsWith('[')) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return value; // left as a string: the schema then reports "expected object/array" on this key
    }
  }
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text !== '' && /^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  return value;
}

/** Wrap a schema so config text ("60", "true", JSON) is parsed before validation. */
const lenient = <T extends z.ZodType>(schema: T) => z.preprocess(fromText, schema);

const positiveInt = (min: number, max: number) => lenient(z.number().int().min(min).max(max));

/** Requests allowed per period, counted per API key (Authorization header) and per client IP. */
const limitSchema = z
  .object({
    /** Requests per period per API key / bearer token. */
    perKey: positiveInt(1, 1_000_000),
    /** Requests per period per client IP, for requests without an Authorization header. */
    perIp: positiveInt(1, 1_000_000),
  })
  .strict();
export type RateLimit = z.output<typeof limitSchema>;

const regionSchema = z
  .object({
    /** Regional stack: `prod-us-east-1` (this stack's org and project) or `acme/unified-mcp/prod-us-east-1`. */
    stack: z.string().regex(STACK_NAME, 'expected "<stack>", "<project>/<stack>" or "<org>/<project>/<stack>"'),
    /** AWS region of that stack, e.g. `us-east-1`; checked against the stack's `region` output. */
    region: z.string().regex(AWS_REGION, 'expected an AWS region such as "eu-west-1"'),
    /** Cloudflare steering regions whose clients this region serves first (geo steering). */
    geoRegions: lenient(z.array(z.enum(STEERING_REGIONS)).min(1)),
    /** Optional ISO 3166-1 alpha-2 countries pinned to this region (overrides the region mapping). */
    countries: lenient(z.array(z.string().regex(/^[A-Z]{2}$/, 'expected an ISO country code such as "DE"'))).default([]),
    /** Pool weight 0..1 for random steering; default: the stack's `steeringWeight` output. */
    weight: lenient(z.number().min(0).max(1)).optional(),
  })
  .strict();
export type GlobalRegionConfig = z.output<typeof regionSchema>;

const monitorSchema = z
  .object({
    /** Seconds between probes. @defaultValue 60 */
    intervalSeconds: positiveInt(5, 3600).default(60),
    /** Probe timeout in seconds. @defaultValue 5 */
    timeoutSeconds: positiveInt(1, 10).default(5),
    /** Retries before an origin is marked down. @defaultValue 2 */
    retries: positiveInt(0, 5).default(2),
    /** Status codes counted healthy, e.g. "200" or "2xx". @defaultValue "200" */
    expectedCodes: z
      .preprocess((v) => (typeof v === 'number' ? String(v) : v), z.string().regex(/^[1-5](\d\d|xx)$/, 'expected e.g. "200" or "2xx"'))
      .default('200'),
    /** Consecutive passes before a down origin counts healthy again (avoids flapping on return). @defaultValue 2 */
    consecutiveUp: positiveInt(1, 10).default(2),
    /** Consecutive failures before an origin counts down. @defaultValue 2 */
    consecutiveDown: positiveInt(1, 10).default(2),
  })
  .strict();

const sessionAffinitySchema = z
  .object({
    /** Header affinity on `Mcp-Session-Id` (an optimisation; the service is stateless). @defaultValue true */
    enabled: lenient(z.boolean()).default(true),
    /** Idle seconds before the affinity entry expires (Cloudflare: 30..3600). @defaultValue 1800 */
    ttlSeconds: positiveInt(30, 3600).default(1800),
  })
  .strict();

const rateLimitsSchema = z
  .object({
    /** Counting window in seconds. @defaultValue 60 */
    periodSeconds: lenient(
      z.union(
        RATE_LIMIT_PERIODS.map((p) => z.literal(p)),
        { error: `expected one of ${RATE_LIMIT_PERIODS.join(', ')}` },
      ),
    ).default(60),
    /** How long a client stays blocked after exceeding a limit, in seconds. @defaultValue 60 */
    mitigationTimeoutSeconds: positiveInt(10, 86_400).default(60),
    /** Limits per `Mcp-Method` value. @defaultValue `{"tools/call": {perKey: 120, perIp: 30}}` */
    methods: lenient(z.record(z.string().regex(/^[a-z][a-zA-Z/_]*$/, 'expected an MCP method such as "tools/call"'), limitSchema)).default({
      'tools/call': { perKey: 120, perIp: 30 },
    }),
    /** Limit for any other `Mcp-Method`. @defaultValue `{perKey: 1200, perIp: 300}` */
    otherMethods: lenient(limitSchema).default({ perKey: 1200, perIp: 300 }),
    /** Limit for 2025-era requests to /mcp without `Mcp-Method`. @defaultValue `{perKey: 600, perIp: 120}` */
    legacy: lenient(limitSchema).default({ perKey: 600, perIp: 120 }),
    /**
     * Ceiling on all /mcp requests per client IP, whatever the key: a client rotating made-up bearer
     * tokens would otherwise get a fresh per-key budget with every value. @defaultValue 3000
     */
    ipCeiling: positiveInt(1, 1_000_000).default(3000),
  })
  .strict();

const hstsSchema = z
  .object({
    /** @defaultValue 31536000 (one year) */
    maxAgeSeconds: positiveInt(0, 63_072_000).default(31_536_000),
    /** @defaultValue true */
    includeSubdomains: lenient(z.boolean()).default(true),
    /** @defaultValue false (preload is hard to undo) */
    preload: lenient(z.boolean()).default(false),
  })
  .strict();

/** Schema of the `unified-mcp:*` keys of a global stack (keys without the namespace). */
export const globalConfigSchema = z
  .object({
    /** Selects the global program. */
    role: z.literal('global'),
    /** Environment name, e.g. `prod`; every regional stack must report the same. */
    environment: z.string().regex(/^[a-z][a-z0-9-]{1,30}$/, 'expected e.g. "prod"'),
    /** Cloudflare account id (monitors, pools, notifications are account-level). */
    accountId: z.string().regex(HEX32, 'expected a 32-character hex Cloudflare account id'),
    /** Cloudflare zone id of `domain`. */
    zoneId: z.string().regex(HEX32, 'expected a 32-character hex Cloudflare zone id'),
    /** Zone apex, e.g. `example.com`; the MCP hostname and every regional hostname must be inside it. */
    domain: z.string().regex(HOSTNAME, 'expected a lower-case DNS name such as "example.com"'),
    /** Public MCP hostname served by the global load balancer, e.g. `mcp.example.com`. */
    mcpHostname: z.string().regex(HOSTNAME, 'expected a lower-case DNS name such as "mcp.example.com"'),
    /** Regional stacks behind the load balancer, primary first by convention. */
    regions: lenient(z.array(regionSchema).min(1, 'list at least one regional stack')),
    /** Region (AWS name) of the fallback pool; default: the stack whose `isPrimary` output is true. */
    fallbackRegion: z.string().regex(AWS_REGION, 'expected an AWS region such as "us-east-1"').optional(),
    /**
     * Host header (and so the certificate name) the origins get: `regional` sends each region's own public
     * hostname (the host of its `healthUrl`, which its ingress rule and certificate cover); `public` sends
     * the MCP hostname, which then must be on every regional ingress and certificate too.
     * @defaultValue "regional"
     */
    originHost: z.enum(['regional', 'public']).default('regional'),
    /** Steer by measured round-trip time (dynamic_latency) instead of the geo map. @defaultValue false */
    latencySteering: lenient(z.boolean()).default(false),
    sessionAffinity: lenient(sessionAffinitySchema).prefault({}),
    monitor: lenient(monitorSchema).prefault({}),
    rateLimits: lenient(rateLimitsSchema).prefault({}),
    /** Largest request body accepted on /mcp at the edge, in bytes. @defaultValue 1048576 */
    maxBodyBytes: positiveInt(1024, 100 * 1024 * 1024).default(1_048_576),
    /** `MCP-Protocol-Version` values that must carry the routing headers. @defaultValue ["2026-07-28"] */
    routingHeaderVersions: lenient(z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/)).min(1)).default(['2026-07-28']),
    /**
     * How the oversized-body rule measures a body: `body` uses `http.request.body.size` (exact, also chunked
     * uploads; Enterprise add-on), `content-length` matches the header with a regular expression (Business+).
     * @defaultValue "body"
     */
    bodySizeSource: z.enum(['body', 'content-length']).default('body'),
    /**
     * Networks allowed to reach the admin API (`/admin`) through the edge, as IPv4/IPv6 addresses or CIDRs;
     * empty leaves it to the admin key alone. @defaultValue []
     */
    adminAllowedCidrs: lenient(z.array(z.string().refine(isIpOrCidr, 'expected an IP address or CIDR such as "203.0.113.0/24"'))).default([]),
    /** Refuse /metrics at the edge (Prometheus scrapes inside the cluster). @defaultValue true */
    blockMetricsAtEdge: lenient(z.boolean()).default(true),
    /** Where pool health notifications go. */
    notificationEmails: z.preprocess(
      (v) => (typeof v === 'string' && !v.trim().startsWith('[') ? [v] : fromText(v)),
      z.array(z.email()).min(1, 'list at least one address'),
    ),
    /** Minimum TLS version at the edge. @defaultValue "1.2" */
    minTlsVersion: z
      .preprocess((v) => (typeof v === 'number' ? v.toFixed(1) : v), z.enum(['1.2', '1.3'])) // JSON-decoded "1.2" is a number
      .default('1.2'),
    hsts: lenient(hstsSchema).prefault({}),
    /** Edge TTL of the content-hashed /assets/*, in seconds. @defaultValue 31536000 */
    assetsEdgeTtlSeconds: positiveInt(60, 31_536_000).default(31_536_000),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    if (cfg.mcpHostname !== cfg.domain && !cfg.mcpHostname.endsWith(`.${cfg.domain}`)) {
      ctx.addIssue({ code: 'custom', path: ['mcpHostname'], message: `must be inside the zone "${cfg.domain}"` });
    }
    const seen = { stack: new Map<string, number>(), region: new Map<string, number>() };
    const geo = new Map<string, number>();
    cfg.regions.forEach((r, i) => {
      for (const key of ['stack', 'region'] as const) {
        const first = seen[key].get(r[key]);
        if (first !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['regions', i, key], message: `"${r[key]}" already used by regions[${first}]` });
        } else seen[key].set(r[key], i);
      }
      r.geoRegions.forEach((code, j) => {
        const first = geo.get(code);
        if (first !== undefined && first !== i) {
          ctx.addIssue({ code: 'custom', path: ['regions', i, 'geoRegions', j], message: `"${code}" already mapped to regions[${first}]` });
        } else geo.set(code, i);
      });
    });
    if (cfg.fallbackRegion !== undefined && !cfg.regions.some((r) => r.region === cfg.fallbackRegion)) {
      ctx.addIssue({ code: 'custom', path: ['fallbackRegion'], message: `"${cfg.fallbackRegion}" is not one of regions[].region` });
    }
  });

/** Validated global stack config (defaults resolved). */
export type GlobalConfig = z.output<typeof globalConfigSchema>;
/** What a stack file (or a test) may write: optional keys may be left out. */
export type GlobalConfigInput = z.input<typeof globalConfigSchema>;

/** Thrown when a global stack's config does not validate; the message names each bad key. */
export class GlobalConfigError extends Error {
  constructor(
    message: string,
    readonly issues: readonly { key: string; message: string }[],
  ) {
    super(message);
    this.name = 'GlobalConfigError';
  }
}

/**
 * Parse the `unified-mcp:*` keys (namespace stripped or not) of global stack `stack`.
 * @throws GlobalConfigError naming every failing key, e.g. `unified-mcp:regions[1].geoRegions[0]`.
 */
export function parseGlobalConfig(raw: Record<string, unknown>, stack = 'prod-global'): GlobalConfig {
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key.includes(':') && !key.startsWith('unified-mcp:')) continue; // other namespaces (cloudflare:, aws:)
    values[key.replace(/^unified-mcp:/, '')] = value;
  }
  const result = globalConfigSchema.safeParse(values);
  if (result.success) return result.data;
  const issues = result.error.issues.flatMap((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k]) : [issue.path];
    return keys.map((path) => ({ key: `unified-mcp:${formatPath(path)}`, message: issue.message }));
  });
  const lines = issues.map((i) => `  ${i.key}: ${i.message}`);
  throw new GlobalConfigError(`Invalid config in stack "${stack}":\n${lines.join('\n')}`, issues);
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}
