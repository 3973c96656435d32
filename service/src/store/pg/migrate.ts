/**
 * Versioned SQL migrations (service/src/store/pg/migrations/NNN_name.sql), applied in order at start.
 * Safe when several replicas start together (see runMigrations). An applied file whose content changed
 * is refused (migrations are append-only; write a new one instead).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

/** Arbitrary constant shared by every replica: the advisory lock id of the migration runner. */
const MIGRATION_LOCK_ID = 727_354_910_221;

const DEFAULT_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

/** One migration file. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  /** File name, e.g. `001_init.sql` (used in messages). */
  readonly file: string;
  readonly sql: string;
  readonly checksum: string;
}

/** Reads NNN_name.sql files from `dir`, sorted by version; rejects duplicates and bad names. */
export function loadMigrations(dir: string = DEFAULT_DIR): Migration[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  const seen = new Set<number>();
  return files.map((file) => {
    const m = /^(\d+)_([a-z0-9_]+)\.sql$/.exec(file);
    if (!m) throw new Error(`migration file name must look like 001_name.sql: ${file}`);
    const version = Number(m[1]);
    if (seen.has(version)) throw new Error(`duplicate migration version ${version}: ${file}`);
    seen.add(version);
    const sql = readFileSync(join(dir, file), 'utf8');
    return { version, name: m[2]!, file, sql, checksum: createHash('sha256').update(sql).digest('hex') };
  });
}

/** Result of runMigrations: versions applied by this call (empty when the schema was current). */
export interface MigrationResult {
  readonly applied: number[];
  readonly current: number;
}

/**
 * Applies pending migrations in one transaction holding a transaction-scoped advisory lock: a concurrent
 * runner waits, then finds nothing left to do. Transaction-scoped (not session) locking keeps this safe
 * behind a transaction-pooling proxy (PgBouncer, RDS Proxy). All pending files commit together or not at all.
 */
export async function runMigrations(pool: pg.Pool, migrations: Migration[] = loadMigrations()): Promise<MigrationResult> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    try {
      // Waiting for another runner, and the migrations themselves, may exceed the normal statement timeout.
      await client.query('SET LOCAL statement_timeout = 0');
      await client.query('SET LOCAL lock_timeout = 0');
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_ID]);
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now())`);
      const { rows } = await client.query<{ version: number; checksum: string }>('SELECT version, checksum FROM schema_migrations');
      const done = new Map(rows.map((r) => [r.version, r.checksum]));
      const applied: number[] = [];
      for (const m of migrations) {
        const checksum = done.get(m.version);
        if (checksum !== undefined) {
          if (checksum !== m.checksum) throw new Error(`migration ${m.file} was changed after it was applied; add a new migration instead`);
          continue;
        }
        try {
          await client.query(m.sql);
        } catch (err) {
          throw new Error(`migration ${m.file} failed: ${(err as Error).message}`, { cause: err });
        }
        await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum]);
        applied.push(m.version);
      }
      await client.query('COMMIT');
      return { applied, current: Math.max(0, ...migrations.map((m) => m.version)) };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  } finally {
    client.release();
  }
}

/** True when every known migration is recorded as applied (used by /readyz). */
export async function migrationsCurrent(pool: pg.Pool, migrations: Migration[] = loadMigrations()): Promise<boolean> {
  const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM schema_migrations WHERE version = ANY($1::int[])', [
    migrations.map((m) => m.version),
  ]);
  return Number(rows[0]?.n) === migrations.length;
}
