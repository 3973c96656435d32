-- Issue 8: tenant-scoped data (audit log, upstreams, tenant data keys, tasks) lives on the tenant's shard,
-- while tenants and API keys stay in the control database. Every database gets the same migrations; on a
-- shard other than the control database the tenants table stays empty, so these tables can no longer
-- reference it (a foreign key cannot span databases). Tenants are never hard-deleted (they are disabled),
-- so nothing relied on the cascades.
ALTER TABLE audit_log DROP CONSTRAINT IF EXISTS audit_log_tenant_id_fkey;
ALTER TABLE tenant_data_keys DROP CONSTRAINT IF EXISTS tenant_data_keys_tenant_id_fkey;
ALTER TABLE upstreams DROP CONSTRAINT IF EXISTS upstreams_tenant_id_fkey;
ALTER TABLE tasks DROP CONSTRAINT IF EXISTS tasks_tenant_id_fkey;

-- A tenant move copies rows by a key that is unique across shards. audit_log.id comes from each
-- database's own sequence, so it collides between shards: rows get a uuid key instead, and id stays as
-- the (per-database) insertion order used to break ties in listings.
ALTER TABLE audit_log ADD COLUMN uid uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE audit_log DROP CONSTRAINT audit_log_pkey;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_pkey PRIMARY KEY (uid);
