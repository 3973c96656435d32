/**
 * The resilience policy of one upstream: bulkhead (concurrency limit) -> circuit breaker (opens after
 * consecutive transport failures, half-open probe after a pause); idempotent calls are retried once after
 * a reconnect, every call once after a lost upstream session (re-initialised inside the same breaker
 * attempt, so a restarted upstream never counts as a failure).
 */
import { ProtocolError, type Client } from '@modelcontextprotocol/client';
import { CircuitState, ConsecutiveBreaker, bulkhead, circuitBreaker, handleWhen, wrap } from 'cockatiel';
import { isAuthFailure, isSessionLost } from './upstream-error-mapper.js';

/** State of the circuit breaker as the health view names it. */
export type CircuitHealth = 'closed' | 'open' | 'half-open' | 'isolated';

/** Options of UpstreamResilience. */
export interface ResilienceOptions {
  /** Consecutive failures that open the breaker. @defaultValue 3 */
  readonly breakerThreshold?: number;
  /** Pause before a half-open probe, ms. @defaultValue 5000 */
  readonly halfOpenAfterMs?: number;
  /** The breaker opened: the connection drops its client, so the half-open probe starts a new upstream session. */
  readonly onBreak?: () => void;
}

/** How the policy gets a connected client and drops a broken one. */
export interface ConnectionLink {
  connect(): Promise<Client>;
  reset(): Promise<void>;
}

/** An upstream that answered with a JSON-RPC error is up; everything else counts against the breaker. */
const isFailure = (err: Error) => !(err instanceof ProtocolError);

/** Bulkhead, circuit breaker and retries of one upstream. */
export class UpstreamResilience {
  private readonly bulkhead;
  private readonly breaker;
  private readonly policy;

  constructor(
    private readonly maxConcurrency: number,
    opts: ResilienceOptions,
  ) {
    this.bulkhead = bulkhead(maxConcurrency, maxConcurrency * 4);
    this.breaker = circuitBreaker(handleWhen(isFailure), {
      halfOpenAfter: opts.halfOpenAfterMs ?? 5_000,
      breaker: new ConsecutiveBreaker(opts.breakerThreshold ?? 3),
    });
    if (opts.onBreak) this.breaker.onBreak(opts.onBreak);
    this.policy = wrap(this.bulkhead, this.breaker);
  }

  get state(): CircuitHealth {
    const s = this.breaker.state;
    return s === CircuitState.Open ? 'open' : s === CircuitState.HalfOpen ? 'half-open' : s === CircuitState.Isolated ? 'isolated' : 'closed';
  }

  /** Calls currently holding an execution slot. */
  get inFlight(): number {
    return this.bulkhead.executionSlots === undefined ? 0 : this.maxConcurrency - this.bulkhead.executionSlots;
  }

  /**
   * Runs `fn` against the client `link` connects, under the policy. `idempotent` calls (lists) are
   * retried once on a transport failure; every call is retried once after a lost upstream session.
   * Errors come out as thrown (the caller maps them).
   */
  execute<T>(fn: (client: Client) => Promise<T>, idempotent: boolean, link: ConnectionLink): Promise<T> {
    const attempt = async (): Promise<T> => {
      const client = await link.connect();
      try {
        return await fn(client);
      } catch (err) {
        if (isSessionLost(err, client)) {
          // The upstream forgot its session (restart, expiry): initialise a new one and try again once.
          await link.reset();
          return fn(await link.connect());
        }
        throw err;
      }
    };
    return this.policy.execute(async () => {
      try {
        return await attempt();
      } catch (err) {
        // An OAuth failure (wrong secret, scope, AS refused) would only fail again, costing the AS
        // another round of token requests: no reconnect retry for it.
        if (!idempotent || err instanceof ProtocolError || isAuthFailure(err)) throw err;
        await link.reset();
        return attempt();
      }
    });
  }
}
