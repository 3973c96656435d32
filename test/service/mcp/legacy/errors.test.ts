/**
 * The legacy leg's refusals and bounds: session id rules (400/404), principal binding, TTL expiry,
 * Last-Event-ID validation, batches per protocol version, the bounded event log, and drain.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { bearer, startReplica, type TestReplica } from './support/replica.js';
import { SseReader, initialize, post, toolCall } from './support/http.js';
import { REDIS_URL, cleanPrefix } from './support/redis.js';
const AUTH = bearer('acme');

describe('legacy sessions: refusals and bounds', function () {
  let redis: Redis;
  let prefix: string;
  let replica: TestReplica;
  let logLines: Record<string, unknown>[];

  beforeEach(async () => {
    prefix = `umcp-test:${randomUUID()}:`;
    redis = new Redis(REDIS_URL);
    logLines = [];
    replica = await startReplica({ redisUrl: REDIS_URL, keyPrefix: prefix, replicaId: 'R', logLines, config: { EVENT_LOG_MAX_EVENTS: 10 } });
  });

  afterEach(async () => {
    await replica.stop();
    await cleanPrefix(redis, prefix);
    redis.disconnect();
  });

  describe('session ids', () => {
    it('answers 400 to a non-initialize request without Mcp-Session-Id', async () => {
      const res = await post(replica.url, AUTH, undefined, toolCall(1, 'echo', { text: 'x' }));
      assert.equal(res.status, 400);
      assert.match(((await res.json()) as { error: { message: string } }).error.message, /Mcp-Session-Id/);
    });

    it('answers 404 to an unknown or malformed session id', async () => {
      assert.equal((await post(replica.url, AUTH, 'a'.repeat(64), toolCall(1, 'echo', { text: 'x' }))).status, 404);
      assert.equal((await post(replica.url, AUTH, 'not-a-session', toolCall(1, 'echo', { text: 'x' }))).status, 404);
    });

    it('answers 404 (and logs a warning) when another principal or tenant uses the session', async () => {
      const sid = await initialize(replica.url);
      for (const other of [bearer('acme', 'key:2'), bearer('globex')]) {
        const res = await post(replica.url, other, sid, toolCall(1, 'echo', { text: 'x' }));
        assert.equal(res.status, 404);
        assert.deepEqual(await res.json(), { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });
        const get = await fetch(replica.url, { headers: { Authorization: other, Accept: 'text/event-stream', 'Mcp-Session-Id': sid } });
        assert.equal(get.status, 404);
        const del = await fetch(replica.url, { method: 'DELETE', headers: { Authorization: other, 'Mcp-Session-Id': sid } });
        assert.equal(del.status, 404);
      }
      const warnings = logLines.filter((l) => l.level === 40 && String(l.msg).includes('does not own'));
      assert.equal(warnings.length, 6);
      assert.equal((await post(replica.url, AUTH, sid, toolCall(1, 'echo', { text: 'x' }))).status, 200, 'the owner still can');
    });

    it('expires an idle session (sliding TTL) and answers 404 afterwards', async () => {
      const short = await startReplica({ redisUrl: REDIS_URL, keyPrefix: prefix, replicaId: 'S', config: { SESSION_TTL_SECONDS: 1 } });
      try {
        const sid = await initialize(short.url);
        await new Promise((r) => setTimeout(r, 600));
        assert.equal((await post(short.url, AUTH, sid, { jsonrpc: '2.0', id: 1, method: 'ping' })).status, 200, 'use slides the TTL');
        await new Promise((r) => setTimeout(r, 600));
        assert.equal((await post(short.url, AUTH, sid, { jsonrpc: '2.0', id: 2, method: 'ping' })).status, 200);
        await new Promise((r) => setTimeout(r, 1300));
        assert.equal((await post(short.url, AUTH, sid, { jsonrpc: '2.0', id: 3, method: 'ping' })).status, 404);
      } finally {
        await short.stop();
      }
    });
  });

  describe('Last-Event-ID', () => {
    it('answers 400 to a malformed, oversized or foreign Last-Event-ID', async () => {
      const sid = await initialize(replica.url);
      const other = await initialize(replica.url);
      const events = await new SseReader(await post(replica.url, AUTH, other, toolCall(1, 'echo', { text: 'x' }))).rest();
      const foreign = events.find((e) => e.id)!.id!;
      for (const bad of ['nonsense', `${'x'.repeat(40)}.${'1'.repeat(80)}-0`, 'abcdefghijklmnopqrstuv.1-0', foreign]) {
        const res = await fetch(replica.url, { headers: { Authorization: AUTH, Accept: 'text/event-stream', 'Mcp-Session-Id': sid, 'Last-Event-ID': bad } });
        assert.equal(res.status, 400, bad);
      }
    });
  });

  describe('JSON-RPC envelope', () => {
    it('refuses batches from 2025-06-18 on and serves them for 2025-03-26', async () => {
      const modern = await initialize(replica.url, 'acme', { version: '2025-06-18' });
      const batch = [toolCall(1, 'echo', { text: 'a' }), toolCall(2, 'echo', { text: 'b' })];
      assert.equal((await post(replica.url, AUTH, modern, batch)).status, 400);
      const old = await initialize(replica.url, 'acme', { version: '2025-03-26' });
      const events = await new SseReader(await post(replica.url, AUTH, old, batch)).rest();
      assert.deepEqual(events.map((e) => e.message?.id).sort(), [1, 2]);
    });

    it('answers 406, 415, -32700, -32600 and an unsupported MCP-Protocol-Version with 400', async () => {
      const sid = await initialize(replica.url);
      const body = JSON.stringify(toolCall(1, 'echo', { text: 'x' }));
      const base = { Authorization: AUTH, 'Mcp-Session-Id': sid };
      assert.equal(
        (await fetch(replica.url, { method: 'POST', headers: { ...base, Accept: 'application/json', 'Content-Type': 'application/json' }, body })).status,
        406,
      );
      assert.equal(
        (await fetch(replica.url, { method: 'POST', headers: { ...base, Accept: 'application/json, text/event-stream', 'Content-Type': 'text/plain' }, body }))
          .status,
        415,
      );
      const parse = await fetch(replica.url, {
        method: 'POST',
        headers: { ...base, Accept: 'application/json, text/event-stream', 'Content-Type': 'application/json' },
        body: '{',
      });
      assert.equal(((await parse.json()) as { error: { code: number } }).error.code, -32700);
      const invalid = await post(replica.url, AUTH, sid, { jsonrpc: '2.0', id: 1 });
      assert.equal(((await invalid.json()) as { error: { code: number } }).error.code, -32600);
      assert.equal((await post(replica.url, AUTH, sid, toolCall(1, 'echo', { text: 'x' }), { 'MCP-Protocol-Version': '1999-01-01' })).status, 400);
    });
  });

  describe('resource subscriptions', () => {
    it('keeps subscriptions in the session and refuses more than MAX_SUBSCRIPTIONS', async () => {
      const limited = await startReplica({ redisUrl: REDIS_URL, keyPrefix: prefix, replicaId: 'L', config: { MAX_SUBSCRIPTIONS: 2 } });
      try {
        const sid = await initialize(limited.url);
        const subscribe = async (id: number, uri: string) =>
          (await new SseReader(await post(limited.url, AUTH, sid, { jsonrpc: '2.0', id, method: 'resources/subscribe', params: { uri } })).rest()).at(-1)!
            .message!;
        assert.deepEqual((await subscribe(1, 'test://a')).result, {});
        assert.deepEqual((await subscribe(2, 'test://b')).result, {});
        assert.deepEqual((await subscribe(3, 'test://a')).result, {}, 'resubscribing counts once');
        assert.match((await subscribe(4, 'test://c')).error?.message ?? '', /Subscription limit/);
        assert.deepEqual((await redis.smembers(`${prefix}legacy:s:${sid}:subs`)).sort(), ['test://a', 'test://b']);
      } finally {
        await limited.stop();
      }
    });
  });

  describe('event log', () => {
    it('bounds each stream log in length and time', async () => {
      const sid = await initialize(replica.url);
      const events = await new SseReader(await post(replica.url, AUTH, sid, toolCall(1, 'stream', { count: 400, intervalMs: 0 }, 'p'))).rest(20_000);
      assert.equal(events.filter((e) => e.message?.method === 'notifications/progress').length, 400, 'the live stream gets everything');
      const keys = await redis.keys(`${prefix}legacy:ev:${sid}:*`);
      const streamKey = keys.find((k) => !k.endsWith(':meta') && !k.endsWith(':lease'))!;
      const len = await redis.xlen(streamKey);
      assert.ok(len < 200, `XLEN ${len} is trimmed towards EVENT_LOG_MAX_EVENTS (approximate MAXLEN)`);
      const ttl = await redis.pttl(streamKey);
      assert.ok(ttl > 0 && ttl <= 60_000, `log has a TTL (${ttl} ms)`);
    });
  });

  describe('drain', () => {
    it('refuses new sessions with 503 + Retry-After and ends open streams with a retry hint', async () => {
      const sid = await initialize(replica.url);
      const reader = new SseReader(await post(replica.url, AUTH, sid, toolCall(1, 'sleep', { ms: 1000 })));
      await reader.next(); // priming
      await replica.handler.drain();
      const rest = await reader.rest();
      assert.equal(rest.at(-1)?.retry, 200, 'the last thing on the stream is a retry hint');
      const res = await fetch(replica.url, {
        method: 'POST',
        headers: { Authorization: AUTH, Accept: 'application/json, text/event-stream', 'Content-Type': 'application/json' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 0,
          method: 'initialize',
          params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
        }),
      });
      assert.equal(res.status, 503);
      assert.ok(res.headers.get('retry-after'));
    });
  });
});
