/**
 * What a limit is and which calls it counts: the admin API's input schema (validated with messages that
 * say what to write instead), the matching of a call or request against a tenant's limits, and the name
 * of the counter each matching limit consumes. Pure: no I/O (the service in ./limit-service.ts reads the
 * definitions and counts).
 *
 * A limit selects calls (tool glob, key id, user, virtual server; absent = any) and splits its counter
 * `per` dimension, so one definition can say "each user 100 calls a day of `search__*`" (selector tool,
 * per user) or "this key 10 calls a minute of each tool" (selector key, per tool).
 */
import picomatch from 'picomatch';
import { z } from 'zod';
import type { Principal } from '../../domain/principal.js';
import type { LimitDimension, LimitRecord, LimitWrite } from '../../store/pg/limit-store.js';

/** Seconds of a UTC day: a quota's window. */
export const DAY_SECONDS = 86_400;

const DIMENSIONS = ['key', 'user', 'server', 'tool'] as const satisfies readonly LimitDimension[];
const NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RATE = /^(\d{1,9})\/(\d{1,6})?(s|m|h)$/;
const QUOTA = /^(\d{1,9})\/(1?d|day)$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600 } as const;

/** Parses `N/<window>` (10/60s, 100/1m, 5000/1h, 3/s): the count and the window in seconds, or undefined. */
export function parseRate(text: string): { max: number; windowSeconds: number } | undefined {
  const m = RATE.exec(text.trim());
  if (!m) return undefined;
  const windowSeconds = Number(m[2] ?? '1') * UNIT_SECONDS[m[3] as keyof typeof UNIT_SECONDS];
  const max = Number(m[1]);
  return max >= 1 && windowSeconds >= 1 && windowSeconds <= DAY_SECONDS ? { max, windowSeconds } : undefined;
}

/** Parses `N/day` (also `N/d`, `N/1d`): the daily count, or undefined. */
export function parseQuota(text: string): number | undefined {
  const m = QUOTA.exec(text.trim());
  const max = m ? Number(m[1]) : 0;
  return max >= 1 ? max : undefined;
}

