/**
 * The limits of a tenant at run time: definitions read through the shared tiered cache (LRU -> Redis ->
 * PostgreSQL on the tenant's shard; a change made through any replica drops every replica's copy over the
 * invalidation bus), and their counters consumed in the state Redis in one script per call (check all,
 * consume all or nothing: a refused call consumes no limit).
 *
 * When the counters cannot be read (Redis down, or slower than LIMITS_COUNTER_TIMEOUT_MS), rates fail open
 * (a rate protects against bursts; refusing every call because of the limiter would be the larger outage)
 * and quotas fail closed (a quota is a budget: calls that cannot be counted cannot be billed against it).
 * Both are counted in umcp_limit_counter_errors_total.
 */
import { ProtocolError } from '@modelcontextprotocol/server';
import client, { type Registry } from 'prom-client';
import { z } from 'zod';
import { METRICS } from '../../../../contract/index.js';
import type { Principal } from '../../domain/principal.js';
import type { Logger } from '../../log/logger.js';
import { LimitErrorCode } from '../../protocol/errors.js';
import type { TieredCache } from '../../store/cache/tiered-cache.js';
import type { LimitRecord, LimitWrite, PgLimitStore } from '../../store/pg/limit-store.js';
import type { LimitCheck, RedisLimitCounters } from '../../store/redis/rate-limiter.js';
import { compileLimit, counterName, describeLimit, limitSubject, parseCounterName, utcDay, type CompiledLimit, type LimitSubject } from './limit-rules.js';

/** Cache namespace of the definitions (key: tenant id). */
export const LIMITS_NS = 'limits.v1';

const Cached = z.array(
  z.object({
    id: z.string(),
    tenantId: z.string(),
    name: z.string(),
    appliesTo: z.enum(['calls', 'requests']),
    match: z.object({ tool: z.string().optional(), key: z.string().optional(), user: z.string().optional(), server: z.string().optional() }),
    per: z.array(z.enum(['key', 'user', 'server', 'tool'])),
    kind: z.enum(['rate', 'quota']),
    max: z.number().int(),
    windowSeconds: z.number().int(),
    action: z.enum(['reject', 'log']),
    version: z.number().int(),
    createdAt: z.coerce.date(),
    updatedAt: z.coerce.date(),
  }),
);

/** Why a call or request was refused. */
export interface LimitRefusal {
  readonly limit: LimitRecord;
  /** `exceeded`: the limit is full; `counters-unavailable`: a quota whose counters could not be read. */
  readonly reason: 'exceeded' | 'counters-unavailable';
  readonly retryAfterSeconds: number;
  readonly message: string;
  /** The JSON-RPC error's `data`. */
  readonly data: Record<string, unknown>;
}

/** Options of LimitService. */
export interface LimitServiceOptions {
  readonly store: PgLimitStore;
  readonly cache: TieredCache;
  readonly counters: RedisLimitCounters;
  readonly logger: Logger;
  /** How long a counter script may take before the call goes on without it (rates) or is refused (quotas), ms. @defaultValue 500 */
  readonly counterTimeoutMs?: number;
  /** Lifetime of the cached definitions in Redis, ms (changes invalidate at once). @defaultValue 300000 */
  readonly cacheTtlMs?: number;
  readonly registry?: Registry;
  /** @defaultValue Date.now */
  readonly now?: () => number;
}

/** One entry of a usage report. */
export interface LimitUsage {
  readonly limitId: string;
  readonly limit: string;
  readonly kind: 'rate' | 'quota';
  readonly max: number;
  readonly windowSeconds: number;
  /** The `per` dimensions' values of this counter (empty for a limit that is not split). */
  readonly bucket: Record<string, string>;
  readonly used: number;
  readonly resetsInSeconds: number;
}

type Labels = 'limit_id' | 'limit' | 'kind';

class CounterTimeout extends Error {}

/** Definitions, enforcement and reports of the tenants' limits. */
export class LimitService {
  private readonly compiled = new WeakMap<object, CompiledLimit[]>();
  private readonly consumed: client.Counter<Labels> | undefined;
  private readonly refusals: client.Counter<Labels | 'action'> | undefined;
  private readonly counterErrors: client.Counter<'kind' | 'outcome'> | undefined;
  private readonly now: () => number;
  private readonly timeoutMs: number;

