/**
 * The public status document behind /status.json: region, version and the health of the dependencies,
 * from the same readiness checks /readyz runs (PostgreSQL, Redis, migrations) plus the task queue.
 *
 * Anonymous and unauthenticated by design, so it holds nothing secret or tenant-specific (booleans only,
 * no error messages or host names). One check run serves every request for `cacheMs`: concurrent and
 * repeated requests share it (single flight), so a flood of anonymous requests costs at most one probe
 * of each dependency per window and needs no rate limiter of its own.
 */

/** Health of the task queue: true/false, or null when this process has no queue check wired. */
export type QueueCheck = () => Promise<boolean>;

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
  let current: { at: number; result: Promise<Pick<StatusDocument, 'checks' | 'checkedAt'>> } | undefined;

  const queue = async (): Promise<boolean | null> => {
    if (!opts.checkQueue) return null;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), queueTimeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([opts.checkQueue().then(Boolean, () => false), timeout]);
    } finally {
      clearTimeout(timer);
    }
  };

  const run = async (): Promise<Pick<StatusDocument, 'checks' | 'checkedAt'>> => {
    const [ready, queueOk] = await Promise.all([opts.checkReady().catch((): Record<string, boolean> => ({})), queue()]);
    const checks = {
      postgres: ready.postgres === true,
      redis: ready.redis === true,
      migrations: ready.migrations === true,
      // Without a hook, a `queue` entry of the readiness checks counts (if the worker tier adds one there).
      queue: queueOk ?? (typeof ready.queue === 'boolean' ? ready.queue : null),
    };
    return { checks, checkedAt: new Date(now()).toISOString() };
  };

  return async () => {
    const t = now();
    if (!current || t - current.at >= cacheMs) current = { at: t, result: run() };
    const { checks, checkedAt } = await current.result;
    // Draining is read per request (not cached): the page says so as soon as shutdown starts.
    const draining = opts.draining?.() ?? false;
    const healthy = checks.postgres && checks.redis && checks.migrations && checks.queue !== false;
    return {
      service: 'unified-mcp-platform',
      region: opts.region,
      version: opts.version,
      status: draining ? 'draining' : healthy ? 'ok' : 'degraded',
      checks,
      checkedAt,
    };
  };
}