/** Body of `PUT /tenants/:t/limits/:name`. */
export const LimitBody = z
  .strictObject({
    appliesTo: z.enum(['calls', 'requests']).default('calls'),
    tool: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9_.\-/*?{}[\],!]+$/, 'tool must be a tool name or glob (letters, digits, _ . - / and glob characters * ? {} [] , !)')
      .optional(),
    key: z.string().regex(UUID, 'key must be an API key id (a uuid, as `keys list` shows it)').optional(),
    user: z
      .string()
      .min(1)
      .max(256)
      .regex(/^[^\s\u0000-\u001f]+$/, 'user must be a subject without spaces or control characters')
      .optional(),
    server: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'server must be a virtual server name')
      .optional(),
    per: z.array(z.enum(DIMENSIONS)).max(4).default([]),
    rate: z.string().optional(),
    quota: z.string().optional(),
    action: z.enum(['reject', 'log']).default('reject'),
  })
  .superRefine((b, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (b.rate === undefined && b.quota === undefined) issue('rate', 'a limit needs rate (e.g. "10/60s") or quota (e.g. "1000/day")');
    if (b.rate !== undefined && b.quota !== undefined) issue('quota', 'give rate or quota, not both (define two limits for both)');
    if (b.rate !== undefined && !parseRate(b.rate))
      issue('rate', `rate must look like <count>/<window> with a window of 1 s to 24 h, e.g. "10/60s", "100/1m", "5000/1h" (got ${JSON.stringify(b.rate)})`);
    if (b.quota !== undefined && parseQuota(b.quota) === undefined)
      issue('quota', `quota must look like <count>/day, e.g. "1000/day" (got ${JSON.stringify(b.quota)})`);
    if (new Set(b.per).size !== b.per.length) issue('per', 'per names a dimension twice');
    if (b.tool !== undefined) {
      try {
        picomatch(b.tool);
      } catch (err) {
        issue('tool', `tool is not a valid glob: ${(err as Error).message}`);
      }
    }
    if (b.appliesTo === 'requests') {
      // An HTTP request names no tool (a batch or a session's GET names none), and the virtual server is a
      // per-call fact: such limits count tools/call.
      if (b.tool !== undefined || b.server !== undefined || b.per.some((d) => d === 'tool' || d === 'server'))
        issue('appliesTo', 'a requests limit counts every HTTP request to /mcp, which names no tool or server: drop tool/server or use appliesTo "calls"');
    }
  });
export type LimitBody = z.output<typeof LimitBody>;

/** Checks a limit name (path segment of the admin API); the reason when it is not one. */
export function invalidLimitName(name: string): string | undefined {
  if (!NAME.test(name)) return `invalid limit name ${JSON.stringify(name)}: 1-63 lower-case letters, digits, _ . or -, starting with a letter or digit`;
  if (name === 'usage') return 'the limit name "usage" is reserved (GET /tenants/:tenant/limits/usage reports counters)';
  return undefined;
}

/** The stored form of a validated body. */
export function limitWrite(tenantId: string, name: string, b: LimitBody): LimitWrite {
  const rate = b.rate !== undefined ? parseRate(b.rate) : undefined;
  return {
    tenantId,
    name,
    appliesTo: b.appliesTo,
    match: {
      ...(b.tool !== undefined && { tool: b.tool }),
      ...(b.key !== undefined && { key: b.key.toLowerCase() }),
      ...(b.user !== undefined && { user: b.user }),
      ...(b.server !== undefined && { server: b.server }),
    },
    per: b.per,
    kind: rate ? 'rate' : 'quota',
    max: rate ? rate.max : parseQuota(b.quota!)!,
    windowSeconds: rate ? rate.windowSeconds : DAY_SECONDS,
    action: b.action,
  };
}

/** The limit as the admin API shows it. */
export function limitJson(l: LimitRecord): Record<string, unknown> {
  return {
    id: l.id,
    name: l.name,
    appliesTo: l.appliesTo,
    match: l.match,
    per: l.per,
    kind: l.kind,
    max: l.max,
    windowSeconds: l.windowSeconds,
    action: l.action,
    summary: describeLimit(l),
    version: l.version,
    createdAt: l.createdAt.toISOString(),
    updatedAt: l.updatedAt.toISOString(),
  };
}

/** `10 per 60 s` / `1000 per UTC day`. */
export function describeLimit(l: Pick<LimitRecord, 'kind' | 'max' | 'windowSeconds'>): string {
  return l.kind === 'quota' ? `${l.max} per UTC day` : `${l.max} per ${l.windowSeconds} s`;
}

/** The facts about one call or request a limit may select on. */
export interface LimitSubject {
  readonly tenantId: string;
  /** The API key id (API-key callers only). */
  readonly key?: string;
  /** The principal's subject (`key:<id>`, `oauth:<sub>`, `anonymous`). */
  readonly user: string;
  /** The virtual server the call came through (empty when none). */
  readonly server?: string;
  /** The tool name the caller sent (calls only). */
  readonly tool?: string;
}

/** The subject of a principal's request, or of its call of `tool`. */
export function limitSubject(principal: Principal, tool?: string): LimitSubject {
  return {
    tenantId: principal.tenantId,
    ...(principal.kind === 'api-key' && principal.subject.startsWith('key:') && { key: principal.subject.slice(4) }),
    user: principal.subject,
    ...(principal.server && { server: principal.server }),
    ...(tool !== undefined && { tool }),
  };
}

/** A limit with its tool glob compiled. */
export interface CompiledLimit {
  readonly limit: LimitRecord;
  matches(s: LimitSubject): boolean;
}

/** Compiles a limit's selectors once per definition version. */
export function compileLimit(limit: LimitRecord): CompiledLimit {
  const tool = limit.match.tool !== undefined ? picomatch(limit.match.tool, { dot: true }) : undefined;
  const { key, user, server } = limit.match;
  return {
    limit,
    matches: (s) =>
      (tool === undefined || (s.tool !== undefined && tool(s.tool))) &&
      (key === undefined || s.key === key) &&
      (user === undefined || s.user === user || s.user === `oauth:${user}`) &&
      (server === undefined || s.server === server),
  };
}

/** The UTC day of `nowMs` as `YYYY-MM-DD`, and the ms left of it. */
export function utcDay(nowMs: number): { day: string; msLeft: number } {
  const day = new Date(nowMs).toISOString().slice(0, 10);
  return { day, msLeft: DAY_SECONDS * 1000 - (nowMs % (DAY_SECONDS * 1000)) };
}

const enc = (v: string | undefined) => (v === undefined || v === '' ? '-' : encodeURIComponent(v));

/**
 * The counter a limit consumes for a subject: `<tenant>:<limit id>:<window>:<bucket>`, where window is
 * `r<seconds>` for a rate (a changed window starts afresh) or `d<YYYY-MM-DD>` for a quota, and bucket is
 * `all` or the `per` dimensions' values (`user=oauth%3Aalice,tool=search`; `-` when the call has none).
 */
export function counterName(limit: LimitRecord, s: LimitSubject, nowMs: number): string {
  const window = limit.kind === 'quota' ? `d${utcDay(nowMs).day}` : `r${limit.windowSeconds}`;
  const bucket = limit.per.length ? limit.per.map((d) => `${d}=${enc(s[d])}`).join(',') : 'all';
  return `${limit.tenantId}:${limit.id}:${window}:${bucket}`;
}

/** The parts of a counter name (for usage reports). */
export function parseCounterName(name: string): { limitId: string; window: string; bucket: Record<string, string> } | undefined {
  const [, limitId, window, bucket, ...rest] = name.split(':');
  if (!limitId || !window || bucket === undefined || rest.length) return undefined;
  const parts: Record<string, string> = {};
  if (bucket !== 'all') {
    for (const p of bucket.split(',')) {
      const i = p.indexOf('=');
      if (i > 0) parts[p.slice(0, i)] = decodeURIComponent(p.slice(i + 1));
    }
  }
  return { limitId, window, bucket: parts };
}