  constructor(private readonly opts: LimitServiceOptions) {
    this.now = opts.now ?? Date.now;
    this.timeoutMs = opts.counterTimeoutMs ?? 500;
    const r = opts.registry;
    if (r) {
      const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
        (r.getSingleMetric(name) as client.Counter<L> | undefined) ?? new client.Counter<L>({ name, help, labelNames, registers: [r] });
      this.consumed = counter(METRICS.limitConsumed, 'Units consumed per limit (tenant-defined limits).', ['limit_id', 'limit', 'kind']);
      this.refusals = counter(METRICS.limitRefusals, 'Calls or requests past a limit: refused (action reject) or let through (action log).', [
        'limit_id',
        'limit',
        'kind',
        'action',
      ]);
      this.counterErrors = counter(METRICS.limitCounterErrors, 'Limit checks whose counters could not be read: failed open (allowed) or closed (refused).', [
        'kind',
        'outcome',
      ]);
    }
  }

  /** The tenant's limits, compiled (cached; an unchanged cached list is compiled once). */
  async limits(tenantId: string): Promise<CompiledLimit[]> {
    const list = await this.opts.cache.get(LIMITS_NS, tenantId, () => this.opts.store.list(tenantId), {
      schema: Cached,
      ttlMs: this.opts.cacheTtlMs ?? 300_000,
    });
    let compiled = this.compiled.get(list);
    if (!compiled) {
      compiled = list.map(compileLimit);
      this.compiled.set(list, compiled);
    }
    return compiled;
  }

  /** Counts a tools/call against the caller's `calls` limits; throws the JSON-RPC error naming the limit. */
  async checkCall(principal: Principal, tool: string): Promise<void> {
    const refusal = await this.check('calls', limitSubject(principal, tool));
    if (refusal) throw new ProtocolError(LimitErrorCode.Exceeded, refusal.message, refusal.data);
  }

  /** Counts an HTTP request against the caller's `requests` limits; the refusal, or undefined. */
  checkRequest(principal: Principal): Promise<LimitRefusal | undefined> {
    return this.check('requests', limitSubject(principal));
  }

  private async check(appliesTo: 'calls' | 'requests', subject: LimitSubject): Promise<LimitRefusal | undefined> {
    const all = await this.limits(subject.tenantId);
    if (all.length === 0) return undefined;
    const matching = all.filter((c) => c.limit.appliesTo === appliesTo && c.matches(subject)).map((c) => c.limit);
    if (matching.length === 0) return undefined;
    const now = this.now();
    const day = utcDay(now);
    const checks: LimitCheck[] = matching.map((l) => ({
      counter: counterName(l, subject, now),
      max: l.max,
      // A quota's counter outlives its day by a minute, so a replica whose clock is a little behind still finds it.
      expiryMs: l.kind === 'quota' ? day.msLeft + 60_000 : l.windowSeconds * 1000,
      enforce: l.action === 'reject',
    }));
    let result;
    try {
      result = await this.withTimeout(this.opts.counters.consume(checks));
    } catch (err) {
      return this.countersUnavailable(matching, err, day.msLeft);
    }
    if (!result.allowed) {
      // The caller waits for the last of the full limits; that one is named.
      let worst: { limit: LimitRecord; retryAfterMs: number } | undefined;
      for (const r of result.refused) {
        const limit = matching[r.index]!;
        const retryAfterMs = limit.kind === 'quota' ? day.msLeft : r.retryAfterMs;
        this.refusals?.inc({ ...this.labels(limit), action: 'reject' });
        if (!worst || retryAfterMs > worst.retryAfterMs) worst = { limit, retryAfterMs };
      }
      return this.refusal(worst!.limit, 'exceeded', Math.max(1, Math.ceil(worst!.retryAfterMs / 1000)));
    }
    matching.forEach((l, i) => {
      this.consumed?.inc(this.labels(l));
      if (l.action === 'log' && result.counts[i]! > l.max) {
        this.refusals?.inc({ ...this.labels(l), action: 'log' });
        this.opts.logger.info({ tenantId: l.tenantId, limit: l.name, count: result.counts[i], max: l.max }, 'limit exceeded (action log: let through)');
      }
    });
    return undefined;
  }

