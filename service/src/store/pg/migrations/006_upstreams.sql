-- Federation (issue 6): a tenant's upstream MCP servers and the per-tenant data keys that encrypt
-- their credentials (envelope encryption: the data key is stored only wrapped by the master key).
CREATE TABLE tenant_data_keys (
  tenant_id     uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  -- AES-256-GCM data key wrapped by the key provider (local master key or a KMS key).
  wrapped_key   bytea NOT NULL,
  -- Which master key wrapped it (so a rotation knows what is left to re-wrap).
  master_key_id text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  rotated_at    timestamptz
);
CREATE INDEX tenant_data_keys_master_idx ON tenant_data_keys (master_key_id);

CREATE TABLE upstreams (
  id                 uuid PRIMARY KEY,
  tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  namespace          text NOT NULL CHECK (namespace ~ '^[a-z0-9][a-z0-9_-]{0,39}$' AND strpos(namespace, '__') = 0),
  url                text NOT NULL,
  transport          text NOT NULL CHECK (transport IN ('streamable-http', 'sse')),
  root               boolean NOT NULL DEFAULT false,
  auth_kind          text NOT NULL CHECK (auth_kind IN ('none', 'header', 'bearer', 'oauth-client-credentials')),
  -- Non-secret description of the credentials (header names, OAuth client id / token URL); never values.
  credential_summary jsonb NOT NULL DEFAULT '{}',
  -- version(1) | iv(12) | tag(16) | AES-256-GCM ciphertext of the credentials JSON, under the tenant's data key.
  credentials        bytea,
  -- Timeouts, allow/deny lists, concurrency limit, longRunning tool names (validated by the gateway).
  options            jsonb NOT NULL DEFAULT '{}',
  version            integer NOT NULL DEFAULT 1,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, namespace)
);
CREATE INDEX upstreams_tenant_idx ON upstreams (tenant_id, namespace);
