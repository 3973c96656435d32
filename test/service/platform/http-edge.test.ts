import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisChild } from '../../../service/src/local/redis-child.js';
import { startTestGateway, type TestGateway } from '../../support/platform-gateway.js';
import { MCP_HEADERS, PING, rawRequest } from '../../support/platform-http.js';

async function tenantKey(t: TestGateway, name = 'acme'): Promise<string> {
  const res = await rawRequest(`${t.gateway.url}/admin/v1/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  return res.json<{ apiKey: string }>().apiKey;
}

describe('HTTP edge: guards, limits, health and metrics', () => {
  let t: TestGateway;
  afterEach(async () => t?.stop());

  describe('Host/Origin validation (DNS rebinding)', () => {
    beforeEach(async () => {
      t = await startTestGateway();
    });

    it('refuses a foreign Host with 403 before authentication', async () => {
      const key = await tenantKey(t);
      const res = await rawRequest(t.gateway.mcpUrl, {
        method: 'POST',
        headers: { ...MCP_HEADERS, host: 'evil.example:8080', authorization: `Bearer ${key}` },
        body: PING,
      });
      assert.equal(res.status, 403);
      assert.equal(res.json<{ error: { code: number } }>().error.code, -32000);
      assert.equal(t.calls.length, 0);
    });

    it('refuses a foreign Origin and the opaque null origin; allows loopback origins and no Origin', async () => {
      const key = await tenantKey(t);
      const send = (origin?: string) =>
        rawRequest(t.gateway.mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${key}`, ...(origin && { origin }) }, body: PING });
      assert.equal((await send('http://evil.example')).status, 403);
      assert.equal((await send('null')).status, 403);
      assert.equal((await send('http://localhost:5173')).status, 200);
      assert.equal((await send()).status, 200);
    });

    it('answers CORS preflights for allowed origins and exposes the MCP headers to them', async () => {
      const pre = await rawRequest(t.gateway.mcpUrl, {
        method: 'OPTIONS',
        headers: {
          origin: 'http://localhost:6274',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, mcp-session-id',
        },
      });
      assert.equal(pre.status, 204);
      assert.equal(pre.headers['access-control-allow-origin'], 'http://localhost:6274');
      assert.match(String(pre.headers['access-control-allow-headers']), /authorization.*mcp-session-id.*mcp-protocol-version/);
      const unauth = await rawRequest(t.gateway.mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, origin: 'http://localhost:6274' }, body: PING });
      assert.equal(unauth.status, 401);
      assert.equal(unauth.headers['access-control-allow-origin'], 'http://localhost:6274');
      assert.match(String(unauth.headers['access-control-expose-headers']), /www-authenticate/);
      const foreign = await rawRequest(t.gateway.mcpUrl, { method: 'OPTIONS', headers: { origin: 'http://evil.example' } });
      assert.equal(foreign.status, 403);
      assert.equal(foreign.headers['access-control-allow-origin'], undefined);
    });

    it('does not apply the /mcp guards to health probes (Kubernetes sends pod IPs as Host)', async () => {
      assert.equal((await rawRequest(`${t.gateway.url}/healthz`, { headers: { host: '10.1.2.3:8080' } })).status, 200);
    });
  });

  describe('limits', () => {
    it('answers 413 for a body over MAX_BODY_BYTES', async () => {
      t = await startTestGateway({ env: { MAX_BODY_BYTES: '2048' } });
      const key = await tenantKey(t);
      const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x'.repeat(5000) } } });
      const res = await rawRequest(t.gateway.mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${key}` }, body: big });
      assert.equal(res.status, 413);
      assert.match(res.json<{ error: { message: string } }>().error.message, /2048 bytes/);
      assert.equal(t.calls.length, 0);
    });

    it('limits each tenant per minute across the cluster: 429 with Retry-After', async () => {
      t = await startTestGateway({ env: { RATE_LIMIT_PER_MINUTE: '3' } });
      const a = await tenantKey(t, 'a');
      const b = await tenantKey(t, 'b');
      const send = (key: string) => rawRequest(t.gateway.mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${key}` }, body: PING });
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await send(a)).status);
      assert.deepEqual(statuses, [200, 200, 200, 429]);
      const limited = await send(a);
      assert.equal(limited.status, 429);
      const retryAfter = Number(limited.headers['retry-after']);
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${limited.headers['retry-after']}`);
      assert.match(limited.json<{ error: { message: string } }>().error.message, /Rate limit/);
      assert.equal((await send(b)).status, 200, 'other tenants are not affected');
    });

    it('answers 504 when a non-streaming response is not ready within REQUEST_TIMEOUT_MS', async () => {
      let aborted = false;
      t = await startTestGateway({
        env: { REQUEST_TIMEOUT_MS: '1000' },
        handle: (request) =>
          new Promise((resolve) => {
            request.signal.addEventListener('abort', () => (aborted = true));
            setTimeout(() => resolve(Response.json({ late: true })), 2500);
          }),
      });
      const key = await tenantKey(t);
      const started = Date.now();
      const res = await rawRequest(t.gateway.mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${key}` }, body: PING });
      assert.equal(res.status, 504);
      assert.ok(Date.now() - started < 2000);
      assert.match(res.json<{ error: { message: string } }>().error.message, /timed out after 1000 ms/);
      assert.ok(aborted, 'the endpoint was told to stop (request signal aborted)');
    });

    it('never puts a stack trace or internal message in a 500', async () => {
      t = await startTestGateway({
        handle: async () => {
          throw new Error('boom: connection string postgres://secret@db');
        },
      });
      const key = await tenantKey(t);
      const res = await rawRequest(t.gateway.mcpUrl, {
        method: 'POST',
        headers: { ...MCP_HEADERS, authorization: `Bearer ${key}`, 'x-request-id': 'r-500' },
        body: PING,
      });
      assert.equal(res.status, 500);
      assert.ok(!/boom|secret|\bat\s|\.ts:\d/.test(res.body), res.body);
      assert.match(res.body, /r-500/);
      assert.equal(res.json<{ jsonrpc: string; error: { code: number } }>().error.code, -32603, 'a JSON-RPC error on /mcp');
    });

    it('answers unknown routes with a JSON 404', async () => {
      t = await startTestGateway();
      const res = await rawRequest(`${t.gateway.url}/nope`);
      assert.equal(res.status, 404);
      assert.equal(res.json<{ error: { code: string } }>().error.code, 'not_found');
    });
  });

  describe('health, readiness and metrics', () => {
    beforeEach(async () => {
      t = await startTestGateway();
    });

    it('/healthz and /readyz report up and ready with their checks', async () => {
      assert.equal((await rawRequest(`${t.gateway.url}/healthz`)).status, 200);
      const ready = await rawRequest(`${t.gateway.url}/readyz`);
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.json(), { status: 'ready', checks: { postgres: true, redis: true, migrations: true } });
    });

    it('/metrics exposes request counts and latency by route/method/status, and pool gauges', async () => {
      await rawRequest(t.gateway.mcpUrl, { method: 'POST', headers: MCP_HEADERS, body: PING });
      const text = (await rawRequest(`${t.gateway.url}/metrics`)).body;
      assert.match(text, /umcp_http_requests_total\{route="\/mcp",method="POST",status="401",region="local"\} 1/);
      assert.match(text, /umcp_http_request_duration_seconds_bucket\{le="0\.005",region="local",route="\/mcp",method="POST",status="401"\}/);
      assert.match(text, /umcp_pg_pool_total\{shard="default",role="writer",region="local"\} \d+/);
      assert.match(text, /umcp_pg_pool_waiting\{shard="default",role="writer",region="local"\} 0/);
      assert.match(text, /process_resident_memory_bytes/);
    });
  });
});

describe('readiness follows the dependencies', function () {
  this.timeout(60_000);

  it('/readyz turns 503 within seconds when Redis goes away, while /healthz stays 200', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'umcp-ready-'));
    const redis = await startRedisChild(dir);
    const t = await startTestGateway({ env: { REDIS_URL: redis.url } });
    try {
      assert.equal((await rawRequest(`${t.gateway.url}/readyz`)).status, 200);
      await redis.stop();
      const started = Date.now();
      const res = await rawRequest(`${t.gateway.url}/readyz`);
      assert.equal(res.status, 503);
      assert.ok(Date.now() - started < 3_000, `took ${Date.now() - started} ms`);
      assert.deepEqual(res.json<{ checks: Record<string, boolean> }>().checks, { postgres: true, redis: false, migrations: true });
      assert.equal((await rawRequest(`${t.gateway.url}/healthz`)).status, 200, 'liveness does not depend on Redis');
    } finally {
      await t.gateway.close();
      await t.db.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
