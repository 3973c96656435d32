/**
 * BlobStore on S3 (or any S3-protocol server): objects at `<prefix>tenants/<tenant>/<key>` in one bucket.
 * In production, an S3 lifecycle rule on `tenants/` is the cheaper way to enforce retention; purgeExpired
 * does the same for servers without lifecycle rules. A streamed put is buffered (PutObject needs a length).
 */
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import {
  checkBlobKey,
  checkBlobPrefix,
  tenantObjectKey,
  type BlobBody,
  type BlobInfo,
  type BlobListing,
  type BlobObject,
  type BlobRetention,
  type BlobStore,
} from './blob-store.js';

/** Options of S3BlobStore. */
export interface S3BlobStoreOptions {
  readonly bucket: string;
  /** Prefix of every object name, e.g. `umcp/`. @defaultValue '' */
  readonly prefix?: string;
  /** A client, or its config (region, endpoint, forcePathStyle, credentials). */
  readonly client: S3Client | S3ClientConfig;
  /** @defaultValue keep forever */
  readonly retention?: BlobRetention;
}

/** BlobStore on an S3 bucket. */
export class S3BlobStore implements BlobStore {
  private readonly s3: S3Client;
  private readonly ownsClient: boolean;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly maxAgeMs: number | null;

  constructor(opts: S3BlobStoreOptions) {
    this.ownsClient = !(opts.client instanceof S3Client);
    this.s3 = opts.client instanceof S3Client ? opts.client : new S3Client(opts.client);
    this.bucket = opts.bucket;
    this.prefix = opts.prefix ?? '';
    this.maxAgeMs = opts.retention?.maxAgeMs ?? null;
  }

  async put(tenantId: string, key: string, body: BlobBody, opts: { contentType?: string } = {}): Promise<BlobInfo> {
    checkBlobKey(tenantId, key);
    const bytes = body instanceof Readable ? await collect(body) : typeof body === 'string' ? Buffer.from(body) : Buffer.from(body);
    const contentType = opts.contentType ?? 'application/octet-stream';
    await this.s3.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: this.name(tenantId, key), Body: bytes, ContentType: contentType, ContentLength: bytes.length }),
    );
    const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.name(tenantId, key) }));
    return { tenantId, key, size: bytes.length, contentType, createdAt: head.LastModified ?? new Date() };
  }

  async get(tenantId: string, key: string): Promise<BlobObject | null> {
    checkBlobKey(tenantId, key);
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.name(tenantId, key) }));
      if (!(out.Body instanceof Readable)) throw new Error(`S3 GetObject for ${key} returned no Node.js stream`);
      return {
        tenantId,
        key,
        size: out.ContentLength ?? 0,
        contentType: out.ContentType ?? 'application/octet-stream',
        createdAt: out.LastModified ?? new Date(0),
        body: out.Body,
      };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async delete(tenantId: string, key: string): Promise<boolean> {
    checkBlobKey(tenantId, key);
    const Key = this.name(tenantId, key);
    // DeleteObject succeeds for missing keys too; HEAD first to report whether it existed.
    const existed = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key })).then(
      () => true,
      (err: unknown) => (isNotFound(err) ? false : Promise.reject(err)),
    );
    if (existed) await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    return existed;
  }

  async list(tenantId: string, opts: { prefix?: string; limit?: number } = {}): Promise<BlobListing[]> {
    checkBlobKey(tenantId, 'x');
    checkBlobPrefix(opts.prefix ?? '');
    const base = this.name(tenantId, '');
    const out: BlobListing[] = [];
    for await (const o of this.objects(base + (opts.prefix ?? ''))) {
      out.push({ key: o.key.slice(base.length), size: o.size, createdAt: o.lastModified });
      if (opts.limit !== undefined && out.length >= opts.limit) break;
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async purgeExpired(now: Date = new Date()): Promise<number> {
    if (this.maxAgeMs === null) return 0;
    const cutoff = now.getTime() - this.maxAgeMs;
    let batch: string[] = [];
    let n = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const res = await this.s3.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
      if (res.Errors?.length)
        throw new Error(`S3 retention purge: ${res.Errors.length} object(s) not deleted, first: ${res.Errors[0]?.Key} ${res.Errors[0]?.Message}`);
      n += batch.length;
      batch = [];
    };
    for await (const o of this.objects(`${this.prefix}tenants/`)) {
      if (o.lastModified.getTime() >= cutoff) continue;
      batch.push(o.key);
      if (batch.length === 1000) await flush();
    }
    await flush();
    return n;
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.s3.destroy();
  }

  private name(tenantId: string, key: string): string {
    return this.prefix + tenantObjectKey(tenantId, key);
  }

  private async *objects(prefix: string): AsyncGenerator<{ key: string; size: number; lastModified: Date }> {
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const c of page.Contents ?? []) {
        if (c.Key) yield { key: c.Key, size: c.Size ?? 0, lastModified: c.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: unknown; $metadata?: { httpStatusCode?: number } } | null;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}
