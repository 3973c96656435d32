/**
 * Data-layer bench, one run, figures and ratios against baselines measured in the same run:
 * - API-key lookup: PostgreSQL only (cache off) vs the tiered cache (Redis tier, LRU tier);
 * - catalog read: a tenant's catalog snapshot (200 tools, jsonb) from PostgreSQL vs the tiered cache;
 * - reader vs writer: the same tenant query on a streaming replica vs the primary.
 * Uses the test PostgreSQL/Redis (TEST_DATABASE_URL / TEST_REDIS_URL or 127.0.0.1) and starts its own
 * primary + replica with the system PostgreSQL binaries. `npx tsx bench/data-layer.ts [iterations]`
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { CachedApiKeyStore } from '../service/src/store/cache/cached-stores.js';
import { InvalidationBus } from '../service/src/store/cache/invalidation-bus.js';
import { TieredCache } from '../service/src/store/cache/tiered-cache.js';
import { createPgPool, PgApiKeyStore, PgTenantStore, runMigrations } from '../service/src/store/pg/index.js';
import { MemoryLsnTracker } from '../service/src/store/pg/routing/lsn-tracker.js';
import { ReplicaRouter } from '../service/src/store/pg/routing/replica-router.js';
import { RolePool } from '../service/src/store/pg/routing/role-pool.js';
import { startPgCluster } from '../test/service/data/support/pg-cluster.js';
import { createTempDatabases } from '../test/service/data/support/temp-databases.js';
import { provisionTestServices } from '../test/support/provision.js';

const N = Number(process.argv[2] ?? 2000);

interface Stats {
  name: string;
  meanUs: number;
  p50Us: number;
  p99Us: number;
}

async function measure(name: string, fn: () => Promise<unknown>): Promise<Stats> {
  for (let i = 0; i < Math.min(200, N / 10); i++) await fn(); // warm-up
  const t: number[] = [];
  for (let i = 0; i < N; i++) {
    const s = process.hrtime.bigint();
    await fn();
    t.push(Number(process.hrtime.bigint() - s) / 1000);
  }
  t.sort((a, b) => a - b);
  return { name, meanUs: t.reduce((a, b) => a + b, 0) / t.length, p50Us: t[Math.floor(t.length / 2)]!, p99Us: t[Math.floor(t.length * 0.99)]! };
}

function print(title: string, baseline: Stats, others: Stats[]): void {
  console.log(`\n${title} (${N} sequential calls each)`);
  for (const s of [baseline, ...others]) {
    const ratio = baseline.meanUs / s.meanUs;
    console.log(
      `  ${s.name.padEnd(34)} mean ${s.meanUs.toFixed(0).padStart(6)} us  p50 ${s.p50Us.toFixed(0).padStart(6)} us  p99 ${s.p99Us.toFixed(0).padStart(6)} us  ${s === baseline ? '(baseline)' : `speed-up ${ratio.toFixed(1)}x`}`,
    );
  }
}

const { redisUrl } = await provisionTestServices();
const dbs = await createTempDatabases(['bench']);
const prefix = `umcp-f-bench-${randomBytes(4).toString('hex')}:`;
const pool = createPgPool({ connectionString: dbs.urls.bench!, max: 4 });
const redis = new Redis(redisUrl);
const bus = new InvalidationBus(redis, new Redis(redisUrl), prefix);
const lruCache = new TieredCache({ redis, bus, prefix });
const redisOnly = new TieredCache({ redis, bus, prefix, lruTtlMs: 0 });
const cluster = await startPgCluster();
const writer = new RolePool({ shard: 'bench', role: 'writer', connectionString: cluster.primaryUrl, max: 2 });
const reader = new RolePool({ shard: 'bench', role: 'reader', connectionString: cluster.replicaUrl, max: 2 });
const router = new ReplicaRouter({ shard: 'bench', writer, readers: [reader], lsn: new MemoryLsnTracker() });
try {
  await lruCache.start();
  await redisOnly.start();
  await runMigrations(pool);
  const tenant = await new PgTenantStore(pool).create({ name: 'bench', toolsets: ['platform'] });
  const pgKeys = new PgApiKeyStore(pool);
  const { key } = await pgKeys.create(tenant.id, 'bench');

  print('API-key lookup', await measure('cache off (PostgreSQL join)', () => pgKeys.verify(key)), [
    await measure('cache on, Redis tier (LRU off)', () => new CachedApiKeyStore(pgKeys, redisOnly).verify(key)),
    await measure('cache on, in-process LRU hit', () => new CachedApiKeyStore(pgKeys, lruCache).verify(key)),
  ]);

  const tools = Array.from({ length: 200 }, (_, i) => ({
    name: `ns__tool_${i}`,
    description: 'x'.repeat(200),
    inputSchema: { type: 'object', properties: { a: { type: 'string' } } },
  }));
  await pool.query('CREATE TABLE catalog_snapshots (tenant_id uuid PRIMARY KEY, doc jsonb NOT NULL)');
  await pool.query('INSERT INTO catalog_snapshots VALUES ($1, $2)', [tenant.id, JSON.stringify({ tools })]);
  const Catalog = z.object({ tools: z.array(z.looseObject({ name: z.string() })) });
  const fromPg = async () => Catalog.parse((await pool.query('SELECT doc FROM catalog_snapshots WHERE tenant_id = $1', [tenant.id])).rows[0].doc);
  print('Catalog read (200 tools, ~60 KB)', await measure('cache off (PostgreSQL jsonb)', fromPg), [
    await measure('cache on, Redis tier (LRU off)', () => redisOnly.get('bench-catalog', tenant.id, fromPg, { schema: Catalog })),
    await measure('cache on, in-process LRU hit', () => lruCache.get('bench-catalog', tenant.id, fromPg, { schema: Catalog })),
  ]);

  await writer.query(`CREATE TABLE items AS SELECT g AS id, 't' || (g % 100) AS tenant_id, md5(g::text) AS body FROM generate_series(1, 100000) g`);
  await writer.query('CREATE INDEX items_tenant_idx ON items (tenant_id, id)');
  await writer.query('ANALYZE items');
  const q = (pick: (fn: (q: { query: RolePool['query'] }) => Promise<unknown>) => Promise<unknown>) => () =>
    pick((c) => c.query(`SELECT id, body FROM items WHERE tenant_id = 't7' ORDER BY id LIMIT 50`));
  for (let i = 0; i < 100; i++) {
    const { target } = await router.readWithTarget({}, async (c) => c.query('SELECT to_regclass($1) AS t', ['items_tenant_idx']));
    if (target.role === 'reader') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  print(
    'Tenant query, 50 rows by index',
    await measure(
      'writer (primary)',
      q((fn) => router.readFromWriter(fn)),
    ),
    [
      await measure(
        'reader (streaming replica)',
        q((fn) => router.read({}, fn)),
      ),
    ],
  );
  console.log(
    '\nReader and writer run on the same machine here, so their latency should match (ratio ~1x); the gain from replicas is capacity: the writer is not loaded by reads.',
  );
} finally {
  lruCache.close();
  redisOnly.close();
  await bus.close();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
  await router.close();
  await cluster.stop();
  await pool.end();
  await dbs.drop();
}
