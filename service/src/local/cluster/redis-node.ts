/**
 * The cluster's own redis-server (never the machine's shared one) on a fixed loopback port with an
 * append-only file fsynced on every write, so a restart (chaos) keeps sessions, event logs and queues,
 * like a managed Redis with persistence would.
 */
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ManagedProcess, waitFor } from './managed-process.js';

/** The running Redis. */
export interface RedisNode {
  readonly url: string;
  readonly port: number;
  readonly process: ManagedProcess;
  /** SHUTDOWN (AOF flushed), then start again on the same port with the same data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function ping(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } finally {
    probe.disconnect();
  }
}

/** Starts redis-server with its data and log in `dir`. */
export async function startRedisNode(dir: string, port: number): Promise<RedisNode> {
  const url = `redis://127.0.0.1:${port}`;
  const proc = new ManagedProcess({
    name: 'redis',
    command: 'redis-server',
    args: [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--save',
      '',
      '--maxmemory-policy',
      'noeviction',
      '--loglevel',
      'warning',
    ],
    logFile: join(dir, 'redis.log'),
  });
  const start = async () => {
    proc.start();
    await waitFor('redis', () => ping(url), { timeoutMs: 15_000, proc });
  };
  await start();
  return {
    url,
    port,
    process: proc,
    async restart() {
      await proc.stop('SIGTERM', 10_000);
      await start();
    },
    stop: () => proc.stop('SIGTERM', 5_000),
  };
}
