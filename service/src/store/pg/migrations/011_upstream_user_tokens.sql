-- Issue 20, per-user upstream credentials: upstreams registered with `auth: per-user-oauth` (each user's
-- own OAuth token, obtained through the gateway's consent endpoint) or `auth: token-exchange` (RFC 8693).
ALTER TABLE upstreams DROP CONSTRAINT IF EXISTS upstreams_auth_kind_check;
ALTER TABLE upstreams ADD CONSTRAINT upstreams_auth_kind_check
  CHECK (auth_kind IN ('none', 'header', 'bearer', 'oauth-client-credentials', 'per-user-oauth', 'token-exchange'));

-- One user's tokens for one upstream. Tenant data (lives on the tenant's shard, moves with it).
CREATE TABLE upstream_user_tokens (
  tenant_id    uuid NOT NULL,
  upstream_id  uuid NOT NULL,
  -- The principal's subject (`key:<id>` for an API key, `oauth:<sub>` for an OAuth token).
  subject      text NOT NULL,
  -- version(1) | iv(12) | tag(16) | AES-256-GCM ciphertext of the token set (access, refresh, expiry, AS),
  -- under the tenant's data key, bound to (tenant, upstream, subject) as additional data.
  sealed       bytea NOT NULL,
  -- Non-secret, for listings and refresh scheduling.
  expires_at   timestamptz,
  scope        text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, upstream_id, subject)
);
