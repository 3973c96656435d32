import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { Agent, fetch as undiciFetch } from 'undici';
import { dispatcherFetch } from '../../../service/src/gateway/dispatcher-fetch.js';

/** A loopback server recording what it got; routes by path. */
function startServer(): Promise<{ url: string; seen: { method?: string; headers?: IncomingMessage['headers']; body?: string }; close(): Promise<void> }> {
  const seen: { method?: string; headers?: IncomingMessage['headers']; body?: string } = {};
  const server: Server = createServer((req, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      Object.assign(seen, { method: req.method, headers: req.headers, body });
      switch (req.url) {
        case '/json':
          res.writeHead(200, { 'content-type': 'application/json', 'x-many': ['a', 'b'] }).end(JSON.stringify({ echo: body }));
          return;
        case '/gzip':
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync(JSON.stringify({ zipped: true })));
          return;
        case '/sse':
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write('data: 1\n\n');
          setTimeout(() => res.end('data: 2\n\n'), 30);
          return;
        case '/empty':
          res.writeHead(204).end();
          return;
        case '/moved':
          res.writeHead(307, { location: '/json' }).end();
          return;
        case '/hang':
          return; // never answers
        default:
          res.writeHead(404).end('nope');
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        seen,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      }),
    ),
  );
}

describe('dispatcherFetch (pooled upstream clients): answers as undici fetch does', () => {
  let srv: Awaited<ReturnType<typeof startServer>>;
  const agent = new Agent();
  before(async () => (srv = await startServer()));
  after(async () => {
    await srv.close();
    await agent.close();
  });
  const post = (path: string, init: RequestInit = {}) =>
    dispatcherFetch(
      new URL(`${srv.url}${path}`),
      {
        method: 'POST',
        redirect: 'manual',
        body: '{"a":1}',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        ...init,
      },
      agent,
    );

  it("sends the method, body and headers (with fetch's defaults) and returns status, headers and body", async () => {
    const res = await post('/json', { headers: new Headers({ 'content-type': 'application/json', 'mcp-session-id': 's1' }) });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { echo: '{"a":1}' });
    assert.equal(res.headers.get('x-many'), 'a, b');
    assert.equal(srv.seen.method, 'POST');
    assert.equal(srv.seen.headers!['mcp-session-id'], 's1');
    assert.equal(srv.seen.headers!['content-length'], '7');
    // The same request through undici's fetch carries the same header names.
    const viaFetch = { ...srv.seen.headers };
    await (
      await undiciFetch(`${srv.url}/json`, {
        method: 'POST',
        body: '{"a":1}',
        headers: { 'content-type': 'application/json', 'mcp-session-id': 's1' },
        dispatcher: agent,
      })
    ).text();
    assert.deepEqual(
      Object.keys(viaFetch)
        .filter((h) => h !== 'connection' && h !== 'host')
        .sort(),
      Object.keys(srv.seen.headers!)
        .filter((h) => h !== 'connection' && h !== 'host')
        .sort(),
    );
  });

  it('decodes content codings', async () => {
    assert.deepEqual(await (await post('/gzip')).json(), { zipped: true });
  });

  it('streams SSE bodies as they arrive', async () => {
    const res = await post('/sse');
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    assert.equal(await res.text(), 'data: 1\n\ndata: 2\n\n');
  });

  it('has no body for a 204 and returns a redirect unfollowed (the SDK follows redirects itself)', async () => {
    const empty = await post('/empty');
    assert.equal(empty.status, 204);
    assert.equal(empty.body, null);
    const moved = await post('/moved');
    assert.equal(moved.status, 307);
    assert.equal(moved.headers.get('location'), '/json');
  });

  it('fails like fetch: TypeError "fetch failed" on a refused connection, the abort reason on abort', async () => {
    await assert.rejects(
      dispatcherFetch(new URL('http://127.0.0.1:1/x'), { method: 'POST', redirect: 'manual', body: '{}' }, agent),
      (err: Error) => err instanceof TypeError && err.message === 'fetch failed' && err.cause !== undefined,
    );
    const controller = new AbortController();
    const pending = post('/hang', { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('caller went away')), 30);
    await assert.rejects(pending, /caller went away/);
  });

  it('leaves other requests (e.g. redirect: follow) to undici fetch', async () => {
    const res = await dispatcherFetch(new URL(`${srv.url}/moved`), { method: 'GET' }, agent);
    assert.equal(res.status, 200);
    assert.equal(res.redirected, true);
  });
});
