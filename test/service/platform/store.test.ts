import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { createPgPool } from '../../../service/src/store/pg/pool.js';
import { loadMigrations, migrationsCurrent, runMigrations } from '../../../service/src/store/pg/migrate.js';
import { PgTenantStore } from '../../../service/src/store/pg/pg-tenant-store.js';
import { PgApiKeyStore, parseApiKey } from '../../../service/src/store/pg/pg-api-key-store.js';
import { PgAuditLog } from '../../../service/src/store/pg/pg-audit-log.js';
import { ConflictError, NotFoundError } from '../../../service/src/store/ports.js';
import { createTestDatabase, type TestDatabase } from '../../support/platform-db.js';

describe('PostgreSQL store', () => {
  let db: TestDatabase;
  let pool: pg.Pool;

  beforeEach(async () => {
    db = await createTestDatabase();
    pool = createPgPool({ connectionString: db.url, max: 4 });
  });
  afterEach(async () => {
    await pool.end();
    await db.drop();
  });

  describe('migrations', () => {
    const dirs: string[] = [];
    const tempDir = () => {
      const dir = mkdtempSync(join(tmpdir(), 'umcp-mig-'));
      dirs.push(dir);
      return dir;
    };
    after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

    it('apply once and are idempotent on a second run', async () => {
      const first = await runMigrations(pool);
      assert.deepEqual(
        first.applied,
        loadMigrations().map((m) => m.version),
      );
      const second = await runMigrations(pool);
      assert.deepEqual(second.applied, []);
      assert.equal(await migrationsCurrent(pool), true);
      const { rows } = await pool.query('SELECT count(*)::int AS n FROM schema_migrations');
      assert.equal(rows[0].n, loadMigrations().length);
    });

    it('are safe when several runners start at once (advisory lock)', async () => {
      const pools = [0, 1, 2].map(() => createPgPool({ connectionString: db.url, max: 1 }));
      try {
        const results = await Promise.all(pools.map((p) => runMigrations(p)));
        const appliedBy = results.filter((r) => r.applied.length > 0);
        assert.equal(appliedBy.length, 1, 'exactly one runner applies the migrations');
        assert.equal(await migrationsCurrent(pool), true);
      } finally {
        await Promise.all(pools.map((p) => p.end()));
      }
    });

    it('refuse an applied migration whose file changed', async () => {
      const dir = tempDir();
      writeFileSync(join(dir, '001_t.sql'), 'CREATE TABLE t1 (id int);');
      await runMigrations(pool, loadMigrations(dir));
      writeFileSync(join(dir, '001_t.sql'), 'CREATE TABLE t1 (id bigint);');
      await assert.rejects(runMigrations(pool, loadMigrations(dir)), /001_t.sql was changed after it was applied/);
    });

    it('roll back a failing migration completely', async () => {
      const dir = tempDir();
      writeFileSync(join(dir, '001_ok.sql'), 'CREATE TABLE ok1 (id int);');
      writeFileSync(join(dir, '002_bad.sql'), 'CREATE TABLE bad (id nosuchtype);');
      await assert.rejects(runMigrations(pool, loadMigrations(dir)), /migration 002_bad.sql failed/);
      const { rows } = await pool.query("SELECT to_regclass('ok1') AS t");
      assert.equal(rows[0].t, null);
    });
  });

  describe('tenants', () => {
    let tenants: PgTenantStore;
    beforeEach(async () => {
      await runMigrations(pool);
      tenants = new PgTenantStore(pool);
    });

    it('create, get by id or name, list, disable, set toolsets', async () => {
      const t = await tenants.create({ name: 'acme', toolsets: ['platform'] });
      assert.equal(t.status, 'active');
      assert.deepEqual(t.toolsets, ['platform']);
      assert.deepEqual(await tenants.get(t.id), t);
      assert.deepEqual(await tenants.find('acme'), t);
      assert.deepEqual(await tenants.find(t.id), t);
      assert.equal(await tenants.get('not-a-uuid'), null);
      assert.equal((await tenants.setStatus(t.id, 'disabled')).status, 'disabled');
      assert.deepEqual((await tenants.setToolsets(t.id, ['diagnostics'])).toolsets, ['diagnostics']);
      assert.deepEqual(
        (await tenants.list()).map((x) => x.name),
        ['acme'],
      );
    });

    it('maps a duplicate name to ConflictError and an unknown id to NotFoundError', async () => {
      await tenants.create({ name: 'acme' });
      await assert.rejects(tenants.create({ name: 'acme' }), ConflictError);
      await assert.rejects(tenants.setStatus('00000000-0000-4000-8000-000000000000', 'disabled'), NotFoundError);
    });

    it('ensure is idempotent, also when called concurrently', async () => {
      const all = await Promise.all([1, 2, 3, 4].map(() => tenants.ensure({ name: 'demo', toolsets: ['platform'] })));
      assert.equal(new Set(all.map((t) => t.id)).size, 1);
      assert.equal((await tenants.list()).length, 1);
    });
  });

  describe('API keys', () => {
    let tenants: PgTenantStore;
    let keys: PgApiKeyStore;
    beforeEach(async () => {
      await runMigrations(pool);
      tenants = new PgTenantStore(pool);
      keys = new PgApiKeyStore(pool);
    });

    it('stores only a hash: the secret appears nowhere in the table', async () => {
      const t = await tenants.create({ name: 'acme' });
      const { key, record } = await keys.create(t.id, 'ci');
      const parsed = parseApiKey(key);
      assert.ok(parsed, `key format: ${key}`);
      assert.equal(record.prefix, parsed.prefix);
      const { rows } = await pool.query('SELECT * FROM api_keys');
      const dump = JSON.stringify(rows.map((r: Record<string, unknown>) => ({ ...r, hash: (r.hash as Buffer).toString('hex') })));
      assert.ok(!dump.includes(parsed.secret), 'secret stored in clear');
      assert.ok(!dump.includes(Buffer.from(parsed.secret).toString('hex')), 'secret stored as bytes');
      assert.equal((rows[0].hash as Buffer).length, 32);
    });

    it('verifies a key to its tenant principal; refuses wrong, revoked and disabled-tenant keys', async () => {
      const t = await tenants.create({ name: 'acme', toolsets: ['platform'] });
      const { key, record } = await keys.create(t.id, 'ci');
      const p = await keys.verify(key);
      assert.deepEqual(p, { tenantId: t.id, tenantName: 'acme', subject: `key:${record.id}`, kind: 'api-key', toolsets: ['platform'], scopes: [] });
      const tampered = key.slice(0, -2) + (key.endsWith('AA') ? 'BB' : 'AA');
      assert.equal(await keys.verify(tampered), null);
      assert.equal(await keys.verify('umcp_000000000000_' + 'A'.repeat(43)), null);
      assert.equal(await keys.verify('not a key'), null);
      await tenants.setStatus(t.id, 'disabled');
      assert.equal(await keys.verify(key), null);
      await tenants.setStatus(t.id, 'active');
      await keys.revoke(t.id, record.id);
      assert.equal(await keys.verify(key), null);
      await keys.revoke(t.id, record.id); // idempotent
      const [listed] = await keys.list(t.id);
      assert.ok(listed!.revokedAt instanceof Date);
    });

    it("refuses revoking another tenant's key", async () => {
      const a = await tenants.create({ name: 'a' });
      const b = await tenants.create({ name: 'b' });
      const { key, record } = await keys.create(a.id, 'k');
      await assert.rejects(keys.revoke(b.id, record.id), NotFoundError);
      assert.ok(await keys.verify(key));
    });

    it('writes last_used_at at most once a minute, not on every verification', async () => {
      const t = await tenants.create({ name: 'acme' });
      const { key, record } = await keys.create(t.id, 'k');
      await keys.verify(key);
      await new Promise((r) => setTimeout(r, 100)); // the write is fire-and-forget
      const first = (await keys.list(t.id))[0]!.lastUsedAt;
      assert.ok(first instanceof Date);
      for (let i = 0; i < 5; i++) await keys.verify(key);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal((await keys.list(t.id))[0]!.lastUsedAt!.getTime(), first.getTime());
      // A second process (fresh store) also sees the recent value and does not write.
      const other = new PgApiKeyStore(pool);
      await other.verify(key);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal((await keys.list(t.id))[0]!.lastUsedAt!.getTime(), first.getTime());
      assert.equal(record.lastUsedAt, null);
    });

    it('refuses keys for an unknown tenant', async () => {
      await assert.rejects(keys.create('00000000-0000-4000-8000-000000000000', 'k'), NotFoundError);
    });
  });

  describe('audit log', () => {
    it('records entries and lists them newest first, by tenant', async () => {
      await runMigrations(pool);
      const tenants = new PgTenantStore(pool);
      const audit = new PgAuditLog(pool);
      const t = await tenants.create({ name: 'acme' });
      await audit.record({ tenantId: t.id, actor: 'admin', action: 'tenant.create', target: 'acme', outcome: 'ok', durationMs: 3.7, requestId: 'r1' });
      await audit.record({ tenantId: null, actor: 'key:x', action: 'tools/call', target: 'echo', outcome: 'error', detail: { code: -32602 } });
      const all = await audit.list({});
      assert.deepEqual(
        all.map((e) => e.action),
        ['tools/call', 'tenant.create'],
      );
      const mine = await audit.list({ tenantId: t.id });
      assert.equal(mine.length, 1);
      assert.equal(mine[0]!.durationMs, 4);
      assert.equal(mine[0]!.requestId, 'r1');
      assert.deepEqual(all[0]!.detail, { code: -32602 });
    });

    it('never throws into the caller: a failed insert goes to onError', async () => {
      // No migrations: the table does not exist.
      const errors: unknown[] = [];
      const audit = new PgAuditLog(pool, (err) => errors.push(err));
      await audit.record({ tenantId: null, actor: 'admin', action: 'x', outcome: 'ok' });
      assert.equal(errors.length, 1);
    });
  });
});
