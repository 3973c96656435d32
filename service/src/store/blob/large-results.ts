/**
 * Large tool results by reference: a result above the threshold is written to the BlobStore under the
 * caller's tenant and replaced by an MCP `resource_link` (`umcp-blob://<tenant>/<key>`); resources/read
 * of such a URI streams it back only to the same tenant. The MCP layer decides where to call these.
 */
import { randomUUID } from 'node:crypto';
import { NotFoundError } from '../ports.js';
import type { BlobObject, BlobStore } from './blob-store.js';

/** URI scheme of stored results. */
export const BLOB_URI_SCHEME = 'umcp-blob:';

/** An MCP resource link content block (tools/call result content). */
export interface ResourceLink {
  readonly type: 'resource_link';
  readonly uri: string;
  readonly name: string;
  readonly mimeType: string;
  /** bytes */
  readonly size: number;
}

/** Options of offloadIfLarge. */
export interface OffloadOptions {
  /** Results up to this size stay inline, bytes. @defaultValue 262144 (256 KiB) */
  readonly thresholdBytes?: number;
  /** @defaultValue 'text/plain' for strings, 'application/octet-stream' for bytes */
  readonly mimeType?: string;
  /** Shown to the client. @defaultValue 'result' */
  readonly name?: string;
}

/** The URI of a tenant's stored object. */
export function blobUri(tenantId: string, key: string): string {
  return `${BLOB_URI_SCHEME}//${tenantId}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/** Tenant and key of a blob URI, or null for any other URI. */
export function parseBlobUri(uri: string): { tenantId: string; key: string } | null {
  if (!uri.startsWith(`${BLOB_URI_SCHEME}//`)) return null;
  const rest = uri.slice(BLOB_URI_SCHEME.length + 2);
  const slash = rest.indexOf('/');
  if (slash <= 0 || slash === rest.length - 1) return null;
  try {
    return {
      tenantId: rest.slice(0, slash),
      key: rest
        .slice(slash + 1)
        .split('/')
        .map(decodeURIComponent)
        .join('/'),
    };
  } catch {
    return null;
  }
}

/** Stores `content` and returns a link when it is larger than the threshold; null keeps it inline. */
export async function offloadIfLarge(store: BlobStore, tenantId: string, content: string | Buffer, opts: OffloadOptions = {}): Promise<ResourceLink | null> {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  if (bytes.length <= (opts.thresholdBytes ?? 262_144)) return null;
  const mimeType = opts.mimeType ?? (typeof content === 'string' ? 'text/plain' : 'application/octet-stream');
  const key = `results/${new Date().toISOString().slice(0, 10)}/${randomUUID()}`;
  const info = await store.put(tenantId, key, bytes, { contentType: mimeType });
  return { type: 'resource_link', uri: blobUri(tenantId, key), name: opts.name ?? 'result', mimeType, size: info.size };
}

/**
 * Opens a stored result for `callerTenantId`. Another tenant's URI answers exactly like a missing one
 * (NotFoundError), so URIs reveal nothing across tenants.
 */
export async function openBlobResource(store: BlobStore, callerTenantId: string, uri: string): Promise<BlobObject> {
  const ref = parseBlobUri(uri);
  const obj = ref && ref.tenantId === callerTenantId ? await store.get(ref.tenantId, ref.key).catch(() => null) : null;
  if (!obj) throw new NotFoundError(`resource ${uri} not found`);
  return obj;
}
