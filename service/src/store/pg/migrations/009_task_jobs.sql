-- Issue 19: PostgreSQL is the system of record of tasks and a queue is transport. Each task keeps the
-- region that accepted it and its job spec (retry policy, followed upstream task), so `tasks redrive`
-- can rebuild a lost queue's jobs (region failover, lost Redis, purged broker) from the records alone.
ALTER TABLE tasks ADD COLUMN region text;
ALTER TABLE tasks ADD COLUMN job jsonb;
CREATE INDEX tasks_unfinished_idx ON tasks (updated_at) WHERE status IN ('working', 'input_required');
