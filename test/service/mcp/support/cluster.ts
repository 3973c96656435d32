/**
 * Test cluster for the MCP suites: N real gateways (startGateway with the real MCP endpoint) on ONE
 * fresh PostgreSQL database and ONE Redis key prefix, sharing REQUEST_STATE_KEYS, like replicas
 * behind a load balancer. Creates tenants with API keys; stop() closes everything and drops the data.
 */
import { randomBytes } from 'node:crypto';
import { startGateway, type Gateway } from '../../../../service/src/app.js';
import { loadConfig } from '../../../../service/src/config.js';
import { createLogger } from '../../../../service/src/log/logger.js';
import { createTestDatabase, createTestRedisPrefix, testServiceUrls } from '../../../support/platform-db.js';

/** A tenant created for a test, with a bearer key. */
export interface TestTenant {
  readonly id: string;
  readonly name: string;
  readonly key: string;
}

/** Running replicas plus helpers. */
export interface Cluster {
  readonly replicas: Gateway[];
  readonly prefix: string;
  /** Creates a tenant with the given toolsets and returns it with a fresh API key. */
  tenant(name: string, toolsets: string[]): Promise<TestTenant>;
  stop(): Promise<void>;
}

/** Starts `count` replicas; `env` overrides config keys (e.g. MCP_MAX_BODY_BYTES). */
export async function startCluster(count: number, env: Record<string, string> = {}): Promise<Cluster> {
  const db = await createTestDatabase();
  const redis = createTestRedisPrefix();
  const baseEnv: NodeJS.ProcessEnv = {
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: db.url,
    REDIS_URL: testServiceUrls().redisUrl,
    REDIS_KEY_PREFIX: redis.prefix,
    ADMIN_TOKEN: randomBytes(24).toString('hex'),
    LOG_LEVEL: 'silent',
    REQUEST_STATE_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    SHUTDOWN_GRACE_MS: '2000',
    ...env,
  };
  const replicas: Gateway[] = [];
  const stop = async () => {
    await Promise.all(replicas.map((r) => r.close().catch(() => undefined)));
    await db.drop().catch(() => undefined);
    await redis.cleanup().catch(() => undefined);
  };
  try {
    for (let i = 0; i < count; i++) {
      replicas.push(await startGateway(loadConfig(baseEnv), { logger: createLogger({ level: 'silent' }) }));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    replicas,
    prefix: redis.prefix,
    async tenant(name, toolsets) {
      const tenant = await replicas[0]!.tenants.create({ name, toolsets });
      const { key } = await replicas[0]!.apiKeys.create(tenant.id, `${name} test key`);
      return { id: tenant.id, name, key };
    },
    stop,
  };
}
