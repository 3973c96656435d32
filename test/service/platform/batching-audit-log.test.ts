import assert from 'node:assert/strict';
import type pg from 'pg';
import { createPgPool } from '../../../service/src/store/pg/pool.js';
import { runMigrations } from '../../../service/src/store/pg/migrate.js';
import { PgTenantStore } from '../../../service/src/store/pg/pg-tenant-store.js';
import { PgAuditLog } from '../../../service/src/store/pg/pg-audit-log.js';
import { BatchingAuditLog } from '../../../service/src/store/pg/batching-audit-log.js';
import type { AuditEntry } from '../../../service/src/store/ports.js';
import { createTestDatabase, type TestDatabase } from '../../support/platform-db.js';

const call = (tenantId: string | null, target: string, extra: Partial<AuditEntry> = {}): AuditEntry => ({
  tenantId,
  actor: 'key:k',
  action: 'tools/call',
  target,
  outcome: 'ok',
  ...extra,
});

describe('batched audit log (PostgreSQL)', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let tenantId: string;
  const statements: string[] = [];

  beforeEach(async () => {
    db = await createTestDatabase();
    pool = createPgPool({ connectionString: db.url, max: 4 });
    await runMigrations(pool);
    tenantId = (await new PgTenantStore(pool).create({ name: 'acme' })).id;
    statements.length = 0;
    // Count the INSERTs that reach the database.
    const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
    (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].startsWith('INSERT INTO audit_log')) statements.push(args[0]);
      return query(...args);
    };
  });
  afterEach(async () => {
    await pool.end();
    await db.drop();
  });

  it('writes queued entries in one INSERT per tenant after maxDelayMs, with every field', async () => {
    const audit = new BatchingAuditLog(new PgAuditLog(pool), { maxDelayMs: 30 });
    const done = Promise.all([
      audit.record(call(tenantId, 'a', { durationMs: 2.6, requestId: 'r1', detail: { era: 'modern' } })),
      audit.record(call(tenantId, 'b', { outcome: 'error' })),
      audit.record(call(null, 'c')),
    ]);
    assert.equal(statements.length, 0, 'nothing written before the delay');
    await done;
    assert.equal(statements.length, 2, 'one INSERT for the tenant, one for the entries without a tenant');
    const mine = await new PgAuditLog(pool).list({ tenantId });
    assert.deepEqual(mine.map((e) => [e.target, e.outcome]).sort(), [
      ['a', 'ok'],
      ['b', 'error'],
    ]);
    const a = mine.find((e) => e.target === 'a')!;
    assert.deepEqual(
      { durationMs: a.durationMs, requestId: a.requestId, detail: a.detail, actor: a.actor },
      { durationMs: 3, requestId: 'r1', detail: { era: 'modern' }, actor: 'key:k' },
    );
    assert.equal((await new PgAuditLog(pool).list({})).length, 3);
  });

  it('writes at once when maxEntries are queued', async () => {
    const audit = new BatchingAuditLog(new PgAuditLog(pool), { maxDelayMs: 60_000, maxEntries: 5 });
    await Promise.all(Array.from({ length: 5 }, (_, i) => audit.record(call(tenantId, `t${i}`))));
    assert.equal(statements.length, 1);
    assert.equal((await new PgAuditLog(pool).list({ tenantId })).length, 5);
  });

  it('list() and close() write what is queued: nothing recorded before shutdown is lost', async () => {
    const audit = new BatchingAuditLog(new PgAuditLog(pool), { maxDelayMs: 60_000 });
    void audit.record(call(tenantId, 'listed'));
    assert.deepEqual(
      (await audit.list({ tenantId })).map((e) => e.target),
      ['listed'],
    );
    for (let i = 0; i < 10; i++) void audit.record(call(tenantId, `late${i}`));
    await audit.close();
    assert.equal((await new PgAuditLog(pool).list({ tenantId })).length, 11);
    // After close, entries are written one by one.
    await audit.record(call(tenantId, 'after-close'));
    assert.equal((await new PgAuditLog(pool).list({ tenantId })).length, 12);
  });

  it('a bad entry does not take the rest of its batch with it; it goes to onError', async () => {
    const failed: AuditEntry[] = [];
    const audit = new BatchingAuditLog(new PgAuditLog(pool, (_err, entry) => failed.push(entry)), { maxDelayMs: 10 });
    await Promise.all([
      audit.record(call(tenantId, 'good1')),
      // Violates the outcome CHECK constraint.
      audit.record(call(tenantId, 'bad', { outcome: 'weird' as AuditEntry['outcome'] })),
      audit.record(call(tenantId, 'good2')),
    ]);
    assert.deepEqual(
      failed.map((e) => e.target),
      ['bad'],
    );
    assert.deepEqual((await new PgAuditLog(pool).list({ tenantId })).map((e) => e.target).sort(), ['good1', 'good2']);
  });
});
