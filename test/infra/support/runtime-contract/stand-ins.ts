/**
 * Local stand-ins for the cloud endpoints a stack's manifests name, for the runtime contract test. The one
 * table {@link REPLACEMENTS} lists every environment change the test makes; nothing else in a container's
 * environment is touched. One instance per stack run: fresh PostgreSQL databases (one per shard), two
 * Redis logical databases (state, cache), an s3rver with the stack's bucket, a KMS wire-protocol server
 * holding the stack's key ARN, and a directory standing in for the /tmp emptyDir.
 */
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { FakeKms } from '../../../support/fake-kms.js';
import { createTestDatabase, testServiceUrls, type TestDatabase } from '../../../support/platform-db.js';

/**
 * Redis logical databases reserved for this test (state and cache roles). A logical database rather than
 * REDIS_KEY_PREFIX: BullMQ keys (TASK_QUEUE_PREFIX, read by KEDA as `bull:umcp-tasks:wait`) do not carry the
 * service's key prefix, and the test must not change either prefix.
 */
export const REDIS_DB = { state: 12, cache: 13 } as const;

/** s3rver's fixed credentials; the fake KMS accepts the same pair (the AWS SDK signs both with one chain). */
const STATIC_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** One row of the replacement table: which key, what production has, what the test gives instead. */
export interface Replacement {
  readonly key: string;
  readonly production: string;
  readonly standIn: string;
}

/**
 * Every environment change the runtime contract test makes. Keys marked "added" are unset in the manifests
 * and point an SDK at the local stand-in (in the cluster the SDK finds the real endpoint by itself).
 */
export const REPLACEMENTS: readonly Replacement[] = [
  {
    key: 'DATABASE_URL',
    production: 'RDS Proxy read/write endpoint of shard 0 (TLS)',
    standIn: 'a fresh database for shard 0 on the local PostgreSQL (user postgres, no TLS)',
  },
  {
    key: 'DATABASE_READER_URLS',
    production: 'RDS Proxy read-only endpoint(s) of shard 0',
    standIn: 'the same local database as shard 0 (a replica with zero lag)',
  },
  {
    key: 'SHARDS',
    production: 'JSON shard map; writerUrl/readerUrls are RDS Proxy endpoints of shards 1..n',
    standIn: "same JSON, each shard's URLs -> a fresh local database of its own",
  },
  {
    key: 'REDIS_URL',
    production: 'rediss:// ElastiCache "state" endpoint with AUTH token',
    standIn: `redis://127.0.0.1:6379/${REDIS_DB.state} (local Redis, db ${REDIS_DB.state}, no TLS, no AUTH)`,
  },
  { key: 'REDIS_CACHE_URL', production: 'rediss:// ElastiCache "cache" endpoint with AUTH token', standIn: `redis://127.0.0.1:6379/${REDIS_DB.cache}` },
  {
    key: 'BLOB_S3_ENDPOINT',
    production: '(unset: the AWS SDK uses the regional S3 endpoint)',
    standIn: "added: a local s3rver holding the stack's BLOB_S3_BUCKET",
  },
  { key: 'BLOB_S3_FORCE_PATH_STYLE', production: '(unset: virtual-hosted bucket names)', standIn: 'added: true (s3rver serves path-style only)' },
  {
    key: 'SECRETS_KMS_ENDPOINT',
    production: "(unset: the KMS endpoint of the key ARN's region)",
    standIn: "added: a loopback KMS wire-protocol server holding the stack's SECRETS_KMS_KEY_ID",
  },
  {
    key: 'AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY',
    production: '(unset: EKS Pod Identity injects container credentials)',
    standIn: 'added: the static pair s3rver and the KMS stand-in accept',
  },
  {
    key: 'TMPDIR',
    production: "(unset: os.tmpdir() is /tmp, the pod's emptyDir)",
    standIn: 'added: a fresh directory owned by runAsUser:fsGroup standing in for the /tmp emptyDir',
  },
  {
    key: 'HOME, PATH',
    production: 'set by the container runtime (HOME=/ for a uid without a passwd entry)',
    standIn: 'HOME=/, PATH of the image; `node` resolves to the pinned node_modules/.bin/node (same version as the image)',
  },
];

/** The stand-ins of one stack run. */
export class StandIns {
  private readonly dbs: TestDatabase[] = [];
  private kms: FakeKms | undefined;
  private s3server: { close(): Promise<void> } | undefined;
  private s3dir: string | undefined;
  private s3url = '';
  readonly tmpDirs: string[] = [];

