/**
 * The status page routes over HTTP on a real gateway (PostgreSQL + Redis): caching headers, ETag/304,
 * content-hashed asset names, the service worker headers, /status.json, and that the routes leave the
 * rest of the server alone.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { QUEUE } from '../../../contract/index.js';
import { STATIC_DIR } from '../../../service/src/http/status/assets.js';
import { startTestGateway, type TestGateway } from '../../support/platform-gateway.js';
import { testServiceUrls } from '../../support/platform-db.js';
import { rawRequest, type RawResponse } from '../../support/platform-http.js';

const REGION = 'ap-test-2';
const VERSION = '1.2.3-http';
const IMMUTABLE = 'public, max-age=31536000, immutable';

const header = (r: RawResponse, name: string) => {
  const v = r.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
};

/** The /assets/ URLs the HTML links to. */
const assetUrls = (html: string) => [...html.matchAll(/(?:href|src)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);

describe('status page over HTTP', function () {
  this.timeout(60_000);
  let tg: TestGateway;
  let url: string;
  // The gateway's task queue on a prefix of its own, holding known jobs: 2 waiting (the oldest created
  // 90 s ago) and 1 dead-lettered, so /status.json must show these numbers, read from Redis.
  const queuePrefix = `umcpstatus${randomBytes(4).toString('hex')}`;
  const connection = { url: testServiceUrls().redisUrl };
  const queues = [new Queue(QUEUE.name, { connection, prefix: queuePrefix }), new Queue(QUEUE.deadLetterName, { connection, prefix: queuePrefix })] as const;

  before(async () => {
    const [main, dlq] = queues;
    await main.add('diagnostics.sleep', { n: 1 }, { timestamp: Date.now() - 90_000 });
    await main.add('diagnostics.sleep', { n: 2 });
    await dlq.add('diagnostics.fail', { n: 3 });
    tg = await startTestGateway({ env: { REGION, VERSION, TASK_QUEUE_PREFIX: queuePrefix } });
    url = tg.gateway.url;
  });

  after(async () => {
    await tg?.stop();
    for (const q of queues) {
      await q.obliterate({ force: true }).catch(() => undefined);
      await q.close();
    }
  });

  describe('GET /', () => {
    it('serves the HTML with no-cache, an ETag, a self-only CSP, region and version', async () => {
      const r = await rawRequest(`${url}/`);
      assert.equal(r.status, 200);
      assert.equal(header(r, 'content-type'), 'text/html; charset=utf-8');
      assert.equal(header(r, 'cache-control'), 'no-cache');
      assert.match(header(r, 'etag') ?? '', /^"[A-Za-z0-9_-]{22}"$/);
      assert.match(header(r, 'content-security-policy') ?? '', /script-src 'self'/);
      assert.match(r.body, new RegExp(`<b id="region">${REGION}</b>`));
      assert.match(r.body, new RegExp(`<b id="version">${VERSION}</b>`));
      assert.doesNotMatch(r.body, /<script>|style=/, 'no inline script or style');
    });

    it('answers 304 without a body to a matching If-None-Match (exact, weak, in a list, *)', async () => {
      const etag = header(await rawRequest(`${url}/`), 'etag')!;
      for (const inm of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
        const r = await rawRequest(`${url}/`, { headers: { 'if-none-match': inm } });
        assert.equal(r.status, 304, inm);
        assert.equal(r.body, '');
        assert.equal(header(r, 'etag'), etag);
        assert.equal(header(r, 'cache-control'), 'no-cache');
      }
    });

    it('answers 200 to a stale If-None-Match, and the ETag is stable across requests', async () => {
      const a = await rawRequest(`${url}/`, { headers: { 'if-none-match': '"stale-etag-from-an-old-deploy"' } });
      const b = await rawRequest(`${url}/`);
      assert.equal(a.status, 200);
      assert.ok(a.body.length > 0);
      assert.equal(header(a, 'etag'), header(b, 'etag'));
    });

    it('answers HEAD with the headers only and refuses other methods with 405', async () => {
      const head = await rawRequest(`${url}/`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.body, '');
      assert.ok(Number(header(head, 'content-length')) > 0);
      const post = await rawRequest(`${url}/`, { method: 'POST', body: 'x' });
      assert.equal(post.status, 405);
      assert.equal(header(post, 'allow'), 'GET, HEAD');
    });
  });

  describe('GET /assets/*', () => {
    it('names each asset by the SHA-256 of its bytes and serves it immutable for a year', async () => {
      const html = (await rawRequest(`${url}/`)).body;
      const urls = assetUrls(html);
      assert.equal(urls.length, 2, `asset links: ${urls.join(', ')}`);
      for (const path of urls) {
        const m = /^\/assets\/([a-z-]+)\.([0-9a-f]{12})\.(css|js)$/.exec(path);
        assert.ok(m, `not a content-hashed name: ${path}`);
        const source = readFileSync(join(STATIC_DIR, `${m[1]}.${m[3]}`));
        assert.equal(m[2], createHash('sha256').update(source).digest('hex').slice(0, 12), `${path}: hash does not match the file`);
        const r = await rawRequest(`${url}${path}`);
        assert.equal(r.status, 200);
        assert.equal(header(r, 'cache-control'), IMMUTABLE);
        assert.equal(header(r, 'content-type'), m[3] === 'css' ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8');
        assert.equal(r.body, source.toString('utf8'));
        const again = await rawRequest(`${url}${path}`, { headers: { 'if-none-match': header(r, 'etag')! } });
        assert.equal(again.status, 304);
      }
    });

    it('answers an unknown or outdated asset name with 404 that no cache may keep', async () => {
      const r = await rawRequest(`${url}/assets/status.000000000000.css`);
      assert.equal(r.status, 404);
      assert.equal(header(r, 'cache-control'), 'no-store');
    });
  });

  describe('GET /sw.js', () => {
    it('is not long-cached, allows the root scope and precaches the page and the current assets', async () => {
      const html = (await rawRequest(`${url}/`)).body;
      const r = await rawRequest(`${url}/sw.js`);
      assert.equal(r.status, 200);
      assert.equal(header(r, 'content-type'), 'text/javascript; charset=utf-8');
      assert.equal(header(r, 'cache-control'), 'no-cache');
      assert.equal(header(r, 'service-worker-allowed'), '/');
      const precache = /const PRECACHE = (\[[^\n]*\]);/.exec(r.body);
      assert.ok(precache, 'PRECACHE list missing');
      assert.deepEqual(JSON.parse(precache[1]!), ['/', ...assetUrls(html)]);
      const again = await rawRequest(`${url}/sw.js`, { headers: { 'if-none-match': header(r, 'etag')! } });
      assert.equal(again.status, 304);
    });
  });

  describe('GET /status.json', () => {
    it('reports region, version, the /readyz checks and the queue (up, with its numbers from Redis), nothing else', async () => {
      const r = await rawRequest(`${url}/status.json`);
      assert.equal(r.status, 200);
      assert.equal(header(r, 'cache-control'), 'no-cache');
      const doc = r.json<Record<string, unknown>>();
      assert.deepEqual(Object.keys(doc).sort(), ['checkedAt', 'checks', 'queue', 'region', 'service', 'status', 'version']);
      assert.equal(doc.region, REGION);
      assert.equal(doc.version, VERSION);
      assert.equal(doc.status, 'ok');
      assert.deepEqual(doc.checks, { postgres: true, redis: true, migrations: true, queue: true });
      const { oldestWaitingSeconds, ...counts } = doc.queue as Record<string, number>;
      assert.deepEqual(counts, { waiting: 2, active: 0, delayed: 0, failed: 0, deadLettered: 1 });
      assert.ok(Number.isInteger(oldestWaitingSeconds) && oldestWaitingSeconds! >= 90, `oldest waiting job is at least 90 s old: ${oldestWaitingSeconds}`);
      const ready = (await rawRequest(`${url}/readyz`)).json<{ checks: Record<string, boolean> }>();
      assert.equal(ready.checks.queue, undefined, '/readyz does not depend on the queue');
      for (const [name, value] of Object.entries(ready.checks)) assert.equal((doc.checks as Record<string, unknown>)[name], value, name);
      assert.doesNotMatch(
        r.body,
        /postgres:\/\/|redis:\/\/|umcp_test_|umcp-test-|umcpstatus|diagnostics\./,
        'no connection details, test names or job contents',
      );
    });

    it('shows the same queue numbers as the /metrics gauges (one shared read)', async () => {
      const metrics = (await rawRequest(`${url}/metrics`)).body;
      const gauge = (name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
      const doc = (await rawRequest(`${url}/status.json`)).json<{ queue: Record<string, number> }>();
      assert.equal(gauge('umcp_queue_waiting'), doc.queue.waiting);
      assert.equal(gauge('umcp_dlq_size'), doc.queue.deadLettered);
      assert.ok(gauge('umcp_queue_oldest_waiting_age_seconds') >= 90);
    });

    it('needs no credentials (anonymous access) and ignores any sent', async () => {
      const r = await rawRequest(`${url}/status.json`, { headers: { authorization: 'Bearer not-a-real-key' } });
      assert.equal(r.status, 200);
    });
  });

  describe('the rest of the server', () => {
    it('still routes /healthz, /readyz and /mcp, and 404s unknown paths', async () => {
      assert.equal((await rawRequest(`${url}/healthz`)).status, 200);
      assert.equal((await rawRequest(`${url}/readyz`)).status, 200);
      const mcp = await rawRequest(`${url}/mcp`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
      assert.equal(mcp.status, 401, 'the /mcp guard chain still runs');
      assert.equal((await rawRequest(`${url}/index.html`)).status, 404);
      assert.equal((await rawRequest(`${url}/metrics`, { method: 'POST' })).status, 404);
    });
  });
});
