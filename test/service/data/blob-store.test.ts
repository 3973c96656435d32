/**
 * One conformance suite for the BlobStore port, run on every adapter: the local directory (real temp dir)
 * and S3 (a real s3rver on a free loopback port).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  InvalidBlobKeyError,
  LocalBlobStore,
  S3BlobStore,
  createBlobStore,
  type BlobRetention,
  type BlobStore,
} from '../../../service/src/store/blob/index.js';
import { freePort } from './support/pg-cluster.js';

interface S3rverInstance {
  run(): Promise<unknown>;
  close(): Promise<void>;
}
const S3rver = createRequire(import.meta.url)('s3rver') as new (opts: Record<string, unknown>) => S3rverInstance;

const DAY = 86_400_000;

async function text(store: BlobStore, tenant: string, key: string): Promise<string | null> {
  const obj = await store.get(tenant, key);
  if (!obj) return null;
  const chunks: Buffer[] = [];
  for await (const c of obj.body) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The behaviour every BlobStore adapter must have. */
function conformance(name: string, setup: { make(retention?: BlobRetention): Promise<BlobStore>; teardown(): Promise<void> }) {
  describe(`BlobStore conformance: ${name}`, function () {
    this.timeout(30_000);
    let store: BlobStore;
    before(async () => {
      store = await setup.make();
    });
    after(async () => {
      await store?.close();
      await setup.teardown();
    });

    describe('put/get', () => {
      it('round-trips bytes, content type, size and write time', async () => {
        const t0 = Date.now();
        const info = await store.put('t1', 'results/a.json', '{"ok":true}', { contentType: 'application/json' });
        assert.equal(info.size, 11);
        assert.equal(info.contentType, 'application/json');
        assert.ok(Math.abs(info.createdAt.getTime() - t0) < 5_000);
        const obj = await store.get('t1', 'results/a.json');
        assert.equal(obj?.contentType, 'application/json');
        assert.equal(obj?.size, 11);
        obj?.body.destroy();
        assert.equal(await text(store, 't1', 'results/a.json'), '{"ok":true}');
      });

      it('accepts a stream and replaces an existing object', async () => {
        await store.put('t1', 'big.bin', Readable.from([Buffer.alloc(300_000, 1), Buffer.from('end')]));
        assert.equal((await store.get('t1', 'big.bin'))?.size, 300_003);
        await store.put('t1', 'big.bin', Buffer.from('small'));
        assert.equal(await text(store, 't1', 'big.bin'), 'small');
        assert.equal((await store.get('t1', 'big.bin'))?.contentType, 'application/octet-stream');
      });

      it('returns null for a missing object', async () => {
        assert.equal(await store.get('t1', 'nope'), null);
      });
    });

    describe('tenant prefixes', () => {
      it("keeps tenants apart: same key, different objects; one tenant cannot read another's", async () => {
        await store.put('t2', 'shared-name', 'two');
        await store.put('t3', 'shared-name', 'three');
        assert.equal(await text(store, 't2', 'shared-name'), 'two');
        assert.equal(await text(store, 't3', 'shared-name'), 'three');
        assert.equal(await store.get('t4', 'shared-name'), null);
        assert.deepEqual(
          (await store.list('t4')).map((o) => o.key),
          [],
        );
      });

      it('rejects keys and tenant ids that could escape the prefix', async () => {
        for (const [tenant, key] of [
          ['t1', '../t2/shared-name'],
          ['t1', 'a/../../x'],
          ['../t2', 'x'],
          ['t1', '/abs'],
          ['t1', 'a//b'],
          ['t1', ''],
        ]) {
          await assert.rejects(store.put(tenant!, key!, 'x'), InvalidBlobKeyError, `${tenant} ${key}`);
          await assert.rejects(store.get(tenant!, key!), InvalidBlobKeyError);
        }
      });
    });

    describe('list/delete', () => {
      it("lists the tenant's keys by prefix in key order, with limit", async () => {
        for (const k of ['logs/2', 'logs/1', 'logs/sub/3', 'other']) await store.put('t5', k, k);
        assert.deepEqual(
          (await store.list('t5', { prefix: 'logs/' })).map((o) => o.key),
          ['logs/1', 'logs/2', 'logs/sub/3'],
        );
        assert.deepEqual(
          (await store.list('t5')).map((o) => o.key),
          ['logs/1', 'logs/2', 'logs/sub/3', 'other'],
        );
        assert.equal((await store.list('t5', { limit: 2 })).length, 2);
        const [first] = await store.list('t5', { prefix: 'logs/1' });
        assert.equal(first?.size, 6);
      });

      it('deletes and tells whether the object existed', async () => {
        await store.put('t6', 'gone', 'x');
        assert.equal(await store.delete('t6', 'gone'), true);
        assert.equal(await store.delete('t6', 'gone'), false);
        assert.equal(await store.get('t6', 'gone'), null);
      });
    });

    describe('retention', () => {
      it('purges objects older than the retention age, of every tenant, and keeps newer ones', async () => {
        const r = await setup.make({ maxAgeMs: DAY });
        try {
          await r.put('t7', 'old-1', 'x');
          await r.put('t8', 'old-2', 'y');
          assert.equal(await r.purgeExpired(new Date()), 0, 'nothing is a day old yet');
          const purged = await r.purgeExpired(new Date(Date.now() + 2 * DAY));
          assert.ok(purged >= 2, `purged ${purged}`);
          assert.equal(await r.get('t7', 'old-1'), null);
          assert.equal(await r.get('t8', 'old-2'), null);
        } finally {
          await r.close();
        }
      });

      it('keeps everything without a retention age', async () => {
        await store.put('t9', 'keep', 'x');
        assert.equal(await store.purgeExpired(new Date(Date.now() + 1000 * DAY)), 0);
        assert.equal(await text(store, 't9', 'keep'), 'x');
      });
    });
  });
}

let dir = '';
conformance('local directory', {
  async make(retention) {
    dir ||= await mkdtemp(join(tmpdir(), 'umcp-f-blobs-'));
    return new LocalBlobStore({ root: dir, retention });
  },
  async teardown() {
    if (dir) await rm(dir, { recursive: true, force: true });
  },
});

let server: S3rverInstance | undefined;
let s3dir = '';
let endpoint = '';
conformance('S3 (s3rver)', {
  async make(retention) {
    if (!server) {
      s3dir = await mkdtemp(join(tmpdir(), 'umcp-f-s3rver-'));
      const port = await freePort();
      server = new S3rver({ port, address: '127.0.0.1', silent: true, directory: s3dir });
      await server.run();
      endpoint = `http://127.0.0.1:${port}`;
      const admin = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
      await admin.send(new CreateBucketCommand({ Bucket: 'umcp-test' }));
      admin.destroy();
    }
    // Through the config factory, as the service builds it.
    process.env.AWS_ACCESS_KEY_ID ??= 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'S3RVER';
    const store = createBlobStore({
      BLOB_BACKEND: 's3',
      BLOB_LOCAL_DIR: '',
      BLOB_S3_BUCKET: 'umcp-test',
      BLOB_S3_PREFIX: retention ? 'retention/' : 'umcp/',
      BLOB_S3_REGION: 'us-east-1',
      BLOB_S3_ENDPOINT: endpoint,
      BLOB_S3_FORCE_PATH_STYLE: true,
      BLOB_RETENTION_DAYS: retention?.maxAgeMs ? retention.maxAgeMs / DAY : 0,
    });
    assert.ok(store instanceof S3BlobStore);
    return store;
  },
  async teardown() {
    await server?.close();
    if (s3dir) await rm(s3dir, { recursive: true, force: true });
  },
});
