/**
 * BlobStore on a local directory (the default for `npm start` and single-node installs):
 * `<root>/data/tenants/<tenant>/<key>` holds the bytes, `<root>/meta/...json` the content type and write
 * time. Writes go to `<root>/tmp` first and are renamed into place, so readers never see half a file.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
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

const Meta = z.object({ contentType: z.string(), createdAt: z.coerce.date() });

/** Options of LocalBlobStore. */
export interface LocalBlobStoreOptions {
  /** Directory that holds everything (created when missing). */
  readonly root: string;
  /** @defaultValue keep forever */
  readonly retention?: BlobRetention;
}

/** BlobStore on the local file system. */
export class LocalBlobStore implements BlobStore {
  private readonly root: string;
  private readonly maxAgeMs: number | null;

  constructor(opts: LocalBlobStoreOptions) {
    this.root = opts.root;
    this.maxAgeMs = opts.retention?.maxAgeMs ?? null;
  }

  async put(tenantId: string, key: string, body: BlobBody, opts: { contentType?: string } = {}): Promise<BlobInfo> {
    checkBlobKey(tenantId, key);
    const { data, meta } = this.paths(tenantId, key);
    const tmp = join(this.root, 'tmp', randomUUID());
    await mkdir(dirname(tmp), { recursive: true });
    try {
      const source = body instanceof Readable ? body : Readable.from([typeof body === 'string' ? Buffer.from(body) : Buffer.from(body)]);
      await pipeline(source, createWriteStream(tmp));
      const createdAt = new Date();
      const contentType = opts.contentType ?? 'application/octet-stream';
      await mkdir(dirname(data), { recursive: true });
      await mkdir(dirname(meta), { recursive: true });
      await writeFile(`${tmp}.meta`, JSON.stringify({ contentType, createdAt }));
      await rename(`${tmp}.meta`, meta);
      await rename(tmp, data);
      const { size } = await stat(data);
      return { tenantId, key, size, contentType, createdAt };
    } finally {
      await rm(tmp, { force: true });
      await rm(`${tmp}.meta`, { force: true });
    }
  }

  async get(tenantId: string, key: string): Promise<BlobObject | null> {
    checkBlobKey(tenantId, key);
    const { data, meta } = this.paths(tenantId, key);
    try {
      const [m, s] = await Promise.all([this.readMeta(meta), stat(data)]);
      if (!s.isFile()) return null;
      return { tenantId, key, size: s.size, contentType: m.contentType, createdAt: m.createdAt, body: createReadStream(data) };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async delete(tenantId: string, key: string): Promise<boolean> {
    checkBlobKey(tenantId, key);
    const { data, meta } = this.paths(tenantId, key);
    const existed = await stat(data).then(
      (s) => s.isFile(),
      () => false,
    );
    await rm(data, { force: true });
    await rm(meta, { force: true });
    return existed;
  }

  async list(tenantId: string, opts: { prefix?: string; limit?: number } = {}): Promise<BlobListing[]> {
    checkBlobKey(tenantId, 'x');
    const prefix = opts.prefix ?? '';
    checkBlobPrefix(prefix);
    const base = join(this.root, 'data', tenantObjectKey(tenantId, ''));
    const out: BlobListing[] = [];
    for (const key of (await this.walk(base)).sort()) {
      if (!key.startsWith(prefix)) continue;
      const { data, meta } = this.paths(tenantId, key);
      try {
        const [m, s] = await Promise.all([this.readMeta(meta), stat(data)]);
        out.push({ key, size: s.size, createdAt: m.createdAt });
      } catch (err) {
        if (!isNotFound(err)) throw err; // deleted meanwhile
      }
      if (opts.limit !== undefined && out.length >= opts.limit) break;
    }
    return out;
  }

  async purgeExpired(now: Date = new Date()): Promise<number> {
    if (this.maxAgeMs === null) return 0;
    const cutoff = now.getTime() - this.maxAgeMs;
    const tenantsDir = join(this.root, 'data', 'tenants');
    const tenants = await readdir(tenantsDir).catch((err: unknown) => (isNotFound(err) ? [] : Promise.reject(err)));
    let n = 0;
    for (const tenantId of tenants) {
      for (const item of await this.list(tenantId)) {
        if (item.createdAt.getTime() < cutoff && (await this.delete(tenantId, item.key))) n++;
      }
    }
    return n;
  }

  async close(): Promise<void> {}

  private paths(tenantId: string, key: string): { data: string; meta: string } {
    const name = tenantObjectKey(tenantId, key);
    return { data: join(this.root, 'data', name), meta: join(this.root, 'meta', `${name}.json`) };
  }

  private async readMeta(path: string): Promise<z.infer<typeof Meta>> {
    return Meta.parse(JSON.parse(await readFile(path, 'utf8')));
  }

  private async walk(dir: string): Promise<string[]> {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch((err: unknown) => (isNotFound(err) ? [] : Promise.reject(err)));
    return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'));
  }
}

function isNotFound(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'ENOENT';
}
