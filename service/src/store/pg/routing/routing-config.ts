/**
 * Environment keys of the PostgreSQL routing layer (readers, shards, pool sizing). The service config
 * merges this schema; descriptions feed the generated config table. Defaults keep a single-database
 * install working unchanged: one shard (`default`) = DATABASE_URL, no readers.
 */
import { z } from 'zod';
import { ShardInput } from './shard-map.js';

const pgUrl = z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** SHARDS: a JSON array of {id, region, writerUrl, readerUrls?, accepting?}. */
const ShardsJson = z
  .string()
  .transform((s, ctx) => {
    try {
      return JSON.parse(s) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'a JSON array of shards' });
      return z.NEVER;
    }
  })
  .pipe(z.array(ShardInput));

/** Routing keys; parsed with the rest of the service config. */
export const RoutingConfigSchema = z.object({
  DATABASE_READER_URLS: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(pgUrl))
    .default([])
    .describe(
      'Comma-separated read-replica URLs of the default shard (DATABASE_URL). Lag-tolerant reads go round-robin to them; empty = reads use the writer.',
    ),
  DEFAULT_SHARD_ID: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/)
    .default('default')
    .describe('Shard id of DATABASE_URL + DATABASE_READER_URLS in the shard map (region = REGION).'),
  SHARDS: ShardsJson.optional().describe(
    'Further shards as JSON: `[{"id":"eu-2","region":"eu-west-1","writerUrl":"postgres://…","readerUrls":["postgres://…"]}]`; registered in the shard map (control database = DATABASE_URL) at startup.',
  ),
  PG_EXPECTED_INSTANCES: int(1, 10_000)
    .default(4)
    .describe('Gateway/worker processes expected per database; default pool sizes are (max_connections - reserved) x (1 - headroom) / this.'),
  PG_POOL_HEADROOM: z.coerce
    .number()
    .min(0)
    .max(0.9)
    .default(0.2)
    .describe('Share of max_connections left free for migrations, admin sessions and rolling deploys.'),
  PG_READER_POOL_MAX: int(1, 1000)
    .optional()
    .describe('Connections per read replica and process; default: derived from max_connections (see PG_EXPECTED_INSTANCES).'),
  PG_SHARD_POOL_MAX: int(1, 1000).optional().describe('Writer connections per further shard and process; default: derived like PG_READER_POOL_MAX.'),
  PG_REPLICA_RETRY_MS: int(100, 600_000).default(5_000).describe('An unreachable replica is skipped this long before it is tried again (ms).'),
  PG_REPLICA_PROBE_MS: int(0, 600_000).default(5_000).describe('Replica health/lag probe interval (ms); 0 disables probing.'),
  PG_LSN_TTL_MS: int(1_000, 3_600_000).default(30_000).describe('How long a tenant/session that wrote reads only from replicas that replayed its write (ms).'),
  SHARD_MAP_CACHE_MS: int(0, 3_600_000)
    .default(10_000)
    .describe('In-process cache lifetime of shard-map lookups (ms); a moved tenant is fenced, so staleness is safe.'),
});
/** Parsed routing keys. */
export type RoutingConfig = z.output<typeof RoutingConfigSchema>;
