/**
 * Query hygiene: the hottest queries have an index and the planner uses it. Run on the service's real
 * migrations plus the shard-map schema; seq scans are disabled so a missing index shows up as a
 * Seq Scan in the plan instead of being hidden by tiny test tables.
 */
import assert from 'node:assert/strict';
import { createPgPool, runMigrations } from '../../../service/src/store/pg/index.js';
import { RolePool } from '../../../service/src/store/pg/routing/role-pool.js';
import { CONTROL_SCHEMA } from '../../../service/src/store/pg/routing/schema.js';
import { createTempDatabases, type TempDatabases } from './support/temp-databases.js';

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

const flatten = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(flatten)];

describe('hot query plans', function () {
  this.timeout(30_000);
  let dbs: TempDatabases;
  let pool: RolePool;

  const plan = async (sql: string, values: unknown[]): Promise<PlanNode[]> =>
    pool.transaction(async (q) => {
      await q.query('SET LOCAL enable_seqscan = off');
      const { rows } = await q.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${sql}`, values);
      return flatten(rows[0]!['QUERY PLAN'][0].Plan);
    });
  const usesIndex = (nodes: PlanNode[], index: string) =>
    assert.ok(
      nodes.some((n) => /Index/.test(n['Node Type']) && n['Index Name'] === index),
      `expected an index scan on ${index}, plan: ${nodes.map((n) => `${n['Node Type']}${n['Index Name'] ? `(${n['Index Name']})` : ''}`).join(' > ')}`,
    );

  before(async () => {
    dbs = await createTempDatabases(['plans']);
    const writer = createPgPool({ connectionString: dbs.urls.plans!, max: 2 });
    await runMigrations(writer);
    await writer.end();
    pool = new RolePool({ shard: 'plans', role: 'writer', connectionString: dbs.urls.plans!, max: 2 });
    await pool.query(CONTROL_SCHEMA);
    await pool.query(`INSERT INTO tenants (name) SELECT 't' || g FROM generate_series(1, 200) g`);
    await pool.query(`INSERT INTO api_keys (tenant_id, prefix, hash, name) SELECT id, md5(name), '\\x00', 'k' FROM tenants`);
    await pool.query(`INSERT INTO umcp_shards (id, region, writer_url) VALUES ('s1', 'eu', 'postgres://x/y')`);
    await pool.query(`INSERT INTO umcp_tenant_shards (tenant_id, shard_id) SELECT id::text, 's1' FROM tenants`);
    await pool.query('ANALYZE');
  });
  after(async () => {
    await pool?.close();
    await dbs?.drop();
  });

  it('API key lookup (every authenticated request on a cache miss) uses the unique prefix index', async () => {
    const nodes = await plan(`SELECT k.id, k.hash, t.id, t.status FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.prefix = $1`, ['abc']);
    usesIndex(nodes, 'api_keys_prefix_key');
    usesIndex(nodes, 'tenants_pkey');
  });

  it('tenant config by name (admin, anonymous mode, OAuth tenant claim) uses the unique name index', async () => {
    usesIndex(await plan('SELECT * FROM tenants WHERE name = $1', ['t1']), 'tenants_name_key');
  });

  it('shard placement of a tenant (every tenant-scoped query on a cache miss) uses the primary key', async () => {
    usesIndex(await plan('SELECT tenant_id, shard_id, state, epoch FROM umcp_tenant_shards WHERE tenant_id = $1', ['x']), 'umcp_tenant_shards_pkey');
  });

  it('placement load per shard (new tenants) uses the shard index, not a scan of all placements', async () => {
    usesIndex(await plan('SELECT count(*) FROM umcp_tenant_shards WHERE shard_id = $1', ['s1']), 'umcp_tenant_shards_shard_idx');
  });
});
