/**
 * Asset hashing, ETags, If-None-Match matching and the page template, on a temporary copy of the static
 * sources (so a test can change bytes and see the URLs follow). No services needed.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, unlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAssets, STATIC_DIR } from '../../../service/src/http/status/assets.js';
import { etagOf, ifNoneMatchHits } from '../../../service/src/http/status/conditional.js';
import { escapeHtml } from '../../../service/src/http/status/page.js';
import { createStatusPage } from '../../../service/src/http/status/status-routes.js';

const checkReady = async () => ({ postgres: true, redis: true, migrations: true });

describe('status page assets', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'umcp-status-static-'));
    cpSync(STATIC_DIR, dir, { recursive: true });
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('loadAssets', () => {
    it('changes the URL of exactly the asset whose bytes changed', () => {
      const before = loadAssets(dir);
      appendFileSync(join(dir, 'status.css'), '\n/* changed */\n');
      const after = loadAssets(dir);
      assert.notEqual(after.url('status.css'), before.url('status.css'));
      assert.equal(after.url('status.js'), before.url('status.js'));
      assert.notEqual(after.byName.get('status.css')!.etag, before.byName.get('status.css')!.etag);
    });

    it('fails naming the file when a source is missing', () => {
      unlinkSync(join(dir, 'status.js'));
      assert.throws(() => loadAssets(dir), /cannot read asset status\.js in /);
    });
  });

  describe('createStatusPage', () => {
    it('changes the page ETag and the service worker when an asset changes', async () => {
      const a = createStatusPage({ region: 'r', version: 'v', checkReady, staticDir: dir });
      writeFileSync(join(dir, 'status.js'), '/* new script */\n');
      const b = createStatusPage({ region: 'r', version: 'v', checkReady, staticDir: dir });
      assert.notEqual(a.pageEtag, b.pageEtag);
      const sw = async (p: typeof a) => (await p.handle('GET', '/sw.js', {})!).text();
      const [swA, swB] = [await sw(a), await sw(b)];
      assert.notEqual(swA, swB);
      assert.ok(swB.includes(b.assets.url('status.js')));
      assert.ok(!swB.includes(a.assets.url('status.js')), 'the old script is no longer precached');
    });

    it('escapes region and version in the HTML', async () => {
      const page = createStatusPage({ region: '<script>alert(1)</script>', version: '"v"&', checkReady, staticDir: dir });
      const html = await (await page.handle('GET', '/', {})!).text();
      assert.ok(!html.includes('<script>alert'), 'region not escaped');
      assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
      assert.ok(html.includes('&quot;v&quot;&amp;'));
    });

    it('returns undefined for paths that are not its own', () => {
      const page = createStatusPage({ region: 'r', version: 'v', checkReady, staticDir: dir });
      for (const path of ['/mcp', '/readyz', '/index.html', '/sw.js.map', '/status']) assert.equal(page.handle('GET', path, {}), undefined, path);
    });

    it('rejects a poll interval under one second', () => {
      assert.throws(
        () => createStatusPage({ region: 'r', version: 'v', checkReady, staticDir: dir, pollMs: 10 }),
        /pollMs must be an integer >= 1000 \(got 10\)/,
      );
    });
  });

  describe('ETag and If-None-Match', () => {
    it('derives a strong quoted ETag from the bytes', () => {
      assert.match(etagOf('abc'), /^"[A-Za-z0-9_-]{22}"$/);
      assert.equal(etagOf('abc'), etagOf(Buffer.from('abc')));
      assert.notEqual(etagOf('abc'), etagOf('abd'));
    });

    it('matches with the weak comparison, lists, repeats and *; not when absent or different', () => {
      const tag = etagOf('page');
      assert.equal(ifNoneMatchHits(tag, tag), true);
      assert.equal(ifNoneMatchHits(`W/${tag}`, tag), true);
      assert.equal(ifNoneMatchHits(`"a" , ${tag}`, tag), true);
      assert.equal(ifNoneMatchHits(['"a"', tag], tag), true);
      assert.equal(ifNoneMatchHits('*', tag), true);
      assert.equal(ifNoneMatchHits(undefined, tag), false);
      assert.equal(ifNoneMatchHits('"a", "b"', tag), false);
      assert.equal(ifNoneMatchHits('', tag), false);
    });

    it('escapeHtml covers the five special characters', () => {
      assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    });
  });
});
