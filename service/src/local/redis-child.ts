/**
 * A `redis-server` child process for the local platform and the test fallback: loopback only, a free
 * port, no persistence (sessions and event logs are disposable locally). A pid file in the data dir lets
 * the next start stop a leftover from a run that was killed with SIGKILL.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';
import { commandLine, isAlive, stopPid } from './process-util.js';

/** One line telling the user what to do when there is no redis-server. */
export const REDIS_MISSING_HINT =
  'redis-server not found on PATH: install Redis (Debian/Ubuntu: `sudo apt-get install redis-server`, macOS: `brew install redis`) or set REDIS_URL=redis://host:6379';

/** Thrown when no redis-server binary is available. */
export class RedisServerMissingError extends Error {
  constructor() {
    super(REDIS_MISSING_HINT);
    this.name = 'RedisServerMissingError';
  }
}

/** A running child redis-server. */
export interface RedisChild {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** True when `redis-server` can be executed. */
export function redisServerAvailable(): boolean {
  const r = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

/** Starts redis-server on a free loopback port; `dir` holds its pid file. */
export async function startRedisChild(dir: string): Promise<RedisChild> {
  if (!redisServerAvailable()) throw new RedisServerMissingError();
  mkdirSync(dir, { recursive: true });
  const pidFile = join(dir, 'redis.pid');
  if (existsSync(pidFile)) {
    const old = Number(readFileSync(pidFile, 'utf8').trim());
    if (old > 0 && isAlive(old) && commandLine(old).includes('redis-server')) await stopPid(old, 'SIGTERM', 5_000);
    rmSync(pidFile, { force: true });
  }
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--pidfile', pidFile, '--loglevel', 'warning'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-4000)));
  child.stderr.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    const ok = await probe
      .connect()
      .then(() => probe.ping())
      .then(
        () => true,
        () => false,
      );
    probe.disconnect();
    if (ok) break;
    const code = await Promise.race([exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 100))]);
    if (code !== 'running') throw new Error(`redis-server exited (code ${code}) before it was ready: ${output.trim()}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not become ready within 10 s: ${output.trim()}`);
    }
  }
  return {
    url,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(pidFile, { force: true });
    },
  };
}
