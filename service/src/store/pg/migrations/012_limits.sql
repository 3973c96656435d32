-- Issue 20: per-tool and per-key limits. One row per limit a tenant defines: which calls it counts
-- (selectors; NULL = any), what splits its counter (per), how many it allows (rate: max per window;
-- quota: max per UTC day) and what happens past it (reject, or only log). Tenant data: it lives on the
-- tenant's shard (no foreign key to tenants, see 008) and moves with the tenant. Counters are in Redis.
CREATE TABLE limits (
  id             uuid PRIMARY KEY,
  tenant_id      uuid NOT NULL,
  name           text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
  -- 'calls': tools/call (pipeline stage `limits`); 'requests': every HTTP request to /mcp (HTTP layer).
  applies_to     text NOT NULL CHECK (applies_to IN ('calls', 'requests')),
  -- Selectors: a glob over the tool name the caller sent, an API key id, a subject, a virtual server name.
  tool           text,
  key_id         text,
  user_subject   text,
  server         text,
  -- Dimensions that split the counter (one counter per distinct value): key, user, server, tool.
  per            text[] NOT NULL DEFAULT '{}',
  kind           text NOT NULL CHECK (kind IN ('rate', 'quota')),
  max_count      integer NOT NULL CHECK (max_count > 0),
  -- rate: the window; quota: 86400 (a UTC day).
  window_seconds integer NOT NULL CHECK (window_seconds > 0),
  action         text NOT NULL CHECK (action IN ('reject', 'log')),
  version        integer NOT NULL DEFAULT 1,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name)
);
