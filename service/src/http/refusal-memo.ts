/**
 * Cheap refusals for a tenant far above its rate limit: once the shared (Redis) limiter has refused a
 * tenant, this replica refuses it locally until the limiter's retry-after has passed (at most `maxMs`),
 * without a Redis round trip per request. A flood from one tenant then costs the replica little more than
 * parsing the requests, so other tenants keep their latency. Refusing early is exact: the shared limiter
 * itself said no request would be allowed before then.
 */
export class RefusalMemo {
  private readonly until = new Map<string, number>();

  /** @param maxMs longest local refusal before the shared limiter is asked again */
  constructor(private readonly maxMs = 1_000) {}

  /** Milliseconds `key` is still refused locally, or 0. */
  refusedFor(key: string, now = Date.now()): number {
    const t = this.until.get(key);
    if (t === undefined) return 0;
    if (t <= now) {
      this.until.delete(key);
      return 0;
    }
    return t - now;
  }

  /** The shared limiter refused `key` for `retryAfterMs`. */
  remember(key: string, retryAfterMs: number, now = Date.now()): void {
    if (retryAfterMs <= 0) return;
    // Bounded: one entry per refused tenant, each gone within maxMs.
    if (this.until.size > 10_000) for (const [k, t] of this.until) if (t <= now) this.until.delete(k);
    this.until.set(key, now + Math.min(retryAfterMs, this.maxMs));
  }
}
