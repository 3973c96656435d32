/**
 * Per-suite isolation on the shared test PostgreSQL and Redis: a uniquely named database (dropped after)
 * and a unique Redis key prefix (its keys deleted after). Suites never touch each other's data, and never
 * flush a Redis that other processes use.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';

/** Base URLs of the test services (set by test/run.ts; defaults match the local machine). */
export function testServiceUrls(env: NodeJS.ProcessEnv = process.env): { databaseUrl: string; redisUrl: string } {
  return {
    databaseUrl: env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    redisUrl: env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
  };
}

/** A database of its own for one suite. */
export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

/** Creates `umcp_test_<random>` next to the base database and returns its URL. */
export async function createTestDatabase(baseUrl: string = testServiceUrls().databaseUrl): Promise<TestDatabase> {
  const name = `umcp_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      try {
        // WITH (FORCE) ends sessions a crashed test may have left open (PostgreSQL 13+).
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A unique Redis key prefix plus a cleanup that deletes only its keys. */
export interface TestRedisPrefix {
  readonly prefix: string;
  cleanup(): Promise<void>;
}

/** Returns `umcp-test-<random>:` and a cleanup that SCANs and deletes its keys. */
export function createTestRedisPrefix(redisUrl: string = testServiceUrls().redisUrl): TestRedisPrefix {
  const prefix = `umcp-test-${randomBytes(6).toString('hex')}:`;
  return {
    prefix,
    async cleanup() {
      const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await redis.connect();
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
          cursor = next;
          if (keys.length) await redis.unlink(...keys);
        } while (cursor !== '0');
      } finally {
        redis.disconnect();
      }
    },
  };
}
