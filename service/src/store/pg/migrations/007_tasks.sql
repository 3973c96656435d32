-- Tasks (issue 7): long-running tool calls run by the worker tier. The row is the durable record; Redis
-- caches its status for cheap polling (service/src/tasks/task-store.ts). Terminal rows are kept until
-- expires_at (created_at + the task's TTL) and then deleted by the worker's sweeper.
CREATE TABLE tasks (
  id               text PRIMARY KEY,
  tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  -- Who created it (principal subject) and from which protocol generation (shapes the wire answers).
  subject          text NOT NULL,
  era              text NOT NULL CHECK (era IN ('modern', 'legacy')),
  tool             text NOT NULL,
  arguments        jsonb NOT NULL DEFAULT '{}',
  status           text NOT NULL CHECK (status IN ('working', 'input_required', 'completed', 'failed', 'cancelled')),
  status_message   text,
  -- Terminal payloads: the CallToolResult (completed) or a JSON-RPC error object (failed).
  result           jsonb,
  error            jsonb,
  -- Pending elicitations (key -> {method, params}) and the answers received so far (key -> response).
  input_requests   jsonb NOT NULL DEFAULT '{}',
  input_responses  jsonb NOT NULL DEFAULT '{}',
  -- Responses gathered before the task existed (MRTR phase), consumed in order by the first elicitations.
  prefilled        jsonb NOT NULL DEFAULT '[]',
  idempotency_key  text,
  -- Every failed attempt: [{attempt, at, message, code}] (the DLQ shows it).
  error_history    jsonb NOT NULL DEFAULT '[]',
  runs             integer NOT NULL DEFAULT 0,
  ttl_ms           integer NOT NULL CHECK (ttl_ms > 0),
  poll_interval_ms integer NOT NULL CHECK (poll_interval_ms > 0),
  version          integer NOT NULL DEFAULT 1,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  completed_at     timestamptz,
  expires_at       timestamptz NOT NULL
);
CREATE INDEX tasks_tenant_created_idx ON tasks (tenant_id, created_at DESC, id);
CREATE INDEX tasks_expires_idx ON tasks (expires_at);
CREATE UNIQUE INDEX tasks_idempotency_idx ON tasks (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
