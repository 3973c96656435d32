/**
 * The replica's pool of live instances (service/src/mcp/legacy/instance-pool.ts): a session's requests on the
 * replica that initialized it (or restored it once) are served without building and restoring an instance,
 * and what another replica changes is still seen: the log level set on another replica, DELETE, and a tenant
 * list change (upstreams registered) that makes the factory build another surface. Two replicas on one
 * Redis, each with a factory that counts the instances it builds.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { McpServerFactory } from '@modelcontextprotocol/server';
import { Redis } from 'ioredis';
import { SseReader, initialize, post, toolCall } from './support/http.js';
import { REDIS_URL, cleanPrefix } from './support/redis.js';
import { bearer, startReplica, type TestReplica } from './support/replica.js';
import { testFactory } from './support/test-factory.js';

const AUTH = bearer('acme');

describe('legacy sessions: live instances pooled per replica', function () {
  let redis: Redis;
  let prefix: string;
  let a: TestReplica;
  let b: TestReplica;
  const built = { A: 0, B: 0 };
  const counting =
    (name: 'A' | 'B'): McpServerFactory =>
    (ctx) => {
      built[name]++;
      return testFactory(ctx);
    };

  beforeEach(async () => {
    prefix = `umcp-test:${randomUUID()}:`;
    redis = new Redis(REDIS_URL);
    built.A = built.B = 0;
    a = await startReplica({ redisUrl: REDIS_URL, keyPrefix: prefix, replicaId: 'A', factory: counting('A') });
    b = await startReplica({ redisUrl: REDIS_URL, keyPrefix: prefix, replicaId: 'B', factory: counting('B') });
  });

  afterEach(async () => {
    await a.stop();
    await b.stop();
    await cleanPrefix(redis, prefix);
    redis.disconnect();
  });

  const call = async (url: string, sid: string, id: number, name: string, args: Record<string, unknown>) =>
    new SseReader(await post(url, AUTH, sid, toolCall(id, name, args))).rest();

  it('serves later requests with the instance that ran initialize, restoring once on another replica', async () => {
    const sid = await initialize(a.url);
    assert.equal(built.A, 1);
    for (let i = 1; i <= 3; i++) {
      const content = (await call(a.url, sid, i, 'echo', { text: `a${i}` })).at(-1)?.message?.result?.content as { text: string }[];
      assert.equal(content[0]!.text, `a${i}`);
    }
    assert.equal(built.A, 1, 'no instance built (or initialize replayed) per call');
    for (let i = 4; i <= 6; i++) await call(b.url, sid, i, 'echo', { text: 'b' });
    assert.equal(built.B, 1, 'B restored the session once');
  });

  it('builds one instance per concurrent exchange and keeps them for later ones', async () => {
    const sid = await initialize(a.url);
    await Promise.all([call(a.url, sid, 1, 'sleep', { ms: 100 }), call(a.url, sid, 2, 'sleep', { ms: 100 })]);
    assert.equal(built.A, 2);
    // An instance goes back to the pool once its exchange is logged and its lease released, just after the
    // client has the answer: on a loaded machine the next batch could otherwise come first and build a third.
    await new Promise((r) => setTimeout(r, 200));
    await Promise.all([call(a.url, sid, 3, 'sleep', { ms: 100 }), call(a.url, sid, 4, 'sleep', { ms: 100 })]);
    assert.equal(built.A, 2);
  });

  it('applies a log level set on another replica to the pooled instance', async () => {
    const sid = await initialize(a.url);
    const logged = (events: Awaited<ReturnType<typeof call>>) => events.filter((e) => e.message?.method === 'notifications/message').length;
    assert.equal(logged(await call(a.url, sid, 1, 'log', { level: 'info' })), 1);
    const set = await new SseReader(await post(b.url, AUTH, sid, { jsonrpc: '2.0', id: 2, method: 'logging/setLevel', params: { level: 'error' } })).rest();
    assert.deepEqual(set.at(-1)?.message?.result, {});
    assert.equal(logged(await call(a.url, sid, 3, 'log', { level: 'info' })), 0, 'info is below the level B stored');
    assert.equal(logged(await call(a.url, sid, 4, 'log', { level: 'error' })), 1);
    assert.equal(built.A, 1);
  });

  it('does not reuse an instance whose exchange was cancelled', async () => {
    const sid = await initialize(a.url);
    const reader = new SseReader(await post(a.url, AUTH, sid, toolCall(1, 'sleep', { ms: 5000 })));
    await new Promise((r) => setTimeout(r, 100));
    const ack = await post(b.url, AUTH, sid, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } });
    assert.equal(ack.status, 202);
    await reader.rest();
    await call(a.url, sid, 2, 'echo', { text: 'x' });
    assert.equal(built.A, 2);
  });

  it('builds a new instance after a tenant list change published by any replica', async () => {
    const sid = await initialize(a.url);
    await call(a.url, sid, 1, 'echo', { text: 'x' });
    await b.handler.notifyTenant('t-acme', { method: 'notifications/tools/list_changed' });
    // Pub/sub reaches A asynchronously; the platform promises other replicas see a change within 1 s.
    const deadline = Date.now() + 1_000;
    for (let id = 2; built.A < 2 && Date.now() < deadline; id++) {
      await new Promise((r) => setTimeout(r, 50));
      await call(a.url, sid, id, 'echo', { text: 'x' });
    }
    assert.equal(built.A, 2, 'A built a new instance within 1 s of the change published on B');
  });

  it('does not pool an instance that was serving an exchange when a tenant list change arrived', async () => {
    const sid = await initialize(a.url);
    await call(a.url, sid, 1, 'echo', { text: 'x' });
    const before = built.A;
    // The change reaches A while its instance is out of the pool, serving the call: dropTenant finds nothing idle.
    const slow = new SseReader(await post(a.url, AUTH, sid, toolCall(2, 'sleep', { ms: 400 })));
    await new Promise((r) => setTimeout(r, 50));
    await b.handler.notifyTenant('t-acme', { method: 'notifications/tools/list_changed' });
    await new Promise((r) => setTimeout(r, 100));
    await slow.rest();
    await new Promise((r) => setTimeout(r, 100));
    await call(a.url, sid, 3, 'echo', { text: 'x' });
    assert.equal(built.A, before + 1, 'the instance given back after the change was closed, and a new one built');
  });

  it('answers 404 on a replica holding a pooled instance of a session deleted elsewhere', async () => {
    const sid = await initialize(a.url);
    await call(a.url, sid, 1, 'echo', { text: 'x' });
    const del = await fetch(b.url, { method: 'DELETE', headers: { authorization: AUTH, 'mcp-session-id': sid } });
    assert.equal(del.status, 200);
    assert.equal((await post(a.url, AUTH, sid, toolCall(2, 'echo', { text: 'x' }))).status, 404);
  });
});
