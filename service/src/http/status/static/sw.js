// Status page service worker, served as /sw.js with `Cache-Control: no-cache` (so a new deployment's worker
// is picked up on the next visit). The server prepends `const CACHE_NAME` and `const PRECACHE` (the page
// and its content-hashed asset URLs), so this file changes whenever an asset changes.
//
// Only the status page's own URLs are handled; everything else (/mcp, /admin, ...) never reaches
// respondWith and goes to the network untouched.
//   /assets/*     cache first (names are content-hashed and immutable)
//   / (page)      network first (the browser revalidates with If-None-Match), cached copy when offline
//   /status.json  network first, the last good answer when offline, marked `x-umcp-status-source: cache`
/* global CACHE_NAME, PRECACHE */
'use strict';
const CACHE_PREFIX = 'umcp-status-';
const STATUS_URL = '/status.json';
const PAGE_URL = '/';

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE_NAME).then((cache) => cache.addAll(PRECACHE)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith(CACHE_PREFIX) && n !== CACHE_NAME).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

async function cacheFirst(request) {
  const cache = await caches.open(CACHE_NAME);
  const hit = await cache.match(request);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

async function page(request) {
  const cache = await caches.open(CACHE_NAME);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(PAGE_URL, response.clone());
    return response;
  } catch (err) {
    const hit = await cache.match(PAGE_URL);
    if (hit) return hit;
    throw err;
  }
}

async function status(request) {
  const cache = await caches.open(CACHE_NAME);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(STATUS_URL, response.clone());
    return response;
  } catch {
    const hit = await cache.match(STATUS_URL);
    if (!hit) {
      return new Response(JSON.stringify({ error: 'offline', message: 'no status stored yet' }), {
        status: 503,
        headers: { 'content-type': 'application/json', 'x-umcp-status-source': 'none' },
      });
    }
    const headers = new Headers(hit.headers);
    headers.set('x-umcp-status-source', 'cache');
    return new Response(await hit.blob(), { status: 200, headers });
  }
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/assets/')) event.respondWith(cacheFirst(request));
  else if (url.pathname === PAGE_URL && request.mode === 'navigate') event.respondWith(page(request));
  else if (url.pathname === STATUS_URL) event.respondWith(status(request));
});
