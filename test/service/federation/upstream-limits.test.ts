/**
 * The upstream limits where the bytes arrive: dispatcherFetch stops reading an upstream answer at
 * UPSTREAM_MAX_RESPONSE_BYTES (announced, streamed, compressed, SSE per request or per event), and the
 * catalog's listing bounds (names, descriptions, tool count).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { Agent } from 'undici';
import { dispatcherFetch } from '../../../service/src/gateway/dispatcher-fetch.js';
import { boundedDescription, safeUpstreamName } from '../../../service/src/gateway/catalog.js';
import { DEFAULT_UPSTREAM_LIMITS, setUpstreamLimits, UpstreamResponseTooLarge } from '../../../service/src/gateway/upstream-limits.js';

const KiB = 1024;
const LIMIT = 256 * KiB;

describe('upstream limits', () => {
  let server: Server;
  let url: string;
  let agent: Agent;
  const written: Record<string, number> = {};

  before(async () => {
    setUpstreamLimits({ maxResponseBytes: LIMIT });
    server = createServer((req, res) => {
      const path = req.url ?? '/';
      const big = Buffer.alloc(64 * KiB, 'x');
      written[path] = 0;
      const pump = (n: number, head: string) => {
        res.write(head);
        const next = () => {
          while (n-- > 0) {
            written[path]! += big.byteLength;
            if (!res.write(big)) return void res.once('drain', next);
          }
          res.end('"}');
        };
        next();
      };
      switch (path) {
        case '/sized':
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(10 * 1024 * KiB) });
          return pump(160, '{"a":"');
        case '/streamed':
          res.writeHead(200, { 'content-type': 'application/json' });
          return pump(1000, '{"a":"');
        case '/small':
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
          return;
        case '/bomb':
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync(Buffer.alloc(4 * 1024 * KiB, ' ')));
          return;
        case '/events': {
          // Many small events, far more than the cap in total: a GET stream is capped per event.
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          for (let i = 0; i < 200; i++) res.write(`data: ${'y'.repeat(4 * KiB)}\n\n`);
          res.end();
          return;
        }
        case '/one-big-event':
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          return pump(100, 'data: "');
      }
      res.writeHead(404).end();
    });
    server.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    agent = new Agent();
  });
  after(async () => {
    setUpstreamLimits(DEFAULT_UPSTREAM_LIMITS);
    await agent.close();
    server.close();
  });

  const get = (path: string, method = 'POST') =>
    dispatcherFetch(new URL(`${url}${path}`), { method, redirect: 'manual', ...(method === 'POST' && { body: '{}' }) }, agent);
  const tooLarge = (err: unknown) =>
    err instanceof TypeError && err.cause instanceof UpstreamResponseTooLarge && /UPSTREAM_MAX_RESPONSE_BYTES/.test(err.cause.message);

  it('an answer under the cap is read as before', async () => {
    assert.deepEqual(await (await get('/small')).json(), { ok: true });
  });
  it('an answer announced over the cap is refused before it is read', async () => {
    await assert.rejects(get('/sized'), tooLarge);
    assert.ok(written['/sized']! < 10 * 1024 * KiB, 'not read to the end');
  });
  it('a streamed JSON answer stops at the cap and the connection is dropped', async () => {
    await assert.rejects(get('/streamed'), tooLarge);
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(written['/streamed']! < 64 * 1000 * KiB, `the upstream wrote ${written['/streamed']} bytes, not all 64 MB`);
  });
  it('a compressed answer counts by its decoded size (no decompression bomb)', async () => {
    const res = await get('/bomb');
    await assert.rejects(res.arrayBuffer());
  });
  it('a GET event stream is capped per event: many small events pass, one oversized event fails', async () => {
    const ok = await get('/events', 'GET');
    assert.ok((await ok.arrayBuffer()).byteLength > LIMIT, 'more than the cap in total');
    const big = await get('/one-big-event', 'GET');
    await assert.rejects(big.arrayBuffer());
  });

  it('names: path separators, control characters, empty or over 128 characters are unsafe', () => {
    for (const bad of ['../x', 'a/b', 'a\\b', 'nul\u0000', 'tab\t', 'esc\u001b', '', 'x'.repeat(129), 'c1\u0085'])
      assert.equal(safeUpstreamName(bad), false, JSON.stringify(bad));
    for (const good of ['echo', 'get_file.v2', 'a-b', 'Ünïcode']) assert.equal(safeUpstreamName(good), true, good);
  });
  it('descriptions over the limit are cut on a character boundary and marked', () => {
    const cut = boundedDescription('é'.repeat(100_000), 1000);
    assert.ok(Buffer.byteLength(cut) <= 1000);
    assert.match(cut, /^é+ \[truncated by the gateway: UPSTREAM_MAX_DESCRIPTION_BYTES\]$/);
    assert.equal(boundedDescription('short', 1000), 'short');
  });
});