  /** Starts s3rver and the KMS server (stack-wide; databases are made per env by {@link environment}). */
  async start(region: string, kmsKeyArns: string[], buckets: string[]): Promise<void> {
    const S3rver = createRequire(import.meta.url)('s3rver') as new (opts: Record<string, unknown>) => {
      run(): Promise<{ port: number }>;
      close(): Promise<void>;
    };
    this.s3dir = mkdtempSync(join(tmpdir(), 'umcp-rc-s3-'));
    const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: this.s3dir });
    const addr = await server.run();
    this.s3server = server;
    this.s3url = `http://127.0.0.1:${addr.port}`;
    const s3 = new S3Client({
      region,
      endpoint: this.s3url,
      forcePathStyle: true,
      credentials: STATIC_CREDENTIALS,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    try {
      for (const b of buckets) await s3.send(new CreateBucketCommand({ Bucket: b }));
    } finally {
      s3.destroy();
    }
    const account = /^arn:aws[a-z-]*:kms:[^:]+:(\d{12}):/.exec(kmsKeyArns[0] ?? '')?.[1] ?? '123456789012';
    this.kms = new FakeKms({ region, account, credentials: STATIC_CREDENTIALS });
    await this.kms.start();
    for (const arn of kmsKeyArns) this.kms.importKey(arn);
  }

  /** A directory standing in for an emptyDir mounted in a pod running as `uid` with fsGroup `gid`. */
  emptyDir(uid: number, gid: number): string {
    const dir = mkdtempSync(join(tmpdir(), 'umcp-rc-tmp-'));
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o770);
    this.tmpDirs.push(dir);
    return dir;
  }

  /**
   * `env` with the cloud endpoints replaced per {@link REPLACEMENTS}. Databases are shared between the
   * tiers of one stack (as in the cluster): one per shard id, created on first use.
   */
  async environment(env: Record<string, string>, tmp: string): Promise<Record<string, string>> {
    const out = { ...env };
    const shardDb = async (shard: string): Promise<string> => {
      let db = this.dbByShard.get(shard);
      if (!db) {
        db = createTestDatabase(testServiceUrls().databaseUrl);
        this.dbByShard.set(shard, db);
        db.then(
          (d) => this.dbs.push(d),
          () => undefined,
        );
      }
      return (await db).url;
    };
    if (out.DATABASE_URL !== undefined) {
      const local = await shardDb(out.DEFAULT_SHARD_ID ?? 'default');
      out.DATABASE_URL = local; // the whole endpoint: user, host, port, database and sslmode
      if (out.DATABASE_READER_URLS)
        out.DATABASE_READER_URLS = out.DATABASE_READER_URLS.split(',')
          .filter(Boolean)
          .map(() => local)
          .join(',');
    }
    if (out.SHARDS) {
      const shards = JSON.parse(out.SHARDS) as Array<{ id: string; writerUrl: string; readerUrls?: string[] }>;
      for (const s of shards) {
        const local = await shardDb(s.id);
        s.writerUrl = local;
        if (s.readerUrls) s.readerUrls = s.readerUrls.map(() => local);
      }
      out.SHARDS = JSON.stringify(shards);
    }
    const redis = new URL(testServiceUrls().redisUrl);
    const redisDb = (db: number) => {
      const u = new URL(redis.href);
      u.pathname = `/${db}`;
      return u.href;
    };
    if (out.REDIS_URL !== undefined) out.REDIS_URL = redisDb(REDIS_DB.state);
    if (out.REDIS_CACHE_URL !== undefined) out.REDIS_CACHE_URL = redisDb(REDIS_DB.cache);
    if (out.BLOB_BACKEND === 's3') {
      out.BLOB_S3_ENDPOINT = this.s3url;
      out.BLOB_S3_FORCE_PATH_STYLE = 'true';
    }
    if (out.SECRETS_KMS_KEY_ID !== undefined) out.SECRETS_KMS_ENDPOINT = this.kms!.url;
    out.AWS_ACCESS_KEY_ID = STATIC_CREDENTIALS.accessKeyId;
    out.AWS_SECRET_ACCESS_KEY = STATIC_CREDENTIALS.secretAccessKey;
    out.TMPDIR = tmp;
    return out;
  }

  private readonly dbByShard = new Map<string, Promise<TestDatabase>>();

  /** The Redis (state role) the processes of this run use, for checks of what they wrote. */
  stateRedis(): Redis {
    const u = new URL(testServiceUrls().redisUrl);
    u.pathname = `/${REDIS_DB.state}`;
    return new Redis(u.href, { lazyConnect: true, maxRetriesPerRequest: 1 });
  }

  /** Drops the databases, stops the servers, removes the directories. */
  async stop(): Promise<void> {
    await Promise.allSettled([...this.dbByShard.values()]);
    await Promise.allSettled(this.dbs.map((d) => d.drop()));
    await this.kms?.close().catch(() => undefined);
    await this.s3server?.close().catch(() => undefined);
    for (const d of [...this.tmpDirs, ...(this.s3dir ? [this.s3dir] : [])]) rmSync(d, { recursive: true, force: true });
  }
}

/** Deletes the keys the service and BullMQ wrote in the reserved Redis databases (nothing else lives there). */
export async function cleanReservedRedis(): Promise<void> {
  for (const db of Object.values(REDIS_DB)) {
    const u = new URL(testServiceUrls().redisUrl);
    u.pathname = `/${db}`;
    const redis = new Redis(u.href, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      for (const pattern of ['umcp:*', 'bull:*']) {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
          cursor = next;
          if (keys.length) await redis.unlink(...keys);
        } while (cursor !== '0');
      }
    } finally {
      redis.disconnect();
    }
  }
}
