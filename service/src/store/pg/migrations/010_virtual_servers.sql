-- Issue 20: virtual servers (a tenant's named selections of its tools, resources and prompts, served at
-- /mcp/<name>) and scopes on API keys. Virtual servers are tenant data: they live on the tenant's shard
-- (listed in TENANT_TABLES, copied by `tenants move`), so there is no foreign key to tenants (see 008).
-- API keys stay in the control database with the tenants they authenticate.
CREATE TABLE virtual_servers (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id    uuid NOT NULL,
  name         text NOT NULL CHECK (name ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  -- Globs over tool and prompt names, resource URIs and resource template URIs.
  include      text[] NOT NULL CHECK (cardinality(include) > 0),
  exclude      text[] NOT NULL DEFAULT '{}',
  -- [{"from": "<tenant's tool name>", "to": "<name callers of the server see>"}]
  renames      jsonb NOT NULL DEFAULT '[]',
  -- {"<tenant's tool name>": "<description callers of the server see>"}
  descriptions jsonb NOT NULL DEFAULT '{}',
  tool_listing text NOT NULL DEFAULT 'all' CHECK (tool_listing IN ('all', 'search')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name)
);

-- `server:<name>` / `tool:<glob>` (docs/virtual-servers.md); empty = the whole tenant, as before.
ALTER TABLE api_keys ADD COLUMN scopes text[] NOT NULL DEFAULT '{}';
