/**
 * Every refusal reaches the client: an oversized POST (4–64 MiB) to /mcp gets a readable 413 with its
 * JSON-RPC error, never a connection reset (the server drains the rest of the body; http/request-body.ts).
 * Before the fix most of these ended in EPIPE/ECONNRESET. OVERSIZE_TRIES (default 12) sets how many
 * requests are sent; `npm run flood` runs 100.
 */
import assert from 'node:assert/strict';
import { startTestGateway, type TestGateway } from '../../support/platform-gateway.js';
import { MCP_HEADERS, rawRequest } from '../../support/platform-http.js';
import { oversizedPost, oversizeSizes } from '../../support/oversized-post.js';

describe('refusals arrive: oversized bodies get a readable 413', function () {
  this.timeout(300_000);
  let t: TestGateway;
  let key: string;
  before(async () => {
    t = await startTestGateway({ env: { MAX_BODY_BYTES: String(1024 * 1024) } });
    const res = await rawRequest(`${t.gateway.url}/admin/v1/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'acme' }),
    });
    key = res.json<{ apiKey: string }>().apiKey;
  });
  after(async () => t?.stop());

  const tries = Number(process.env.OVERSIZE_TRIES ?? 12);
  it(`${tries} of ${tries} POSTs of 4–64 MiB (Content-Length and chunked) answered 413 with a JSON-RPC error`, async () => {
    const failures: string[] = [];
    const sizes = oversizeSizes(tries);
    // Four at a time: several refusals in flight at once, as under real traffic.
    for (let i = 0; i < sizes.length; i += 4) {
      const batch = sizes.slice(i, i + 4).map(async (size, j) => {
        const chunked = (i + j) % 2 === 1;
        const r = await oversizedPost(t.gateway.mcpUrl, { ...MCP_HEADERS, authorization: `Bearer ${key}` }, size, chunked);
        if (r.status !== 413 || !/"code":-32600/.test(r.body))
          failures.push(`${size} B ${chunked ? 'chunked' : 'sized'}: ${r.status} ${r.error ?? r.body.slice(0, 100)}`);
      });
      await Promise.all(batch);
    }
    assert.deepEqual(failures, [], `${failures.length} of ${sizes.length} not answered 413`);
    assert.equal(t.calls.length, 0, 'nothing reached the endpoint');
  });

  // A client that sends `Connection: close` (Python's urllib always does; HTTP/1.0 clients by default)
  // gets an answer that closes the connection. Closing at once while the body still arrives makes the
  // kernel reset the connection; the server half-closes and discards the rest instead (RFC 9112 §9.6).
  it(`${tries} of ${tries} oversized POSTs sent with Connection: close answered 413 too`, async () => {
    const failures: string[] = [];
    for (const [i, size] of oversizeSizes(tries).entries()) {
      const chunked = i % 2 === 1;
      const r = await oversizedPost(t.gateway.mcpUrl, { ...MCP_HEADERS, authorization: `Bearer ${key}`, connection: 'close' }, size, chunked);
      if (r.status !== 413 || !/"code":-32600/.test(r.body))
        failures.push(`${size} B ${chunked ? 'chunked' : 'sized'}: ${r.status} ${r.error ?? r.body.slice(0, 100)}`);
    }
    assert.deepEqual(failures, [], `${failures.length} of ${tries} not answered 413`);
    const refusedEarly = await oversizedPost(
      t.gateway.mcpUrl,
      { ...MCP_HEADERS, authorization: 'Bearer umcp_bad_key', connection: 'close' },
      16 * 1024 * 1024,
      false,
    );
    assert.equal(refusedEarly.status, 401, refusedEarly.error);
  });

  it('a refusal before the body is read (401) arrives too, and the connection stays usable', async () => {
    const r = await oversizedPost(t.gateway.mcpUrl, { ...MCP_HEADERS, authorization: 'Bearer umcp_bad_key' }, 8 * 1024 * 1024, false);
    assert.equal(r.status, 401, r.error);
  });
});
