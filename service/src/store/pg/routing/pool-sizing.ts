/**
 * Default pool sizes: each gateway instance gets its share of the database's connection budget.
 * size = floor((max_connections - superuser_reserved_connections) * (1 - headroom) / expectedInstances),
 * at least 2. Headroom leaves room for migrations, admin sessions, replication and rolling deploys (old
 * and new pods are up at the same time).
 */
import type { Queryable } from './role-pool.js';

/** Inputs of the sizing formula. */
export interface PoolSizeInputs {
  readonly maxConnections: number;
  /** @defaultValue 3 (PostgreSQL's superuser_reserved_connections default) */
  readonly reservedConnections?: number;
  /** Gateway/worker processes expected to share the database (per role). */
  readonly expectedInstances: number;
  /** Fraction of the budget left unused. @defaultValue 0.2 */
  readonly headroom?: number;
}

/** The per-process pool size for the given connection budget. */
export function defaultPoolSize(inputs: PoolSizeInputs): number {
  const { maxConnections, expectedInstances } = inputs;
  const reserved = inputs.reservedConnections ?? 3;
  const headroom = inputs.headroom ?? 0.2;
  if (!Number.isInteger(maxConnections) || maxConnections < 1) throw new RangeError(`maxConnections must be a positive integer, got ${maxConnections}`);
  if (!Number.isInteger(expectedInstances) || expectedInstances < 1)
    throw new RangeError(`expectedInstances must be a positive integer, got ${expectedInstances}`);
  if (!(headroom >= 0 && headroom < 1)) throw new RangeError(`headroom must be in [0, 1), got ${headroom}`);
  const budget = Math.max(0, maxConnections - reserved) * (1 - headroom);
  return Math.max(2, Math.floor(budget / expectedInstances));
}

/** Reads max_connections and superuser_reserved_connections from a server. */
export async function readConnectionBudget(q: Queryable): Promise<{ maxConnections: number; reservedConnections: number }> {
  const { rows } = await q.query<{ name: string; setting: string }>(
    `SELECT name, setting FROM pg_settings WHERE name IN ('max_connections', 'superuser_reserved_connections')`,
  );
  const get = (n: string) => Number(rows.find((r) => r.name === n)?.setting ?? NaN);
  const maxConnections = get('max_connections');
  if (!Number.isFinite(maxConnections)) throw new Error('could not read max_connections from pg_settings');
  const reserved = get('superuser_reserved_connections');
  return { maxConnections, reservedConnections: Number.isFinite(reserved) ? reserved : 3 };
}
