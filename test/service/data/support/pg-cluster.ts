/**
 * Test helper: a real PostgreSQL primary and a streaming replica (system PostgreSQL binaries, same major
 * version for both), on free loopback ports in a temp dir, small and unsynced. Run as the `postgres`
 * system user when the test runs as root (PostgreSQL refuses root). Always call stop().
 */
import { execFile } from 'node:child_process';
import { mkdtemp, appendFile, rm, chown } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function bindir(): Promise<string> {
  const { stdout } = await run('pg_config', ['--bindir']);
  return stdout.trim();
}

/** A started primary + replica; URLs use the `postgres` superuser and database. */
export interface PgCluster {
  readonly primaryUrl: string;
  readonly replicaUrl: string;
  /** Stops the replica (immediate shutdown), as if it crashed. */
  stopReplica(): Promise<void>;
  /** Starts the replica again and waits until it accepts connections. */
  startReplica(): Promise<void>;
  /** Stops both servers and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** Starts a primary (wal_level=replica) and a replica made with `pg_basebackup -R`. */
export async function startPgCluster(): Promise<PgCluster> {
  const bin = await bindir();
  const dir = await mkdtemp(join(tmpdir(), 'umcp-f-pgcluster-'));
  const asRoot = process.getuid?.() === 0;
  const uid = asRoot ? Number((await run('id', ['-u', 'postgres'])).stdout.trim()) : -1;
  const gid = asRoot ? Number((await run('id', ['-g', 'postgres'])).stdout.trim()) : -1;
  if (asRoot) await chown(dir, uid, gid);
  const pgRun = (tool: string, args: string[]) => (asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]) : run(join(bin, tool), args));
  const [pPort, rPort] = [await freePort(), await freePort()];
  const primary = join(dir, 'primary');
  const replica = join(dir, 'replica');
  let stopped = false;

  const ctl = async (data: string, action: 'start' | 'stop', log?: string) => {
    const args = action === 'start' ? ['-D', data, '-l', log!, '-w', '-t', '60', 'start'] : ['-D', data, '-m', 'immediate', '-w', 'stop'];
    await pgRun('pg_ctl', args);
  };
  const stopAll = async () => {
    if (stopped) return;
    stopped = true;
    await ctl(replica, 'stop').catch(() => {});
    await ctl(primary, 'stop').catch(() => {});
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await pgRun('initdb', ['-D', primary, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    await appendFile(
      join(primary, 'postgresql.conf'),
      [
        `port = ${pPort}`,
        `listen_addresses = '127.0.0.1'`,
        `unix_socket_directories = '${dir}'`,
        'wal_level = replica',
        'max_wal_senders = 4',
        'shared_buffers = 16MB',
        'max_connections = 40',
        'fsync = off',
        'full_page_writes = off',
        'hot_standby = on',
        'wal_receiver_status_interval = 1s',
        '',
      ].join('\n'),
    );
    await ctl(primary, 'start', join(dir, 'primary.log'));
    await pgRun('pg_basebackup', ['-h', '127.0.0.1', '-p', String(pPort), '-U', 'postgres', '-D', replica, '-R', '-X', 'stream', '--no-sync']);
    await appendFile(join(replica, 'postgresql.conf'), `port = ${rPort}\n`);
    const cluster: PgCluster = {
      primaryUrl: `postgres://postgres@127.0.0.1:${pPort}/postgres`,
      replicaUrl: `postgres://postgres@127.0.0.1:${rPort}/postgres`,
      stopReplica: () => ctl(replica, 'stop'),
      startReplica: async () => {
        await ctl(replica, 'start', join(dir, 'replica.log'));
        await waitForReplica(cluster.replicaUrl);
      },
      stop: stopAll,
    };
    await cluster.startReplica();
    return cluster;
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function waitForReplica(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const c = new pg.Client({ connectionString: url });
    try {
      await c.connect();
      const { rows } = await c.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
      if (rows[0]?.r) return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    } finally {
      await c.end().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
