/**
 * A PostgreSQL primary plus one streaming replica of the cluster's own (never the machine's shared
 * server): initdb in a temp dir, pg_basebackup -R for the replica, each on its own loopback port. As root
 * every PostgreSQL program runs as the `postgres` system user (runuser), since PostgreSQL refuses root.
 * Chaos uses restartPrimary (immediate stop = crash, then start) and stopReplica/startReplica.
 * `fsync = off` is safe for that crash (the OS keeps its page cache); `synchronous_commit` stays on, or an
 * immediate stop would drop commits still in the WAL buffers (a task acknowledged, then gone).
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { postgresBindir } from './system-tools.js';

const run = promisify(execFile);

/** The running pair. */
export interface PostgresPair {
  readonly primaryUrl: string;
  readonly replicaUrl: string;
  readonly primaryPort: number;
  readonly replicaPort: number;
  /** Crash-stops the primary (pg_ctl -m immediate) and starts it again; resolves once it accepts queries. */
  restartPrimary(): Promise<void>;
  stopReplica(): Promise<void>;
  startReplica(): Promise<void>;
  /** Replay lag of the replica in bytes (null when it is not streaming). */
  replicaLagBytes(): Promise<number | null>;
  stop(): Promise<void>;
}

const asRoot = process.getuid?.() === 0;

async function pgRun(bin: string, args: string[], timeoutMs = 120_000): Promise<string> {
  const [cmd, full] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  try {
    const { stdout } = await run(cmd, full, { timeout: timeoutMs, maxBuffer: 8 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${bin.split('/').pop()} ${args.join(' ')} failed: ${(e.stderr || e.message).trim().split('\n').slice(-5).join(' | ')}`);
  }
}

/** `id -u postgres` / `id -g postgres`: the owner PostgreSQL's files must have when we run as root. */
function postgresId(flag: '-u' | '-g'): number {
  try {
    return Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  } catch {
    throw new Error('running as root needs a `postgres` system user for PostgreSQL (useradd --system postgres)');
  }
}

function chownToPostgres(path: string): void {
  if (asRoot) chownSync(path, postgresId('-u'), postgresId('-g'));
}

function ownDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chownToPostgres(dir);
}

async function waitQuery(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    try {
      await c.connect();
      await c.query('SELECT 1');
      await c.end();
      return;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
      await c.end().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`PostgreSQL at ${url} not answering within ${timeoutMs} ms: ${last}`);
}

/** Creates and starts primary + replica under `dir` on the given ports, with database `dbName`. */
export async function startPostgresPair(
  dir: string,
  ports: { primary: number; replica: number },
  dbName = 'umcp',
  log: (l: string) => void = () => undefined,
): Promise<PostgresPair> {
  const bindir = postgresBindir();
  const bin = (b: string) => join(bindir, b);
  ownDir(dir);
  const primaryDir = join(dir, 'primary');
  const replicaDir = join(dir, 'replica');
  const socketDir = dir;
  log(`postgres: initdb ${primaryDir}`);
  await pgRun(bin('initdb'), ['-D', primaryDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  writeFileSync(
    join(dir, 'primary.conf'),
    [
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = '${socketDir}'`,
      'wal_level = replica',
      'max_wal_senders = 5',
      'hot_standby = on',
      'fsync = off',
      'max_connections = 200',
      'shared_buffers = 64MB',
      'wal_keep_size = 256MB',
    ].join('\n') + '\n',
  );
  chownToPostgres(join(dir, 'primary.conf'));
  // include the settings file (initdb wrote postgresql.conf; append an include).
  await pgRun('/bin/sh', ['-c', `echo "include '${join(dir, 'primary.conf')}'" >> ${join(primaryDir, 'postgresql.conf')}`]);
  const start = (data: string, port: number, logName: string) =>
    pgRun(bin('pg_ctl'), ['-D', data, '-o', `-p ${port}`, '-l', join(dir, logName), '-w', '-t', '60', 'start']);
  const stop = (data: string, mode: 'fast' | 'immediate') =>
    pgRun(bin('pg_ctl'), ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']).catch((err: Error) => {
      if (!/not running|No such file|does not exist/i.test(err.message)) throw err;
      return '';
    });
  log(`postgres: starting primary on 127.0.0.1:${ports.primary}`);
  await start(primaryDir, ports.primary, 'primary.log');
  const base = `postgres://postgres@127.0.0.1`;
  await waitQuery(`${base}:${ports.primary}/postgres`, 30_000);
  const admin = new pg.Client({ connectionString: `${base}:${ports.primary}/postgres` });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  log(`postgres: pg_basebackup -> streaming replica on 127.0.0.1:${ports.replica}`);
  await pgRun(bin('pg_basebackup'), [
    '-h',
    '127.0.0.1',
    '-p',
    String(ports.primary),
    '-U',
    'postgres',
    '-D',
    replicaDir,
    '-R',
    '-X',
    'stream',
    '--checkpoint=fast',
    '--no-sync',
  ]);
  await start(replicaDir, ports.replica, 'replica.log');
  const primaryUrl = `${base}:${ports.primary}/${dbName}`;
  const replicaUrl = `${base}:${ports.replica}/${dbName}`;
  await waitQuery(replicaUrl, 30_000);
  let stopped = false;
  return {
    primaryUrl,
    replicaUrl,
    primaryPort: ports.primary,
    replicaPort: ports.replica,
    async restartPrimary() {
      await stop(primaryDir, 'immediate');
      await start(primaryDir, ports.primary, 'primary.log');
      await waitQuery(primaryUrl, 60_000);
    },
    async stopReplica() {
      await stop(replicaDir, 'fast');
    },
    async startReplica() {
      await start(replicaDir, ports.replica, 'replica.log');
      await waitQuery(replicaUrl, 60_000);
    },
    async replicaLagBytes() {
      const c = new pg.Client({ connectionString: primaryUrl, connectionTimeoutMillis: 1_000 });
      try {
        await c.connect();
        const { rows } = await c.query<{ lag: string | null }>(
          `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::text AS lag FROM pg_stat_replication LIMIT 1`,
        );
        return rows[0]?.lag != null ? Number(rows[0].lag) : null;
      } finally {
        await c.end().catch(() => undefined);
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stop(replicaDir, 'fast').catch(() => undefined);
      await stop(primaryDir, 'fast').catch(() => undefined);
    },
  };
}
