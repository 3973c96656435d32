/**
 * The one place a PostgreSQL pool is built. Today: a single writer pool per process. The data-layer issue
 * adds reader pools and shards here; adapters receive a pool and never build their own.
 */
import pg from 'pg';
import { Gauge, type Registry } from 'prom-client';
import { METRICS } from '../../../../contract/index.js';

/** Options for createPgPool (units in the names; defaults match service/src/config.ts). */
export interface PgPoolOptions {
  connectionString: string;
  /** @defaultValue 10 */
  max?: number;
  /** Server-side statement_timeout, ms. @defaultValue 15000 */
  statementTimeoutMs?: number;
  /** Idle connections are closed after this, ms. @defaultValue 30000 */
  idleTimeoutMs?: number;
  /** Acquiring a new connection fails after this, ms. @defaultValue 5000 */
  connectTimeoutMs?: number;
  /** Shown in pg_stat_activity. @defaultValue 'umcp' */
  applicationName?: string;
  /** Pool role label on the gauges. @defaultValue 'writer' */
  role?: string;
  /** When given, pool gauges (total, idle, waiting) are registered here. */
  registry?: Registry;
  /** Called for errors of idle clients (e.g. the server restarted); the pool replaces them. */
  onError?: (err: Error) => void;
}

/** Builds a pg Pool with timeouts and optional gauges. Connections are opened lazily. */
export function createPgPool(opts: PgPoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.max ?? 10,
    idleTimeoutMillis: opts.idleTimeoutMs ?? 30_000,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5_000,
    statement_timeout: opts.statementTimeoutMs ?? 15_000,
    // Without it a lock wait could outlive the statement timeout's intent (e.g. behind a migration).
    lock_timeout: opts.statementTimeoutMs ?? 15_000,
    application_name: opts.applicationName ?? 'umcp',
  });
  // An idle client losing its connection must not crash the process; the pool drops it.
  pool.on('error', (err) => opts.onError?.(err));
  if (opts.registry) registerPoolGauges(pool, opts.registry, opts.role ?? 'writer');
  return pool;
}

function registerPoolGauges(pool: pg.Pool, registry: Registry, role: string): void {
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['role'],
      registers: [registry],
      // Read at scrape time, so the value is never stale.
      collect() {
        this.set({ role }, read());
      },
    });
  gauge(METRICS.pgPoolTotal, 'PostgreSQL pool connections (open)', () => pool.totalCount);
  gauge(METRICS.pgPoolIdle, 'PostgreSQL pool connections (idle)', () => pool.idleCount);
  gauge(METRICS.pgPoolWaiting, 'Queries waiting for a PostgreSQL connection', () => pool.waitingCount);
}

/** PostgreSQL error code for unique_violation. */
export const PG_UNIQUE_VIOLATION = '23505';

/** True when `err` is a pg error with the given SQLSTATE code. */
export function isPgError(err: unknown, code: string): err is pg.DatabaseError {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}
