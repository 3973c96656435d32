/**
 * The routing layer's own tables, created idempotently (expand-only, safe during rolling deploys).
 * Control database: the shard map. Every shard database: the tenant fence written by a tenant move.
 */
import type { Queryable } from './role-pool.js';

/** DDL of the control database (shard map). */
export const CONTROL_SCHEMA = `
CREATE TABLE IF NOT EXISTS umcp_shards (
  id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  region      text NOT NULL,
  writer_url  text NOT NULL,
  reader_urls text[] NOT NULL DEFAULT '{}',
  accepting   boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS umcp_tenant_shards (
  tenant_id  text PRIMARY KEY,
  shard_id   text NOT NULL REFERENCES umcp_shards (id),
  state      text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'moving')),
  epoch      integer NOT NULL DEFAULT 1,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS umcp_tenant_shards_shard_idx ON umcp_tenant_shards (shard_id);
`;

/** DDL of every shard database: tenants moved away are fenced so stale routers cannot write here. */
export const SHARD_SCHEMA = `
CREATE TABLE IF NOT EXISTS umcp_tenant_fence (
  tenant_id text PRIMARY KEY,
  moved_to  text NOT NULL,
  fenced_at timestamptz NOT NULL DEFAULT now()
);
`;

/** Creates the shard-map tables when missing. */
export async function ensureControlSchema(q: Queryable): Promise<void> {
  await q.query(`SELECT pg_advisory_xact_lock(hashtext('umcp:control-schema'))`);
  await q.query(CONTROL_SCHEMA);
}

/** Creates the fence table when missing. */
export async function ensureShardSchema(q: Queryable): Promise<void> {
  await q.query(`SELECT pg_advisory_xact_lock(hashtext('umcp:shard-schema'))`);
  await q.query(SHARD_SCHEMA);
}
