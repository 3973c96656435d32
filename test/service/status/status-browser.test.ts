/**
 * The status page in a real browser (Debian chromium via playwright-core): first load, a reload served
 * from the caches (assets from the service worker, the page revalidated with If-None-Match -> 304), and
 * an offline reload (origin unreachable) that still shows the page and the last known status.
 *
 * Chromium talks to a recording proxy in front of the gateway, so the test sees exactly which requests
 * reached the origin, and closing the proxy takes the origin offline for real.
 * STATUS_PAGE_SCREENSHOT=<file.png> saves a screenshot of the first load (docs/status-page.png).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import type { BrowserContext, Page, Response as PwResponse } from 'playwright-core';
import { QUEUE } from '../../../contract/index.js';
import { testServiceUrls } from '../../support/platform-db.js';
import { startTestGateway, type TestGateway } from '../../support/platform-gateway.js';
import { launchChromium, type TestBrowser } from './chromium.js';
import { startRecordingProxy, type RecordingProxy } from './recording-proxy.js';

const REGION = 'eu-test-1';
const VERSION = '9.9.9-status';

/** The text and state of the health cell of `check`. */
async function checkCell(page: Page, check: string): Promise<{ state: string | null; text: string }> {
  const cell = page.locator(`td[data-check="${check}"]`);
  return { state: await cell.getAttribute('data-state'), text: (await cell.textContent()) ?? '' };
}

/** Waits until the page script has rendered a status answer from `source` (network or cache). */
async function waitForRender(page: Page, source: 'network' | 'cache'): Promise<void> {
  await page.waitForFunction((s) => document.body.dataset.source === s, source, { timeout: 30_000 });
}

describe('status page in chromium', function () {
  this.timeout(180_000);
  let tg: TestGateway;
  let proxy: RecordingProxy;
  let tb: TestBrowser;
  let context: BrowserContext;
  let page: Page;
  let pageEtag: string;
  // The gateway's task queue on a prefix of its own with one waiting job: the page must show it.
  const queuePrefix = `umcpstatus${randomBytes(4).toString('hex')}`;
  const queue = new Queue(QUEUE.name, { connection: { url: testServiceUrls().redisUrl }, prefix: queuePrefix });

  before(async function () {
    // The first run may install chromium with apt (ensureChromium), which takes minutes.
    this.timeout(660_000);
    tb = await launchChromium();
    await queue.add('diagnostics.sleep', { n: 1 });
    tg = await startTestGateway({ env: { REGION, VERSION, TASK_QUEUE_PREFIX: queuePrefix } });
    proxy = await startRecordingProxy(tg.gateway.url);
    context = tb.context;
    page = context.pages()[0] ?? (await context.newPage());
  });

  after(async () => {
    await tb?.close();
    await proxy?.goOffline().catch(() => undefined);
    await tg?.stop();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  });

  it('first load: renders region, version and health from the network and installs the service worker', async () => {
    const response = await page.goto(`${proxy.url}/`);
    assert.ok(response, 'navigation produced no response');
    assert.equal(response.status(), 200);
    assert.equal(response.fromServiceWorker(), false);
    const headers = response.headers();
    assert.equal(headers['cache-control'], 'no-cache');
    assert.match(headers.etag ?? '', /^"[A-Za-z0-9_-]{22}"$/);
    pageEtag = headers.etag!;

    await waitForRender(page, 'network');
    assert.equal(await page.locator('#region').textContent(), REGION);
    assert.equal(await page.locator('#version').textContent(), VERSION);
    assert.equal(await page.locator('#overall').textContent(), 'ok');
    for (const check of ['postgres', 'redis', 'migrations']) assert.deepEqual(await checkCell(page, check), { state: 'up', text: 'up' }, check);
    assert.deepEqual(await checkCell(page, 'queue'), { state: 'up', text: 'up' });
    assert.equal(await page.locator('td[data-queue="waiting"]').textContent(), '1');
    assert.equal(await page.locator('td[data-queue="deadLettered"]').textContent(), '0');
    assert.match((await page.locator('td[data-queue="oldestWaitingSeconds"]').textContent()) ?? '', /^\d+ s$/);
    assert.equal(await page.locator('#offline').isHidden(), true);

    // The worker takes control of the open page (clients.claim), so the next load goes through it.
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 30_000 });
    const assetHits = proxy.hits.filter((h) => h.path.startsWith('/assets/'));
    assert.deepEqual(new Set(assetHits.map((h) => h.status)), new Set([200]));
    assert.equal(new Set(assetHits.map((h) => h.path)).size, 2, 'CSS and JS fetched from the origin');
    assert.ok(
      proxy.hits.some((h) => h.path === '/sw.js' && h.status === 200),
      'sw.js fetched',
    );
    assert.ok(
      proxy.hits.some((h) => h.path === '/status.json' && h.status === 200),
      'status.json fetched',
    );
    if (process.env.STATUS_PAGE_SCREENSHOT) await page.screenshot({ path: process.env.STATUS_PAGE_SCREENSHOT, fullPage: true });
  });

  it('reload: assets come from the service worker cache and the page is revalidated (304)', async () => {
    const before = proxy.hits.length;
    const responses: PwResponse[] = [];
    const collect = (r: PwResponse) => void responses.push(r);
    page.on('response', collect);
    await page.evaluate(() => delete document.body.dataset.source);
    try {
      await page.reload();
      await waitForRender(page, 'network');
    } finally {
      page.off('response', collect);
    }
    const hits = proxy.hits.slice(before);
    assert.deepEqual(
      hits.filter((h) => h.path.startsWith('/assets/')),
      [],
      'no asset request reached the origin',
    );
    const revalidation = hits.find((h) => h.path === '/');
    assert.ok(revalidation, `the page was not revalidated; origin saw ${JSON.stringify(hits)}`);
    assert.equal(revalidation.ifNoneMatch, pageEtag);
    assert.equal(revalidation.status, 304);

    const assets = responses.filter((r) => new URL(r.url()).pathname.startsWith('/assets/'));
    assert.equal(assets.length, 2, `asset responses: ${responses.map((r) => r.url()).join(', ')}`);
    for (const r of assets) assert.equal(r.fromServiceWorker(), true, `${r.url()} not served by the service worker`);
    assert.equal(await page.locator('#region').textContent(), REGION);
  });

  it('offline reload: the page and the last known status are still shown', async () => {
    const lastChecked = await page.locator('#checked-at').getAttribute('datetime');
    await proxy.goOffline();
    await assert.rejects(fetch(`${proxy.url}/healthz`), 'the origin must be unreachable');
    await context.setOffline(true);
    await page.evaluate(() => delete document.body.dataset.source);
    const response = await page.reload();
    assert.ok(response, 'offline navigation produced no response');
    assert.equal(response.status(), 200);
    assert.equal(response.fromServiceWorker(), true);

    await waitForRender(page, 'cache');
    assert.equal(await page.locator('#region').textContent(), REGION);
    assert.equal(await page.locator('#version').textContent(), VERSION);
    assert.deepEqual(await checkCell(page, 'postgres'), { state: 'up', text: 'up' });
    assert.equal(await page.locator('#checked-at').getAttribute('datetime'), lastChecked);
    const notice = page.locator('#offline');
    assert.equal(await notice.isVisible(), true);
    assert.match((await notice.textContent()) ?? '', /^Offline: showing the last known status/);
    // The stylesheet came from the worker's cache too (the page is styled while offline).
    const badge = await page.locator('#overall').evaluate((el) => getComputedStyle(el).borderRadius);
    assert.notEqual(badge, '0px');
  });
});
