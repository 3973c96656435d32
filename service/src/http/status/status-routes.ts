/**
 * The public status page routes, mounted by the HTTP server in front of its 404:
 *   GET /              HTML shell, `Cache-Control: no-cache` + ETag (If-None-Match -> 304)
 *   GET /assets/<name>.<hash>.<ext>  content-hashed CSS/JS, `public, max-age=31536000, immutable`
 *   GET /sw.js         the service worker, `no-cache` + ETag, `Service-Worker-Allowed: /`
 *   GET /status.json   region, version, dependency health (see status-snapshot.ts), `no-cache`
 * HEAD is answered like GET without a body; other methods get 405. Everything is anonymous: nothing here
 * is secret or tenant-specific. Any other path returns undefined (not ours).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { ASSETS_PREFIX, loadAssets, readStaticSource, STATIC_DIR, type AssetTable } from './assets.js';
import { etagOf, ifNoneMatchHits } from './conditional.js';
import { PAGE_CSP, renderStatusPage } from './page.js';
import { createStatusSnapshot, type QueueCheck, type StatusDocument } from './status-snapshot.js';

/** Paths served here besides /assets/*. */
export const STATUS_PATHS = { page: '/', json: '/status.json', serviceWorker: '/sw.js' } as const;

/** One year: the longest max-age caches honour; safe because asset URLs change with their content. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';

/** Options of createStatusPage. */
export interface StatusPageOptions {
  readonly region: string;
  readonly version: string;
  /** The readiness checks /readyz runs (`{ postgres, redis, migrations }`). */
  readonly checkReady: () => Promise<Record<string, boolean>>;
  /** Queue health (BullMQ); undefined = the page shows the queue as "not reported". */
  readonly checkQueue?: QueueCheck;
  /** True while the process drains. @defaultValue () => false */
  readonly draining?: () => boolean;
  /** Page poll interval in milliseconds. @defaultValue 10000 */
  readonly pollMs?: number;
  /** How long one health check run serves /status.json, in milliseconds. @defaultValue 2000 */
  readonly statusCacheMs?: number;
  /** Directory of the static sources. @defaultValue service/src/http/status/static */
  readonly staticDir?: string;
}

/** The mounted routes plus what tests and docs may want to inspect. */
export interface StatusPage {
  /** Answers a status page request, or returns undefined when `path` is not a status page path. */
  handle(method: string, path: string, headers: IncomingHttpHeaders): Promise<Response> | undefined;
  readonly assets: AssetTable;
  /** ETag of the HTML page (constant for the process). */
  readonly pageEtag: string;
  /** The current status document (what /status.json answers). */
  status(): Promise<StatusDocument>;
}

const COMMON = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };

interface Static {
  readonly body: Uint8Array<ArrayBuffer> | string;
  readonly etag: string;
  readonly headers: Record<string, string>;
}

/** GET/HEAD of a fixed body with an ETag; 304 when If-None-Match matches. */
function serveStatic(method: string, headers: IncomingHttpHeaders, file: Static): Response {
  const base = { ...COMMON, ...file.headers, etag: file.etag };
  if (ifNoneMatchHits(headers['if-none-match'], file.etag)) return new Response(null, { status: 304, headers: base });
  const length = String(typeof file.body === 'string' ? Buffer.byteLength(file.body) : file.body.byteLength);
  return new Response(method === 'HEAD' ? null : file.body, { status: 200, headers: { ...base, 'content-length': length } });
}

const methodNotAllowed = () =>
  new Response(JSON.stringify({ error: { code: 'method_not_allowed', message: 'only GET and HEAD' } }), {
    status: 405,
    headers: { ...COMMON, allow: 'GET, HEAD', 'content-type': 'application/json', 'cache-control': 'no-store' },
  });

/**
 * Builds the status page: reads and hashes the assets, renders the HTML and the service worker once (so
 * their ETags are fixed), and returns the request handler. Fails at startup if a static file is missing.
 */
export function createStatusPage(opts: StatusPageOptions): StatusPage {
  const pollMs = opts.pollMs ?? 10_000;
  if (!Number.isInteger(pollMs) || pollMs < 1_000) throw new Error(`status page: pollMs must be an integer >= 1000 (got ${pollMs})`);
  const dir = opts.staticDir ?? STATIC_DIR;
  const assets = loadAssets(dir);
  // Web Response bodies want an ArrayBuffer-backed view; copy each asset once, not per request.
  const assetBodies = new Map([...assets.byPath].map(([path, a]) => [path, new Uint8Array(a.body)]));
  const html = renderStatusPage({ region: opts.region, version: opts.version, pollMs }, assets);
  const page: Static = {
    body: html,
    etag: etagOf(html),
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', 'content-security-policy': PAGE_CSP },
  };
  // The worker precaches the page and every asset; its bytes (and so the browser's update check) change
  // whenever an asset or the page changes.
  const precache = [STATUS_PATHS.page, ...[...assets.byPath.keys()]];
  const swBody = `const CACHE_NAME = ${JSON.stringify(`umcp-status-${page.etag.slice(1, 13)}`)};\nconst PRECACHE = ${JSON.stringify(precache)};\n${readStaticSource('sw.js', dir)}`;
  const serviceWorker: Static = {
    body: swBody,
    etag: etagOf(swBody),
    headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache', 'service-worker-allowed': '/' },
  };
  const status = createStatusSnapshot({
    region: opts.region,
    version: opts.version,
    checkReady: opts.checkReady,
    ...(opts.checkQueue && { checkQueue: opts.checkQueue }),
    ...(opts.draining && { draining: opts.draining }),
    ...(opts.statusCacheMs !== undefined && { cacheMs: opts.statusCacheMs }),
  });

  const serveJson = async (method: string) => {
    const body = JSON.stringify(await status());
    return new Response(method === 'HEAD' ? null : body, {
      headers: { ...COMMON, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache', 'content-length': String(Buffer.byteLength(body)) },
    });
  };

  const handle = (method: string, path: string, headers: IncomingHttpHeaders): Promise<Response> | undefined => {
    const isAsset = path.startsWith(ASSETS_PREFIX);
    const known = isAsset || path === STATUS_PATHS.page || path === STATUS_PATHS.json || path === STATUS_PATHS.serviceWorker;
    if (!known) return undefined;
    if (method !== 'GET' && method !== 'HEAD') return Promise.resolve(methodNotAllowed());
    if (path === STATUS_PATHS.json) return serveJson(method);
    if (path === STATUS_PATHS.page) return Promise.resolve(serveStatic(method, headers, page));
    if (path === STATUS_PATHS.serviceWorker) return Promise.resolve(serveStatic(method, headers, serviceWorker));
    const asset = assets.byPath.get(path);
    if (!asset) {
      // no-store: an old or mistyped asset URL must not be cached for a year by the edge rule for /assets/*.
      return Promise.resolve(
        new Response(JSON.stringify({ error: { code: 'not_found', message: `no asset ${path}` } }), {
          status: 404,
          headers: { ...COMMON, 'content-type': 'application/json', 'cache-control': 'no-store' },
        }),
      );
    }
    return Promise.resolve(
      serveStatic(method, headers, {
        body: assetBodies.get(asset.path)!,
        etag: asset.etag,
        headers: { 'content-type': asset.contentType, 'cache-control': IMMUTABLE },
      }),
    );
  };

  return { handle, assets, pageEtag: page.etag, status };
}
