/**
 * HTTP validators for the status page: strong ETags from content bytes, and the If-None-Match check
 * (RFC 9110 §13.1.2: weak comparison, a list of tags or `*`).
 */
import { createHash } from 'node:crypto';

/** A strong ETag for `bytes`: the quoted first 22 base64url characters of their SHA-256 (132 bits). */
export function etagOf(bytes: Uint8Array | string): string {
  return `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 22)}"`;
}

/** The first `length` hex characters of the SHA-256 of `bytes` (for content-hashed file names). */
export function contentHash(bytes: Uint8Array | string, length = 12): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, length);
}

/** Strips the weak prefix: If-None-Match uses the weak comparison function. */
const opaque = (tag: string) => (tag.startsWith('W/') ? tag.slice(2) : tag);

/**
 * True when the request's If-None-Match header matches `etag`, i.e. the client's copy is current and the
 * answer is 304. `header` may be undefined, a comma-separated list, repeated, or `*`.
 */
export function ifNoneMatchHits(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const tags = (Array.isArray(header) ? header.join(',') : header)
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  return tags.some((t) => t === '*' || opaque(t) === opaque(etag));
}
