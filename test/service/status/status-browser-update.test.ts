/**
 * A new deployment behind the same address, in chromium: the reload shows the new version, the browser
 * installs the new service worker (its bytes changed with the page), the old cache is deleted, and the
 * offline copy is the new page. Same setup as status-browser.test.ts (recording proxy, Debian chromium).
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { startTestGateway, type TestGateway } from '../../support/platform-gateway.js';
import { launchChromium, type TestBrowser } from './chromium.js';
import { startRecordingProxy, type RecordingProxy } from './recording-proxy.js';

/** The service worker caches of the page's origin. */
const cacheNames = (page: Page) => page.evaluate(() => caches.keys());

describe('status page in chromium across a deployment', function () {
  this.timeout(180_000);
  let tb: TestBrowser;
  let oldGateway: TestGateway;
  let newGateway: TestGateway;
  let proxy: RecordingProxy;
  let page: Page;

  before(async function () {
    // The first run may install chromium with apt (ensureChromium), which takes minutes.
    this.timeout(660_000);
    tb = await launchChromium();
    oldGateway = await startTestGateway({ env: { REGION: 'us-test-1', VERSION: '1.0.0' } });
    newGateway = await startTestGateway({ env: { REGION: 'us-test-1', VERSION: '2.0.0' } });
    proxy = await startRecordingProxy(oldGateway.gateway.url);
    page = tb.context.pages()[0] ?? (await tb.context.newPage());
  });

  after(async () => {
    await tb?.close();
    await proxy?.goOffline().catch(() => undefined);
    await oldGateway?.stop();
    await newGateway?.stop();
  });

  it('replaces the worker and its cache, and keeps the new page for offline use', async () => {
    await page.goto(`${proxy.url}/`);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 30_000 });
    const [oldCache] = await cacheNames(page);
    assert.ok(oldCache?.startsWith('umcp-status-'), `no status cache: ${oldCache}`);
    const oldWorker = await page.evaluate(() => navigator.serviceWorker.controller!.scriptURL);

    proxy.retarget(newGateway.gateway.url);
    const before = proxy.hits.length;
    await page.reload();
    assert.equal(await page.locator('#version').textContent(), '2.0.0');
    const revalidation = proxy.hits.slice(before).find((h) => h.path === '/');
    assert.equal(revalidation?.status, 200, 'the old ETag must not match the new page');

    // The new worker installs (different bytes), activates, deletes the old cache and takes control.
    await page.waitForFunction(
      async (old) => {
        const reg = await navigator.serviceWorker.getRegistration();
        const settled = !!reg && !reg.installing && !reg.waiting && reg.active === navigator.serviceWorker.controller;
        const names = await caches.keys();
        return settled && names.length === 1 && names[0] !== old;
      },
      oldCache,
      { timeout: 30_000, polling: 200 },
    );
    assert.equal(await page.evaluate(() => navigator.serviceWorker.controller!.scriptURL), oldWorker, 'same /sw.js URL');
    const cachedPage = await page.evaluate(async () => (await caches.match('/'))?.text());
    assert.match(cachedPage ?? '', /<b id="version">2\.0\.0<\/b>/);

    // One status answer through the new worker, so its cache holds a last known status.
    assert.equal(await page.evaluate(async () => (await fetch('/status.json', { cache: 'no-store' })).ok), true);
    assert.equal(await page.evaluate(async () => (await caches.keys()).length), 1, 'the old cache came back');
    await proxy.goOffline();
    await tb.context.setOffline(true);
    const offline = await page.reload();
    assert.equal(offline?.fromServiceWorker(), true);
    assert.equal(await page.locator('#version').textContent(), '2.0.0');
    await page.waitForFunction(() => document.body.dataset.source === 'cache', undefined, { timeout: 30_000 });
  });
});