  private countersUnavailable(matching: readonly LimitRecord[], err: unknown, msLeftOfDay: number): LimitRefusal | undefined {
    const quota = matching.find((l) => l.kind === 'quota' && l.action === 'reject');
    const kind = quota ? 'quota' : 'rate';
    this.counterErrors?.inc({ kind, outcome: quota ? 'refused' : 'allowed' });
    this.opts.logger.warn(
      { err: (err as Error).message, limits: matching.map((l) => l.name) },
      quota ? 'limit counters unavailable: quota fails closed' : 'limit counters unavailable: rates fail open',
    );
    if (!quota) return undefined;
    // Retry soon: the counters are usually back within seconds, and the day's budget is not known to be spent.
    return this.refusal(quota, 'counters-unavailable', Math.min(5, Math.max(1, Math.ceil(msLeftOfDay / 1000))));
  }

  private refusal(limit: LimitRecord, reason: LimitRefusal['reason'], retryAfterSeconds: number): LimitRefusal {
    const what = limit.appliesTo === 'calls' ? 'calls' : 'requests';
    const message =
      reason === 'exceeded'
        ? `Limit "${limit.name}" exceeded: ${describeLimit(limit)} ${what} (${limit.kind}); retry after ${retryAfterSeconds} s`
        : `Limit "${limit.name}" (${describeLimit(limit)} ${what}, quota) cannot be checked right now: its counters are unavailable; retry after ${retryAfterSeconds} s`;
    return {
      limit,
      reason,
      retryAfterSeconds,
      message,
      data: {
        reason: reason === 'exceeded' ? 'limit-exceeded' : 'counters-unavailable',
        limit: limit.name,
        limitId: limit.id,
        kind: limit.kind,
        max: limit.max,
        windowSeconds: limit.windowSeconds,
        appliesTo: limit.appliesTo,
        retryAfterSeconds,
      },
    };
  }

  private labels(l: LimitRecord): Record<Labels, string> {
    return { limit_id: l.id, limit: l.name, kind: l.kind };
  }

  private async withTimeout<T>(p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CounterTimeout(`limit counters did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      return await Promise.race([p, timeout]);
    } finally {
      clearTimeout(timer);
      p.catch(() => undefined);
    }
  }

  /** Every limit of the tenant (admin API). */
  list(tenantId: string): Promise<LimitRecord[]> {
    return this.opts.store.list(tenantId);
  }

  /** Creates or replaces a limit by name; every replica sees it at once. */
  async put(l: LimitWrite): Promise<{ limit: LimitRecord; created: boolean }> {
    const r = await this.opts.store.put(l);
    await this.opts.cache.invalidate(LIMITS_NS, l.tenantId);
    return r;
  }

  /** Deletes a limit by id or name; every replica stops enforcing it at once. */
  async remove(tenantId: string, idOrName: string): Promise<LimitRecord> {
    const removed = await this.opts.store.remove(tenantId, idOrName);
    await this.opts.cache.invalidate(LIMITS_NS, tenantId);
    return removed;
  }

  /** The live counters of the tenant's limits in their current window (admin API, `limits usage`). */
  async usage(tenantId: string): Promise<LimitUsage[]> {
    const limits = await this.opts.store.list(tenantId);
    const byId = new Map(limits.map((l) => [l.id, l]));
    const today = `d${utcDay(this.now()).day}`;
    const values = await this.opts.counters.read(`${tenantId}:`);
    const usage: LimitUsage[] = [];
    for (const v of values) {
      const parsed = parseCounterName(v.counter);
      const limit = parsed && byId.get(parsed.limitId);
      if (!parsed || !limit) continue;
      // Counters of a former window (a rate whose window changed, yesterday's quota) are not current.
      if (parsed.window !== (limit.kind === 'quota' ? today : `r${limit.windowSeconds}`)) continue;
      const resetsInMs = limit.kind === 'quota' ? utcDay(this.now()).msLeft : v.ttlMs;
      usage.push({
        limitId: limit.id,
        limit: limit.name,
        kind: limit.kind,
        max: limit.max,
        windowSeconds: limit.windowSeconds,
        bucket: parsed.bucket,
        used: v.count,
        resetsInSeconds: Math.max(0, Math.ceil(resetsInMs / 1000)),
      });
    }
    return usage.sort((a, b) => (a.limit === b.limit ? (JSON.stringify(a.bucket) < JSON.stringify(b.bucket) ? -1 : 1) : a.limit < b.limit ? -1 : 1));
  }
}
