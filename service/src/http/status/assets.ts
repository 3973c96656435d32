/**
 * The status page's static files (service/src/http/status/static): read once at startup, named by a hash
 * of their bytes (`status.css` -> `/assets/status.3f2a9c01b4de.css`), so each URL's content never changes
 * and browsers and the CDN may keep it for a year. Nothing here is hand-hashed: edit a file, restart, and
 * its URL changes.
 */
import { readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { contentHash, etagOf } from './conditional.js';

/** Where the static sources live (next to this module, shipped with service/src in the image). */
export const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));

/** URL prefix of the long-cached assets (the CDN caches it at the edge, see docs/edge.md). */
export const ASSETS_PREFIX = '/assets/';

/** The files the page links to; sw.js is not one of them (it is served at /sw.js, not hashed). */
export const ASSET_FILES = ['status.css', 'status.js'] as const;

/** Logical name of an asset, e.g. `status.css`. */
export type AssetName = (typeof ASSET_FILES)[number];

const CONTENT_TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};

/** One servable asset. */
export interface Asset {
  /** The source file name, e.g. `status.css`. */
  readonly name: AssetName;
  /** The content-hashed URL path, e.g. `/assets/status.3f2a9c01b4de.css`. */
  readonly path: string;
  readonly contentType: string;
  readonly body: Buffer;
  readonly etag: string;
}

/** The asset table: by logical name (for the HTML) and by URL path (for serving). */
export interface AssetTable {
  readonly byName: ReadonlyMap<AssetName, Asset>;
  readonly byPath: ReadonlyMap<string, Asset>;
  /** The URL path of `name`; throws for an unknown name (a typo in the page template). */
  url(name: AssetName): string;
}

/** Reads and hashes the assets from `dir`; fails naming the file when one is missing. */
export function loadAssets(dir: string = STATIC_DIR): AssetTable {
  const byName = new Map<AssetName, Asset>();
  const byPath = new Map<string, Asset>();
  for (const name of ASSET_FILES) {
    let body: Buffer;
    try {
      body = readFileSync(join(dir, name));
    } catch (err) {
      throw new Error(`status page: cannot read asset ${name} in ${dir}: ${(err as Error).message}`, { cause: err });
    }
    const ext = extname(name);
    const contentType = CONTENT_TYPES[ext];
    if (!contentType) throw new Error(`status page: no content type for asset ${name}`);
    const path = `${ASSETS_PREFIX}${basename(name, ext)}.${contentHash(body)}${ext}`;
    const asset: Asset = { name, path, contentType, body, etag: etagOf(body) };
    byName.set(name, asset);
    byPath.set(path, asset);
  }
  return {
    byName,
    byPath,
    url(name) {
      const asset = byName.get(name);
      if (!asset) throw new Error(`status page: unknown asset ${name}`);
      return asset.path;
    },
  };
}

/** Reads a static source that is not a hashed asset (the service worker). */
export function readStaticSource(file: string, dir: string = STATIC_DIR): string {
  try {
    return readFileSync(join(dir, file), 'utf8');
  } catch (err) {
    throw new Error(`status page: cannot read ${file} in ${dir}: ${(err as Error).message}`, { cause: err });
  }
}
