/**
 * The status page's HTML: a static shell (region and version are fixed per process) that links the
 * content-hashed CSS/JS; the script fills in the health checks from /status.json. No inline script or
 * style, so the Content-Security-Policy can be `'self'` only.
 */
import type { AssetTable } from './assets.js';

/** What the page shows before its script runs. */
export interface PageInfo {
  readonly region: string;
  readonly version: string;
  /** How often the script polls /status.json, in milliseconds. */
  readonly pollMs: number;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** HTML-escapes text for element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** The Content-Security-Policy of the page: its own origin only, no framing. */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; manifest-src 'self'; worker-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Renders the page. The result is constant for a process, so its ETag is computed once. */
export function renderStatusPage(info: PageInfo, assets: AssetTable): string {
  const region = escapeHtml(info.region);
  const version = escapeHtml(info.version);
  return `<!doctype html>
<html lang="en" data-poll-ms="${info.pollMs}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Unified MCP Platform status (${region})</title>
<link rel="stylesheet" href="${assets.url('status.css')}">
<script src="${assets.url('status.js')}" defer></script>
</head>
<body>
<main>
<h1>Unified MCP Platform</h1>
<p class="meta">Region <b id="region">${region}</b> · version <b id="version">${version}</b> · <span id="overall" class="overall" data-state="unknown">checking…</span></p>
<p id="offline" class="notice" role="status" hidden></p>
<table>
<thead><tr><th scope="col">Dependency</th><th scope="col">State</th></tr></thead>
<tbody id="checks"><tr><td colspan="2">Loading…</td></tr></tbody>
</table>
<footer>Last checked <time id="checked-at">never</time>. Refreshes every ${Math.round(info.pollMs / 1000)} s. Machine-readable: <a href="/status.json">/status.json</a>.</footer>
</main>
</body>
</html>
`;
}
