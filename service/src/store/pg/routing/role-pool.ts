/**
 * One pg Pool for one role (writer or reader) of one shard. Every unit of work runs inside a single
 * transaction on a single connection, and per-transaction settings use `SET LOCAL`, so the pool is safe
 * behind a transaction-pooling proxy (PgBouncer `pool_mode=transaction`, RDS Proxy): no session state
 * survives a transaction, no session advisory locks, no named prepared statements.
 */
import pg from 'pg';
import { PoolAcquireTimeoutError, StatementTimeoutError } from './errors.js';

const guarded = new WeakSet<pg.PoolClient>();

/** Which side of a shard a pool talks to. */
export type PoolRole = 'writer' | 'reader';

/** What a unit of work may do: parameterised queries on the transaction's connection. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** Options of a RolePool; units in the names. */
export interface RolePoolOptions {
  readonly shard: string;
  readonly role: PoolRole;
  /** Required unless `pool` is given. */
  readonly connectionString?: string;
  /**
   * Adopt an existing pg Pool (e.g. the process's one writer pool) instead of building one; it is not
   * ended by close(). Its own size and timeouts apply; transactions still SET LOCAL the statement timeout.
   */
  readonly pool?: pg.Pool;
  /** Connections at most. @defaultValue 10 (use `defaultPoolSize` to derive it from max_connections) */
  readonly max?: number;
  /** `SET LOCAL statement_timeout` and `lock_timeout` of every transaction, ms. @defaultValue 15000 */
  readonly statementTimeoutMs?: number;
  /** Idle connections are closed after this, ms. @defaultValue 30000 */
  readonly idleTimeoutMs?: number;
  /** Waiting for a free or new connection fails after this, ms. @defaultValue 5000 */
  readonly acquireTimeoutMs?: number;
  /** Shown in pg_stat_activity. @defaultValue 'umcp' */
  readonly applicationName?: string;
  /** Errors of idle connections (server restart, network); the pool drops the connection. */
  readonly onError?: (err: Error) => void;
}

/** Transaction options. */
export interface TxOptions {
  readonly readOnly?: boolean;
}

/** A sized pool for one role of one shard, with timeouts that fail with clear errors. */
export class RolePool {
  readonly shard: string;
  readonly role: PoolRole;
  readonly pool: pg.Pool;
  readonly statementTimeoutMs: number;
  readonly acquireTimeoutMs: number;
  private closed = false;
  private readonly ownsPool: boolean;
  private readonly onError: ((err: Error) => void) | undefined;

  constructor(opts: RolePoolOptions) {
    this.shard = opts.shard;
    this.role = opts.role;
    this.statementTimeoutMs = opts.statementTimeoutMs ?? 15_000;
    this.acquireTimeoutMs = opts.acquireTimeoutMs ?? 5_000;
    this.onError = opts.onError;
    this.ownsPool = !opts.pool;
    if (opts.pool) {
      this.pool = opts.pool;
      return;
    }
    if (!opts.connectionString) throw new TypeError(`shard ${opts.shard} ${opts.role} pool: connectionString or pool is required`);
    const max = opts.max ?? 10;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`pool max for shard ${opts.shard} ${opts.role} must be an integer >= 1, got ${max}`);
    this.pool = new pg.Pool({
      connectionString: opts.connectionString,
      max,
      idleTimeoutMillis: opts.idleTimeoutMs ?? 30_000,
      // pg-pool applies this both to opening a connection and to waiting in the queue for one.
      connectionTimeoutMillis: this.acquireTimeoutMs,
      // Client-side backstop in case the server never answers (network partition): a little past the server timeout.
      query_timeout: this.statementTimeoutMs + 5_000,
      application_name: opts.applicationName ?? 'umcp',
    });
    this.pool.on('error', (err) => opts.onError?.(err));
  }

  /** Open, idle and waiting counts (what the pool gauges report). */
  stats(): { total: number; idle: number; waiting: number } {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  /** Runs `fn` in one transaction on one connection; commits on success, rolls back on error. */
  async transaction<T>(fn: (q: Queryable) => Promise<T>, opts: TxOptions = {}): Promise<T> {
    const client = await this.acquire();
    let broken: Error | undefined;
    try {
      // One round trip; SET LOCAL ends with the transaction, so nothing leaks to the next user of the backend.
      const ms = this.statementTimeoutMs;
      await client.query(`BEGIN${opts.readOnly ? ' READ ONLY' : ''}; SET LOCAL statement_timeout = ${ms}; SET LOCAL lock_timeout = ${ms}`);
      const q: Queryable = { query: (text, values) => client.query(text, values as unknown[]) };
      const result = await fn(q);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((e: Error) => {
        broken = e;
      });
      throw this.mapError(err);
    } finally {
      client.release(broken);
    }
  }

  /** One statement outside an explicit transaction (autocommit); no session settings are used. */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    const client = await this.acquire();
    let broken: Error | undefined;
    try {
      return await client.query<R>(text, values);
    } catch (err) {
      if (isConnectionError(err)) broken = err as Error;
      throw this.mapError(err);
    } finally {
      client.release(broken);
    }
  }

  /** Closes every connection; later calls fail. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsPool) await this.pool.end();
  }

  private async acquire(): Promise<pg.PoolClient> {
    try {
      const client = await this.pool.connect();
      if (!guarded.has(client)) {
        guarded.add(client);
        // A checked-out client whose server dies between two queries emits 'error'; without a listener that
        // would crash the process. The next query on it fails and the client is discarded on release.
        client.on('error', (err) => this.onError?.(err));
      }
      return client;
    } catch (err) {
      const msg = err instanceof Error ? err.message : '';
      if (/timeout exceeded when trying to connect/i.test(msg)) {
        throw new PoolAcquireTimeoutError(this.shard, this.role, this.acquireTimeoutMs, this.stats(), { cause: err });
      }
      throw err;
    }
  }

  private mapError(err: unknown): unknown {
    const code = (err as { code?: unknown } | null)?.code;
    // 57014 query_canceled (statement_timeout), 55P03 lock_not_available (lock_timeout)
    if (code === '57014' || code === '55P03') {
      return new StatementTimeoutError(this.shard, this.role, this.statementTimeoutMs, { cause: err });
    }
    if (err instanceof Error && /Query read timeout/.test(err.message)) {
      return new StatementTimeoutError(this.shard, this.role, this.statementTimeoutMs + 5_000, { cause: err });
    }
    return err;
  }
}

/** True for errors meaning the server is unreachable or going away (not a bad query). */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof PoolAcquireTimeoutError) return true;
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'].includes(code)) return true;
  // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 08xxx connection exceptions
  if (code.startsWith('57P') || code.startsWith('08')) return true;
  const msg = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|connection closed|server closed the connection/i.test(msg);
}
