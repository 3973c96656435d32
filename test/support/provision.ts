/**
 * PostgreSQL + Redis for the test run, in this order:
 *  1. TEST_DATABASE_URL / TEST_REDIS_URL when set;
 *  2. the servers on 127.0.0.1:5432 / 127.0.0.1:6379 when a quick connect + auth probe succeeds;
 *  3. else embedded ones started exactly like `npm start` does: embedded PostgreSQL in a temporary data
 *     directory (deleted afterwards) and a `redis-server` child on a free port.
 * Suites then isolate themselves further with a database and key prefix of their own (platform-db.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { startEmbeddedPostgres, newPgPassword } from '../../service/src/local/embedded-postgres.js';
import { startRedisChild } from '../../service/src/local/redis-child.js';

export interface TestServices {
  databaseUrl: string;
  redisUrl: string;
  stop(): Promise<void>;
}

const LOCAL_PG = ['postgres://postgres@127.0.0.1:5432/test', 'postgres://postgres@127.0.0.1:5432/postgres'];
const LOCAL_REDIS = 'redis://127.0.0.1:6379';

/** True when PostgreSQL at `url` accepts a connection and a query within 2 s. */
export async function probePostgres(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** True when Redis at `url` answers PING (auth included) within 2 s. */
export async function probeRedis(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/**
 * @param opts.probeLocal try the servers on 127.0.0.1 before starting embedded ones (tests of the
 *   embedded fallback turn it off); @defaultValue true
 */
export async function provisionTestServices(env: NodeJS.ProcessEnv = process.env, opts: { probeLocal?: boolean } = {}): Promise<TestServices> {
  const probeLocal = opts.probeLocal ?? true;
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch((err: unknown) => console.error(`test services: ${String(err)}`));
  };
  try {
    let databaseUrl = env.TEST_DATABASE_URL;
    if (!databaseUrl && probeLocal) {
      for (const url of LOCAL_PG) {
        if (await probePostgres(url)) {
          databaseUrl = url;
          break;
        }
      }
    }
    if (!databaseUrl) {
      console.log('test services: no PostgreSQL on 127.0.0.1:5432, starting embedded PostgreSQL');
      const dir = mkdtempSync(join(tmpdir(), 'umcp-test-pg-'));
      const server = await startEmbeddedPostgres({ dataDir: join(dir, 'pg'), password: newPgPassword(), database: 'test', persistent: false });
      stops.push(async () => {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      });
      databaseUrl = server.url;
    }
    let redisUrl = env.TEST_REDIS_URL;
    if (!redisUrl && probeLocal && (await probeRedis(LOCAL_REDIS))) redisUrl = LOCAL_REDIS;
    if (!redisUrl) {
      console.log('test services: no Redis on 127.0.0.1:6379, starting a redis-server child');
      const dir = mkdtempSync(join(tmpdir(), 'umcp-test-redis-'));
      const redis = await startRedisChild(dir);
      stops.push(async () => {
        await redis.stop();
        rmSync(dir, { recursive: true, force: true });
      });
      redisUrl = redis.url;
    }
    return { databaseUrl, redisUrl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
