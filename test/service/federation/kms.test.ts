/**
 * The KMS key provider against a loopback server speaking the real KMS wire protocol (test/support/fake-kms.ts:
 * JSON 1.1, `X-Amz-Target: TrentService.Encrypt|Decrypt`, SigV4 verified with the static test credentials):
 * the AWS SDK's requests really reach it. The server holds per-key AES-256-GCM material, authenticates the
 * EncryptionContext, and answers errors in KMS's shapes (AccessDeniedException, DisabledException,
 * IncorrectKeyException, InvalidCiphertextException, NotFoundException, ...).
 *
 * Covered: SecretBox round trip on PostgreSQL, wrong context refused, clear errors for unusable keys,
 * a gateway registering and using credentials with SECRETS_KMS_*, rotation local -> KMS -> new KMS key
 * through `npm run admin -- keys rotate-master` down to 0 remaining, and no secret in any log line.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pg from 'pg';
import { startGateway, type Gateway } from '../../../service/src/app.js';
import { loadConfig, ConfigError } from '../../../service/src/config.js';
import { createKeyProvider } from '../../../service/src/gateway/crypto/create-key-provider.js';
import { CompositeKeyProvider, KeyUnavailableError, LocalKeyProvider } from '../../../service/src/gateway/crypto/key-provider.js';
import { KmsKeyProvider } from '../../../service/src/gateway/crypto/kms-key-provider.js';
import { SecretBox } from '../../../service/src/gateway/crypto/secret-box.js';
import { createLogger } from '../../../service/src/log/logger.js';
import { runMigrations } from '../../../service/src/store/pg/migrate.js';
import { PgTenantStore } from '../../../service/src/store/pg/pg-tenant-store.js';
import { PgUpstreamStore } from '../../../service/src/store/pg/upstream-store.js';
import { createTestDatabase, createTestRedisPrefix, type TestDatabase } from '../../support/platform-db.js';
import { testEnv } from '../../support/platform-gateway.js';
import { FakeKms } from '../../support/fake-kms.js';
import { startModernUpstream, type UpstreamFixture } from './support/upstream-fixtures.js';
import { runAdminCli } from '../../support/admin-cli.js';

const REGION = 'eu-west-1';
const ACCOUNT = '111122223333';
const CREDENTIALS = { accessKeyId: 'AKIAUMCPKMSTEST00001', secretAccessKey: randomBytes(30).toString('base64') };

describe('federation: KMS key provider', function () {
  this.timeout(60_000);
  const kms = new FakeKms({ region: REGION, account: ACCOUNT, credentials: CREDENTIALS });
  let db: TestDatabase;
  let pool: pg.Pool;
  let store: PgUpstreamStore;
  let tenantA: string;
  let tenantB: string;
  let keyA: string;
  const provider = (keyId: string, extra: Partial<ConstructorParameters<typeof KmsKeyProvider>[0]> = {}) =>
    new KmsKeyProvider({ keyId, region: REGION, endpoint: kms.url, credentials: CREDENTIALS, ...extra });

  before(async () => {
    await kms.start();
    keyA = kms.createKey('alias/umcp-test-secrets');
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 3 });
    await runMigrations(pool);
    const tenants = new PgTenantStore(pool);
    tenantA = (await tenants.create({ name: 'kms-a' })).id;
    tenantB = (await tenants.create({ name: 'kms-b' })).id;
    store = new PgUpstreamStore(pool);
  });
  after(async () => {
    await pool?.end();
    await db?.drop();
    await kms.close();
  });

  it('wraps with KMS Encrypt and unwraps with Decrypt: SecretBox round trip on PostgreSQL', async () => {
    const before = { enc: kms.count('Encrypt'), dec: kms.count('Decrypt') };
    const kp = provider('alias/umcp-test-secrets');
    assert.equal(kp.currentKeyId, 'kms:alias/umcp-test-secrets', 'an alias is not resolved before KMS answered');
    const box = new SecretBox(store, kp);
    const up = randomUUID();
    const sealed = await box.seal(tenantA, up, '{"bearer":"kms-top-secret"}');
    assert.ok(!sealed.includes(Buffer.from('kms-top-secret')));
    assert.equal(await box.open(tenantA, up, sealed), '{"bearer":"kms-top-secret"}');
    assert.equal(kp.currentKeyId, `kms:${keyA}`, 'the alias resolved to the key ARN from the Encrypt answer');

    const { rows } = await pool.query('SELECT wrapped_key, master_key_id FROM tenant_data_keys WHERE tenant_id = $1', [tenantA]);
    assert.equal(rows[0].master_key_id, `kms:${keyA}`, 'stored as kms:<key ARN>');
    const dataKey = kms.plaintexts.at(-1)!;
    assert.equal(dataKey.length, 32, 'KMS saw a 32-byte data key');
    assert.ok(!(rows[0].wrapped_key as Buffer).includes(dataKey), 'the stored wrapped key does not hold the data key');

    // The SDK's requests reached the server, signed with the static credentials, with the tenant as context.
    assert.equal(kms.count('Encrypt') - before.enc, 1);
    assert.equal(kms.count('Decrypt') - before.dec, 1);
    const enc = kms.calls.filter((c) => c.op === 'Encrypt').at(-1)!;
    assert.equal(enc.accessKeyId, CREDENTIALS.accessKeyId);
    assert.equal(enc.keyId, 'alias/umcp-test-secrets');
    assert.deepEqual(enc.context, { purpose: 'umcp-tenant-data-key', tenant: tenantA });
    const dec = kms.calls.filter((c) => c.op === 'Decrypt').at(-1)!;
    assert.equal(dec.keyId, keyA, 'Decrypt names the stored key ARN');
    assert.deepEqual(dec.context, { purpose: 'umcp-tenant-data-key', tenant: tenantA });

    await box.open(tenantA, up, sealed);
    assert.equal(kms.count('Decrypt') - before.dec, 1, 'unwrapped data keys are cached in process');
    assert.equal(await new SecretBox(store, provider(keyA)).open(tenantA, up, sealed), '{"bearer":"kms-top-secret"}', 'the key ARN works as well as the alias');
    assert.equal(kms.count('Decrypt') - before.dec, 2);
  });

  it('refuses a wrapped data key presented under another encryption context (another tenant)', async () => {
    const kp = provider(keyA);
    const wrapped = await kp.wrap(randomBytes(32), tenantA);
    await assert.rejects(kp.unwrap(wrapped.wrappedKey, wrapped.masterKeyId, tenantB), (err: unknown) => {
      assert.ok(err instanceof KeyUnavailableError, String(err));
      assert.equal(err.code, 'InvalidCiphertextException');
      assert.match(err.message, /wrong encryption context/);
      return true;
    });
    // The same through the store: tenant B's row overwritten with tenant A's wrapped key does not open.
    const box = new SecretBox(store, kp);
    const up = randomUUID();
    const sealed = await box.seal(tenantB, up, 'b-secret');
    await pool.query(
      'UPDATE tenant_data_keys SET wrapped_key = a.wrapped_key, master_key_id = a.master_key_id FROM tenant_data_keys a WHERE a.tenant_id = $1 AND tenant_data_keys.tenant_id = $2',
      [tenantA, tenantB],
    );
    await assert.rejects(new SecretBox(store, kp).open(tenantB, up, sealed), /InvalidCiphertextException/);
  });

  it('turns unusable keys into a clear KeyUnavailableError: disabled, access denied, wrong key, unknown alias, bad credentials', async () => {
    const kp = provider(keyA);
    const wrapped = await kp.wrap(randomBytes(32), tenantA);
    const unwrap = () => provider(keyA).unwrap(wrapped.wrappedKey, wrapped.masterKeyId, tenantA);
    const refused =
      (code: string, hint: RegExp, key = keyA) =>
      (err: unknown) => {
        assert.ok(err instanceof KeyUnavailableError, `${code}: ${String(err)}`);
        assert.equal(err.code, code);
        assert.match(err.message, hint);
        assert.ok(err.message.includes(`with key ${key}`), `names the key: ${err.message}`);
        return true;
      };

    kms.setEnabled(keyA, false);
    try {
      await assert.rejects(unwrap(), refused('DisabledException', /key is disabled/));
      await assert.rejects(kp.wrap(randomBytes(32), tenantA), refused('DisabledException', /KMS Encrypt .* refused/));
    } finally {
      kms.setEnabled(keyA, true);
    }
    kms.denied.add(keyA);
    try {
      await assert.rejects(unwrap(), refused('AccessDeniedException', /kms:Encrypt and kms:Decrypt/));
    } finally {
      kms.denied.delete(keyA);
    }
    const keyB = kms.createKey();
    await assert.rejects(kp.unwrap(wrapped.wrappedKey, `kms:${keyB}`, tenantA), refused('IncorrectKeyException', /not produced by the key/, keyB));
    await assert.rejects(provider('alias/nope').wrap(randomBytes(32), tenantA), refused('NotFoundException', /does not exist/, 'alias/nope'));
    await assert.rejects(
      provider(keyA, { credentials: { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' } }).unwrap(wrapped.wrappedKey, wrapped.masterKeyId, tenantA),
      refused('UnrecognizedClientException', /credentials are not valid/),
    );
    await assert.rejects(
      provider(keyA, { credentials: { accessKeyId: CREDENTIALS.accessKeyId, secretAccessKey: 'wrong-secret' } }).unwrap(
        wrapped.wrappedKey,
        wrapped.masterKeyId,
        tenantA,
      ),
      refused('InvalidSignatureException', /signature rejected/),
    );
    await assert.rejects(kp.unwrap(wrapped.wrappedKey, 'local:0123456789abcdef', tenantA), /not a KMS key/);
    await assert.rejects(
      kp.unwrap(wrapped.wrappedKey, `kms:arn:aws:kms:us-east-1:${ACCOUNT}:key/${randomUUID()}`, tenantA),
      /is in region us-east-1.*calls KMS in eu-west-1/,
    );
    assert.deepEqual(await unwrap(), await kp.unwrap(wrapped.wrappedKey, wrapped.masterKeyId, tenantA), 'usable again once enabled and allowed');
  });

  it('retries server errors in the SDK and then reports them as plain (transient) errors', async () => {
    const kp = provider(keyA);
    const wrapped = await kp.wrap(randomBytes(32), tenantA);
    const failedBefore = kms.count('Decrypt', 500);
    kms.failNext(1);
    assert.equal((await kp.unwrap(wrapped.wrappedKey, wrapped.masterKeyId, tenantA)).length, 32, 'one failure is retried');
    kms.failNext(3);
    await assert.rejects(kp.unwrap(wrapped.wrappedKey, wrapped.masterKeyId, tenantA), (err: unknown) => {
      assert.ok(!(err instanceof KeyUnavailableError), 'not a key problem');
      assert.match(String(err), /KMS Decrypt with key .* failed: KMSInternalException/);
      return true;
    });
    assert.equal(kms.count('Decrypt', 500) - failedBefore, 4, 'the SDK made 3 attempts on the second call');
  });

  it('composes: KMS wraps, the local master key still unwraps local: keys, SecretBox rotates them to KMS', async () => {
    const master = randomBytes(32).toString('base64');
    const local = new LocalKeyProvider(master);
    const tenants = new PgTenantStore(pool);
    const t = (await tenants.create({ name: `kms-mix-${randomBytes(3).toString('hex')}` })).id;
    const up = randomUUID();
    const sealed = await new SecretBox(store, local).seal(t, up, 'from-the-local-era');
    const composite = new CompositeKeyProvider(provider('alias/umcp-test-secrets'), [local]);
    assert.equal(composite.currentKeyId, 'kms:alias/umcp-test-secrets');
    const box = new SecretBox(store, composite);
    assert.equal(await box.open(t, up, sealed), 'from-the-local-era', 'a local: wrap opens while KMS is current');
    const result = await box.rotateMaster();
    assert.equal(result.masterKeyId, `kms:${keyA}`, 'rotation resolved the alias before comparing ids');
    assert.equal(result.remaining, 0);
    assert.ok(result.rewrapped >= 1);
    const ids = await pool.query('SELECT DISTINCT master_key_id FROM tenant_data_keys');
    assert.deepEqual(
      ids.rows.map((r: { master_key_id: string }) => r.master_key_id),
      [`kms:${keyA}`],
    );
    assert.equal(await new SecretBox(store, provider(keyA)).open(t, up, sealed), 'from-the-local-era', 'KMS alone opens it now');
    await assert.rejects(new SecretBox(store, local).open(t, up, sealed), /no key provider|not configured|not a/i);
  });

  describe('configuration', () => {
    const MINIMAL = {
      DATABASE_URL: 'postgres://u@127.0.0.1:5432/db',
      REDIS_URL: 'redis://127.0.0.1:6379',
      REQUEST_STATE_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    };
    const issues = (env: Record<string, string>) => {
      try {
        loadConfig({ ...MINIMAL, ...env });
      } catch (err) {
        assert.ok(err instanceof ConfigError);
        return err.issues;
      }
      return [];
    };

    it('accepts key ids, key and alias ARNs and aliases; a non-ARN id needs AWS_REGION', () => {
      assert.deepEqual(issues({ SECRETS_KMS_KEY_ID: keyA }), []);
      assert.deepEqual(issues({ SECRETS_KMS_KEY_ID: `arn:aws:kms:${REGION}:${ACCOUNT}:alias/umcp-prod-eu-west-1-secrets` }), []);
      assert.deepEqual(
        issues({ SECRETS_KMS_KEY_ID: 'alias/umcp-test-secrets', AWS_REGION: REGION, SECRETS_KMS_ENDPOINT: 'https://kms.eu-west-1.amazonaws.com' }),
        [],
      );
      assert.deepEqual(issues({ SECRETS_KMS_KEY_ID: randomUUID(), AWS_REGION: REGION }), []);
      assert.match(
        issues({ SECRETS_KMS_KEY_ID: 'alias/umcp-test-secrets' })[0]!,
        /^AWS_REGION: required with SECRETS_KMS_KEY_ID unless it is a key or alias ARN/,
      );
      assert.match(issues({ SECRETS_KMS_KEY_ID: 'not a key' })[0]!, /^SECRETS_KMS_KEY_ID: expected a KMS key id, key ARN, alias\/<name> or alias ARN/);
      assert.match(issues({ SECRETS_KMS_KEY_ID: keyA, SECRETS_KMS_ENDPOINT: 'kms.internal' })[0]!, /^SECRETS_KMS_ENDPOINT: /);
      assert.match(issues({ AWS_REGION: 'Europe' })[0]!, /^AWS_REGION: expected an AWS region name/);
    });

    it('builds KMS when SECRETS_KMS_KEY_ID is set (composite with a local key still set), else local, else none', () => {
      const master = randomBytes(32).toString('base64');
      const cfg = (env: Record<string, string>) => loadConfig({ ...MINIMAL, ...env });
      assert.equal(createKeyProvider(cfg({})), undefined);
      assert.ok(createKeyProvider(cfg({ SECRETS_MASTER_KEY: master })) instanceof LocalKeyProvider);
      const kmsOnly = createKeyProvider(cfg({ SECRETS_KMS_KEY_ID: keyA }));
      assert.ok(kmsOnly instanceof KmsKeyProvider);
      assert.equal(kmsOnly.currentKeyId, `kms:${keyA}`);
      assert.equal(kmsOnly.region, REGION, 'the region of the key ARN');
      const mixed = createKeyProvider(cfg({ SECRETS_KMS_KEY_ID: keyA, SECRETS_PREVIOUS_MASTER_KEYS: master }));
      assert.ok(mixed instanceof CompositeKeyProvider);
      assert.equal(mixed.currentKeyId, `kms:${keyA}`, 'KMS wraps');
      assert.ok(mixed.handles(new LocalKeyProvider(master).currentKeyId), 'the local key still unwraps');
    });
  });

  describe('gateway with SECRETS_KMS_KEY_ID', () => {
    let upstream: UpstreamFixture;
    let gdb: TestDatabase;
    let redis: ReturnType<typeof createTestRedisPrefix>;
    const adminToken = randomBytes(24).toString('hex');
    const masterKey = randomBytes(32).toString('base64');
    const bearer = `kms-bearer-${randomBytes(8).toString('hex')}`;
    const headerSecret = `hdr-${randomBytes(8).toString('hex')}`;
    const logLines: string[] = [];
    const logSink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logLines.push(chunk.toString('utf8'));
        cb();
      },
    });
    const saved: Record<string, string | undefined> = {};
    const AWS_ENV = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_REGION'];
    let running: Gateway | undefined;

    const start = async (env: Record<string, string>) => {
      await running?.close();
      const config = loadConfig(testEnv({ UPSTREAM_ALLOWLIST: '127.0.0.0/8,localhost', RATE_LIMIT_PER_MINUTE: '0', ...env }, gdb, redis.prefix, adminToken));
      running = await startGateway(config, { logger: createLogger({ level: 'trace', destination: logSink }) });
      return running;
    };
    const admin = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${running!.url}/admin/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    };
    const cli = (...args: string[]) => runAdminCli(args, { ...process.env, ADMIN_URL: running!.url, ADMIN_TOKEN: adminToken });
    const storedIds = async () => {
      const c = new pg.Client({ connectionString: gdb.url });
      await c.connect();
      try {
        return (await c.query('SELECT master_key_id FROM tenant_data_keys ORDER BY master_key_id')).rows.map((r: { master_key_id: string }) => r.master_key_id);
      } finally {
        await c.end();
      }
    };
    const credentialsWork = async (tenant: string, name: string) => {
      const t = await admin('POST', `/tenants/${tenant}/upstreams/${name}/test`);
      assert.equal(t.status, 200, JSON.stringify(t.body));
      assert.equal(t.body.test.ok, true, JSON.stringify(t.body));
      assert.equal(upstream.seen.authorization, `Bearer ${bearer}`, 'the decrypted bearer reached the upstream');
      assert.equal(upstream.seen.apiKey, headerSecret);
    };

    before(async () => {
      // The gateway's KMS client takes credentials from the AWS SDK default chain: here the environment.
      for (const k of AWS_ENV) saved[k] = process.env[k];
      for (const k of AWS_ENV) delete process.env[k];
      process.env.AWS_ACCESS_KEY_ID = CREDENTIALS.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = CREDENTIALS.secretAccessKey;
      [upstream, gdb] = await Promise.all([startModernUpstream('kms'), createTestDatabase()]);
      redis = createTestRedisPrefix();
    });
    after(async () => {
      await running?.close();
      await upstream?.close();
      await gdb?.drop();
      await redis?.cleanup();
      for (const k of AWS_ENV) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    });

    it('moves from the local master key to KMS, then to a new KMS key, with keys rotate-master; no secret in the logs', async () => {
      const kmsEnv = { SECRETS_KMS_KEY_ID: 'alias/umcp-test-secrets', SECRETS_KMS_ENDPOINT: kms.url, AWS_REGION: REGION };
      const credentials = { bearer, headers: { 'X-Api-Key': headerSecret } };

      // 1. Local master key only: tenant acme's data key is local:.
      await start({ SECRETS_MASTER_KEY: masterKey });
      assert.equal((await admin('POST', '/tenants', { name: 'acme', toolsets: ['diagnostics'] })).status, 201);
      assert.equal((await admin('POST', '/tenants', { name: 'beta', toolsets: ['diagnostics'] })).status, 201);
      assert.equal((await admin('POST', '/tenants/acme/upstreams', { name: 'secure', url: upstream.url, credentials })).status, 201);
      await credentialsWork('acme', 'secure');
      const localId = new LocalKeyProvider(masterKey).currentKeyId;
      assert.deepEqual(await storedIds(), [localId]);

      // 2. KMS current, the local key kept for unwrapping: old credentials open, new ones are wrapped by KMS.
      const calls = kms.calls.length;
      await start({ ...kmsEnv, SECRETS_MASTER_KEY: masterKey });
      await credentialsWork('acme', 'secure');
      const created = await admin('POST', '/tenants/beta/upstreams', { name: 'secure', url: upstream.url, credentials });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      await credentialsWork('beta', 'secure');
      assert.deepEqual(await storedIds(), [`kms:${keyA}`, localId].sort());
      assert.ok(
        kms.calls.slice(calls).some((c) => c.op === 'Encrypt' && c.status === 200 && c.accessKeyId === CREDENTIALS.accessKeyId),
        'the gateway called the KMS',
      );

      // 3. keys rotate-master: the local: data key is re-wrapped under the KMS key; nothing remains.
      const rotate = await cli('keys', 'rotate-master');
      assert.equal(rotate.code, 0, rotate.stderr);
      assert.match(rotate.stdout, new RegExp(`re-wrapped 1 data key\\(s\\) under kms:${keyA.replace(/[/]/g, '\\/')}; 0 remaining`));
      assert.deepEqual(await storedIds(), [`kms:${keyA}`, `kms:${keyA}`]);

      // 4. KMS only (the local key dropped): everything still opens.
      await start(kmsEnv);
      await credentialsWork('acme', 'secure');
      await credentialsWork('beta', 'secure');

      // 5. A new KMS key (by ARN): new wraps use it, old data keys unwrap with Decrypt under the old ARN,
      //    rotate-master moves them; afterwards the old key can be disabled.
      const keyB = kms.createKey();
      await start({ ...kmsEnv, SECRETS_KMS_KEY_ID: keyB });
      await credentialsWork('acme', 'secure');
      assert.ok(
        kms.calls.some((c) => c.op === 'Decrypt' && c.keyId === keyA && c.status === 200),
        'Decrypt named the old key',
      );
      const again = await cli('keys', 'rotate-master', '--json');
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(JSON.parse(again.stdout), { rewrapped: 2, remaining: 0, masterKeyId: `kms:${keyB}` });
      assert.deepEqual(await storedIds(), [`kms:${keyB}`, `kms:${keyB}`]);
      kms.setEnabled(keyA, false);
      try {
        await start({ ...kmsEnv, SECRETS_KMS_KEY_ID: keyB });
        await credentialsWork('acme', 'secure');
        await credentialsWork('beta', 'secure');

        // 6. The KMS key disabled: the credentials do not open, and the log says why.
        kms.setEnabled(keyB, false);
        await start({ ...kmsEnv, SECRETS_KMS_KEY_ID: keyB });
        const t = await admin('POST', '/tenants/acme/upstreams/secure/test');
        assert.equal(t.status, 503, JSON.stringify(t.body));
        assert.equal(t.body.error.code, 'key-unavailable');
        assert.match(t.body.error.message, /DisabledException/);
        // The answer names the refusal; the log line says which key and tenant (no secret material).
        assert.match(
          t.body.error.message,
          new RegExp(`KMS Decrypt with key ${keyB.replace(/[/]/g, '\\/')} for tenant [0-9a-f-]+ refused: DisabledException: the key is disabled`),
        );
        assert.match(
          logLines.join(''),
          new RegExp(`"op":"Decrypt","keyId":"${keyB.replace(/[/]/g, '\\/')}","tenantId":"[0-9a-f-]+","code":"DisabledException"`),
        );
      } finally {
        kms.setEnabled(keyA, true);
        kms.setEnabled(keyB, true);
      }
      await running?.close();
      running = undefined;

      // Logs: written (the KMS key line is there) and free of every secret and data key.
      const logs = logLines.join('');
      assert.match(logs, /credential encryption: KMS; local master keys only unwrap/);
      assert.match(logs, /KMS: data keys are wrapped under this key/);
      assert.match(logs, /KMS refused the key/);
      for (const secret of [bearer, headerSecret, masterKey, CREDENTIALS.secretAccessKey]) assert.ok(!logs.includes(secret), 'a secret reached the logs');
      assert.ok(kms.plaintexts.length >= 3);
      for (const dk of kms.plaintexts) {
        for (const form of [dk.toString('base64'), dk.toString('hex'), dk.toString('base64url')])
          assert.ok(!logs.includes(form), 'a data key reached the logs');
      }
    });
  });
});
