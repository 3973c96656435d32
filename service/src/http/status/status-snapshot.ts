/**
 * The public status document behind /status.json: region, version and the health of the dependencies,
 * from the same readiness checks /readyz runs (PostgreSQL, Redis, migrations) plus the task queue.
 *
 * Anonymous and unauthenticated by design, so it holds nothing secret or tenant-specific (booleans and
 * queue-wide job counts only, no error messages, host names, tenants or job contents). One check run serves every request for `cacheMs`: concurrent and
 * repeated requests share it (single flight), so a flood of anonymous requests costs at most one probe
 * of each dependency per window and needs no rate limiter of its own.
 */

/** The task queue's numbers shown on the page (summed over every tenant). */
export interface QueueStats {
  readonly waiting: number;
  readonly active: number;
  readonly delayed: number;
  readonly failed: number;
  /** Jobs in the dead-letter queue. */
  readonly deadLettered: number;
  /** Age of the oldest waiting job, whole seconds (0 when none waits). */
  readonly oldestWaitingSeconds: number;
}

/**
 * Health of the task queue: true/false, or its numbers (read from Redis, so the queue is reachable);
 * a rejection or a timeout counts as false.
 */
export type QueueCheck = () => Promise<boolean | QueueStats>;

/** The JSON served at /status.json. */
export interface StatusDocument {
  readonly service: 'unified-mcp-platform';
  readonly region: string;
  readonly version: string;
  /** `ok`: every reported check passes; `draining`: shutting down; `degraded`: a check fails. */
  readonly status: 'ok' | 'degraded' | 'draining';
  /** Each dependency: true = healthy, false = failing, null = not reported by this process. */
  readonly checks: {
    readonly postgres: boolean;
    readonly redis: boolean;
    readonly migrations: boolean;
    readonly queue: boolean | null;
  };
  /** The queue's numbers when the queue check returned them, else null. */
  readonly queue: QueueStats | null;
  /** When the checks ran (ISO 8601). */
  readonly checkedAt: string;
}

/** Inputs of the status snapshot. */
export interface StatusSnapshotOptions {
  readonly region: string;
  readonly version: string;
  /** The /readyz checks (`{ postgres, redis, migrations }`); a rejection counts as every check failing. */
  readonly checkReady: () => Promise<Record<string, boolean>>;
  /**
   * The queue check. Undefined: the `queue` entry of checkReady's result if it has one, else `queue: null`
   * ("not reported"), never a guessed value.
   */
  readonly checkQueue?: QueueCheck;
  /** True while the process drains. @defaultValue () => false */
  readonly draining?: () => boolean;
  /** How long one check run is reused, in milliseconds. @defaultValue 2000 */
  readonly cacheMs?: number;
  /** Upper bound of the queue check, in milliseconds (the readiness checks bound themselves). @defaultValue 2000 */
  readonly queueTimeoutMs?: number;
  /** @defaultValue Date.now */
  readonly now?: () => number;
}

/** Returns a function producing the current (at most `cacheMs` old) status document. */
export function createStatusSnapshot(opts: StatusSnapshotOptions): () => Promise<StatusDocument> {
  const cacheMs = opts.cacheMs ?? 2_000;
  const queueTimeoutMs = opts.queueTimeoutMs ?? 2_000;
  if (!Number.isFinite(cacheMs) || cacheMs < 0) throw new Error(`status page: cacheMs must be >= 0 (got ${cacheMs})`);
  if (!Number.isFinite(queueTimeoutMs) || queueTimeoutMs <= 0) throw new Error(`status page: queueTimeoutMs must be > 0 (got ${queueTimeoutMs})`);
  const now = opts.now ?? Date.now;
  let current: { at: number; result: Promise<Pick<StatusDocument, 'checks' | 'queue' | 'checkedAt'>> } | undefined;

  const queue = async (): Promise<{ ok: boolean | null; stats: QueueStats | null }> => {
    if (!opts.checkQueue) return { ok: null, stats: null };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), queueTimeoutMs);
      timer.unref();
    });
    try {
      const r = await Promise.race([opts.checkQueue().catch(() => false as const), timeout]);
      return typeof r === 'object' && r !== null ? { ok: true, stats: statsOf(r) } : { ok: Boolean(r), stats: null };
    } finally {
      clearTimeout(timer);
    }
  };

  const run = async (): Promise<Pick<StatusDocument, 'checks' | 'queue' | 'checkedAt'>> => {
    const [ready, { ok: queueOk, stats }] = await Promise.all([opts.checkReady().catch((): Record<string, boolean> => ({})), queue()]);
    const checks = {
      postgres: ready.postgres === true,
      redis: ready.redis === true,
      migrations: ready.migrations === true,
      // Without a hook, a `queue` entry of the readiness checks counts (if the worker tier adds one there).
      queue: queueOk ?? (typeof ready.queue === 'boolean' ? ready.queue : null),
    };
    return { checks, queue: stats, checkedAt: new Date(now()).toISOString() };
  };

  return async () => {
    const t = now();
    if (!current || t - current.at >= cacheMs) current = { at: t, result: run() };
    const { checks, queue: queueStats, checkedAt } = await current.result;
    // Draining is read per request (not cached): the page says so as soon as shutdown starts.
    const draining = opts.draining?.() ?? false;
    const healthy = checks.postgres && checks.redis && checks.migrations && checks.queue !== false;
    return {
      service: 'unified-mcp-platform',
      region: opts.region,
      version: opts.version,
      status: draining ? 'draining' : healthy ? 'ok' : 'degraded',
      checks,
      queue: queueStats,
      checkedAt,
    };
  };
}

/** Only the documented fields, as non-negative whole numbers (nothing else of the check's answer leaks). */
function statsOf(r: QueueStats): QueueStats {
  const n = (v: number) => (Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);
  return {
    waiting: n(r.waiting),
    active: n(r.active),
    delayed: n(r.delayed),
    failed: n(r.failed),
    deadLettered: n(r.deadLettered),
    oldestWaitingSeconds: n(r.oldestWaitingSeconds),
  };
}
