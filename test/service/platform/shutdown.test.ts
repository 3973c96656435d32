import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { startTestGateway, testRequestStateKeys, type TestGateway } from '../../support/platform-gateway.js';
import { createTestDatabase, createTestRedisPrefix, testServiceUrls } from '../../support/platform-db.js';
import { MCP_HEADERS, PING, rawRequest } from '../../support/platform-http.js';

const TSX = 'node_modules/.bin/tsx';

async function tenantKey(t: TestGateway): Promise<string> {
  const res = await rawRequest(`${t.gateway.url}/admin/v1/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'acme' }),
  });
  return res.json<{ apiKey: string }>().apiKey;
}

describe('graceful shutdown', () => {
  it('is not ready at once while draining, lets in-flight requests finish, then closes', async () => {
    const t = await startTestGateway({ handle: () => new Promise((r) => setTimeout(() => r(Response.json({ done: true })), 800)) });
    const key = await tenantKey(t);
    const inFlight = rawRequest(t.gateway.mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${key}` }, body: PING });
    await new Promise((r) => setTimeout(r, 150));
    await t.gateway.drain();
    assert.equal(t.endpointState.drained, true);
    const ready = await rawRequest(`${t.gateway.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.deepEqual(ready.json(), { status: 'draining' });
    assert.equal((await rawRequest(`${t.gateway.url}/healthz`)).status, 200, 'still alive while draining');
    const closing = t.stop();
    const res = await inFlight;
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), { done: true });
    await closing;
    assert.equal(t.endpointState.closed, true);
    await assert.rejects(rawRequest(`${t.gateway.url}/healthz`), /ECONNREFUSED/);
  });

  it('cuts requests still running after SHUTDOWN_GRACE_MS', async () => {
    const t = await startTestGateway({ env: { SHUTDOWN_GRACE_MS: '300' }, handle: () => new Promise(() => undefined) });
    const key = await tenantKey(t);
    const stuck = rawRequest(t.gateway.mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${key}` }, body: PING }).then(
      () => 'answered',
      () => 'cut',
    );
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await t.stop();
    assert.ok(Date.now() - started < 3000, 'close did not wait for the stuck request');
    assert.equal(await stuck, 'cut');
  });
});

describe('npm run gateway (gateway-main.ts)', () => {
  it('exits 1 with one line per bad key', async () => {
    const child = spawn(TSX, ['service/src/gateway-main.ts'], {
      env: { PATH: process.env.PATH, PORT: 'abc', LOG_LEVEL: 'loud' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 1);
    for (const key of ['PORT', 'LOG_LEVEL', 'DATABASE_URL', 'REDIS_URL', 'REQUEST_STATE_KEYS']) assert.match(stderr, new RegExp(`^  ${key}: `, 'm'));
  });

  it('serves from environment configuration only and stops cleanly on SIGTERM', async function () {
    this.timeout(60_000);
    const db = await createTestDatabase();
    const prefix = createTestRedisPrefix();
    const child = spawn(TSX, ['service/src/gateway-main.ts'], {
      env: {
        PATH: process.env.PATH,
        PORT: '0',
        HOST: '127.0.0.1',
        DATABASE_URL: db.url,
        REDIS_URL: testServiceUrls().redisUrl,
        REDIS_KEY_PREFIX: prefix.prefix,
        REQUEST_STATE_KEYS: testRequestStateKeys(),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let stdout = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (c: Buffer) => {
          stdout += c.toString();
          const m = /"url":"(http:\/\/[^"]+)"/.exec(stdout);
          if (m) resolve(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`gateway exited early (${code}): ${stdout}`)));
      });
      assert.equal((await rawRequest(`${url}/readyz`)).status, 200);
      const line = JSON.parse(stdout.split('\n').find((l) => l.includes('gateway listening'))!) as Record<string, unknown>;
      assert.equal(line.level, 'info');
      assert.equal(line.service, 'gateway');
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number];
      assert.equal(code, 0);
      assert.match(stdout, /gateway stopped/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await db.drop();
      await prefix.cleanup();
    }
  });
});
