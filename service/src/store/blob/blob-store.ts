/**
 * BlobStore port: tenant files and large tool results in object storage. Every object lives under its
 * tenant's prefix (`tenants/<tenantId>/<key>`), so one tenant can never name another's object; retention
 * deletes objects older than the configured age.
 */
import type { Readable } from 'node:stream';

/** What list() tells about an object. */
export interface BlobListing {
  readonly key: string;
  readonly size: number;
  /** When the object was (last) written. */
  readonly createdAt: Date;
}

/** What put() and get() tell about an object. */
export interface BlobInfo extends BlobListing {
  readonly tenantId: string;
  readonly contentType: string;
}

/** An object and its body as a stream (the caller must consume or destroy it). */
export interface BlobObject extends BlobInfo {
  readonly body: Readable;
}

/** Body accepted by put(). */
export type BlobBody = Buffer | Uint8Array | string | Readable;

/** Object storage for tenant data. */
export interface BlobStore {
  /** Writes (or replaces) an object; readers never see a partial object. */
  put(tenantId: string, key: string, body: BlobBody, opts?: { contentType?: string }): Promise<BlobInfo>;
  /** The object, or null when the tenant has no such object. */
  get(tenantId: string, key: string): Promise<BlobObject | null>;
  /** Deletes an object; false when it did not exist. */
  delete(tenantId: string, key: string): Promise<boolean>;
  /** The tenant's objects whose key starts with `prefix`, ordered by key. */
  list(tenantId: string, opts?: { prefix?: string; limit?: number }): Promise<BlobListing[]>;
  /** Deletes every object (all tenants) written before `now - retention`; returns how many. */
  purgeExpired(now?: Date): Promise<number>;
  close(): Promise<void>;
}

/** Retention: objects older than this are deleted by purgeExpired (null keeps them forever). */
export interface BlobRetention {
  readonly maxAgeMs: number | null;
}

/** A key or tenant id that is not allowed (path traversal, bad characters, too long). */
export class InvalidBlobKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidBlobKeyError';
  }
}

const TENANT = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const KEY = /^[A-Za-z0-9_-][A-Za-z0-9._\-/]{0,511}$/;

/** Throws InvalidBlobKeyError unless `tenantId` and `key` are safe to use in a path or object name. */
export function checkBlobKey(tenantId: string, key: string): void {
  if (!TENANT.test(tenantId)) throw new InvalidBlobKeyError(`invalid tenant id for blob storage: ${JSON.stringify(tenantId)}`);
  checkKeyPart(key, 'key');
}

/** Throws unless `prefix` may start a key (empty is fine). */
export function checkBlobPrefix(prefix: string): void {
  if (prefix !== '') checkKeyPart(prefix, 'prefix', true);
}

function checkKeyPart(key: string, what: string, isPrefix = false): void {
  const bad = !KEY.test(key) || key.split('/').some((seg, i, all) => seg === '..' || seg === '.' || (seg === '' && !(isPrefix && i === all.length - 1)));
  if (bad)
    throw new InvalidBlobKeyError(
      `invalid blob ${what} ${JSON.stringify(key)}: use letters, digits, . _ - and / between non-empty segments (no . or .. segments)`,
    );
}

/** The object name of a tenant's key (same layout for every adapter). */
export const tenantObjectKey = (tenantId: string, key: string): string => `tenants/${tenantId}/${key}`;
