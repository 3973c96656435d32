/**
 * Envelope encryption on the real PostgreSQL store: per-tenant data keys wrapped by the master key,
 * ciphertext bound to (tenant, upstream), tamper and wrong-key refusals, and rotation to a new master key.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { KeyUnavailableError, LocalKeyProvider } from '../../../service/src/gateway/crypto/key-provider.js';
import { SecretBox } from '../../../service/src/gateway/crypto/secret-box.js';
import { runMigrations } from '../../../service/src/store/pg/migrate.js';
import { PgTenantStore } from '../../../service/src/store/pg/pg-tenant-store.js';
import { PgUpstreamStore } from '../../../service/src/store/pg/upstream-store.js';
import { createTestDatabase, type TestDatabase } from '../../support/platform-db.js';

describe('federation: envelope encryption', function () {
  this.timeout(30_000);
  let db: TestDatabase;
  let pool: pg.Pool;
  let store: PgUpstreamStore;
  let tenantA: string;
  let tenantB: string;
  const master = randomBytes(32).toString('base64');

  before(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 3 });
    await runMigrations(pool);
    const tenants = new PgTenantStore(pool);
    tenantA = (await tenants.create({ name: 'a' })).id;
    tenantB = (await tenants.create({ name: 'b' })).id;
    store = new PgUpstreamStore(pool);
  });
  after(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('seals per tenant and upstream; another row, tenant or key cannot open it', async () => {
    const box = new SecretBox(store, new LocalKeyProvider(master));
    const up1 = randomUUID();
    const sealed = await box.seal(tenantA, up1, '{"bearer":"top-secret"}');
    assert.ok(!sealed.includes(Buffer.from('top-secret')));
    assert.equal(await box.open(tenantA, up1, sealed), '{"bearer":"top-secret"}');
    await assert.rejects(box.open(tenantA, randomUUID(), sealed), KeyUnavailableError, 'bound to the upstream id');
    await box.seal(tenantB, randomUUID(), 'x'); // B gets its own data key
    await assert.rejects(box.open(tenantB, up1, sealed), KeyUnavailableError, 'bound to the tenant');
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 1]! ^= 1;
    await assert.rejects(box.open(tenantA, up1, tampered), KeyUnavailableError, 'tampering detected');
    const other = new SecretBox(store, new LocalKeyProvider(randomBytes(32).toString('base64')));
    await assert.rejects(other.open(tenantA, up1, sealed), /not configured/, 'an unknown master key is refused by id');
    const keys = await pool.query('SELECT tenant_id FROM tenant_data_keys');
    assert.equal(keys.rowCount, 2, 'one data key per tenant');
  });

  it('rotates to a new master key; old ciphertexts still open; the old key is then unnecessary', async () => {
    const old = new SecretBox(store, new LocalKeyProvider(master));
    const id = randomUUID();
    const sealed = await old.seal(tenantA, id, 'rotate-me');
    const next = randomBytes(32).toString('base64');
    const rotating = new SecretBox(store, new LocalKeyProvider(next, [master]));
    const result = await rotating.rotateMaster();
    assert.equal(result.rewrapped, 2);
    assert.equal(result.remaining, 0);
    assert.equal((await rotating.rotateMaster()).rewrapped, 0, 'idempotent');
    const onlyNew = new SecretBox(store, new LocalKeyProvider(next));
    assert.equal(await onlyNew.open(tenantA, id, sealed), 'rotate-me', 'data itself was not re-encrypted, only its key re-wrapped');
    const ids = await pool.query('SELECT DISTINCT master_key_id FROM tenant_data_keys');
    assert.deepEqual(
      ids.rows.map((r: { master_key_id: string }) => r.master_key_id),
      [new LocalKeyProvider(next).currentKeyId],
    );
  });
});
