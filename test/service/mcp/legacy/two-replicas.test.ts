/**
 * The 2025-era sessionful leg across two replicas (two handlers with their own node:http servers on the same
 * Redis and key prefix): any replica serves any request of any session, resumption and live tail across
 * replicas, server-to-client requests answered through the other replica, DELETE everywhere.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { bearer, startReplica, type TestReplica } from './support/replica.js';
import { SseReader, initialize, post, toolCall, type SseEvent } from './support/http.js';
import { REDIS_URL, cleanPrefix } from './support/redis.js';

const AUTH = bearer('acme');

function progressValues(events: SseEvent[]): number[] {
  return events.filter((e) => e.message?.method === 'notifications/progress').map((e) => Number(e.message!.params!.progress));
}

describe('legacy sessions across two replicas', function () {
  let redis: Redis;
  let prefix: string;
  let a: TestReplica;
  let b: TestReplica;

  beforeEach(async () => {
    prefix = `umcp-test:${randomUUID()}:`;
    redis = new Redis(REDIS_URL);
    a = await startReplica({ redisUrl: REDIS_URL, keyPrefix: prefix, replicaId: 'A' });
    b = await startReplica({ redisUrl: REDIS_URL, keyPrefix: prefix, replicaId: 'B' });
  });

  afterEach(async () => {
    await a.stop();
    await b.stop();
    await cleanPrefix(redis, prefix);
    redis.disconnect();
  });

  it('serves a call on B for a session initialized on A', async () => {
    const sid = await initialize(a.url);
    const res = await post(b.url, AUTH, sid, toolCall(1, 'whoami', {}));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('mcp-session-id'), sid);
    const events = await new SseReader(res).rest();
    const result = events.find((e) => e.message?.id === 1);
    assert.deepEqual(result?.message?.result?.content, [{ type: 'text', text: 'acme/key:1' }]);
  });

  it('resumes a dropped stream on the other replica: every event once, in order, live, then the result', async () => {
    const sid = await initialize(a.url);
    const res = await post(a.url, AUTH, sid, toolCall(7, 'stream', { count: 8, intervalMs: 120 }, 'p1'));
    const first = new SseReader(res);
    const priming = await first.next();
    assert.ok(priming?.id, 'a priming event carries the first event id');
    assert.equal(priming.message, undefined);
    const seen: SseEvent[] = [];
    while (seen.length < 3) seen.push((await first.next())!);
    await first.drop();
    assert.deepEqual(progressValues(seen), [1, 2, 3]);

    const resumed = await fetch(b.url, {
      headers: { Authorization: AUTH, Accept: 'text/event-stream', 'Mcp-Session-Id': sid, 'Last-Event-ID': seen[2]!.id! },
    });
    assert.equal(resumed.status, 200);
    const rest = await new SseReader(resumed).rest();
    assert.deepEqual(progressValues(rest), [4, 5, 6, 7, 8], 'the remaining progress events, each once, in order');
    const last = rest.at(-1)!;
    assert.equal(last.message?.id, 7);
    assert.deepEqual(last.message?.result?.content, [{ type: 'text', text: JSON.stringify({ count: 8 }) }]);
    const ids = [...seen, ...rest].map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length, 'no event id twice');
  });

  it('replays a finished stream on any replica after the last seen event', async () => {
    const sid = await initialize(a.url);
    const events = await new SseReader(await post(a.url, AUTH, sid, toolCall(2, 'stream', { count: 3, intervalMs: 0 }, 'p'))).rest();
    const firstProgress = events.find((e) => e.message?.method === 'notifications/progress')!;
    const resumed = await fetch(b.url, {
      headers: { Authorization: AUTH, Accept: 'text/event-stream', 'Mcp-Session-Id': sid, 'Last-Event-ID': firstProgress.id! },
    });
    const rest = await new SseReader(resumed).rest();
    assert.deepEqual(progressValues(rest), [2, 3]);
    assert.equal(rest.at(-1)?.message?.id, 2);
  });

  for (const kind of ['sampling', 'elicitation'] as const) {
    it(`routes the client's ${kind} answer POSTed to B to the call waiting on A`, async () => {
      const sid = await initialize(a.url, 'acme', { capabilities: kind === 'sampling' ? { sampling: {} } : { elicitation: { form: {} } } });
      const reader = new SseReader(
        await post(a.url, AUTH, sid, toolCall(3, kind === 'sampling' ? 'sample' : 'elicit', kind === 'sampling' ? { prompt: 'hi' } : {})),
      );
      let request: SseEvent | undefined;
      while (!request?.message?.method) request = await reader.next();
      assert.equal(request.message!.method, kind === 'sampling' ? 'sampling/createMessage' : 'elicitation/create');
      const answer =
        kind === 'sampling'
          ? { role: 'assistant', content: { type: 'text', text: 'hello' }, model: 'm', stopReason: 'endTurn' }
          : { action: 'accept', content: { name: 'Ada' } };
      const ack = await post(b.url, AUTH, sid, { jsonrpc: '2.0', id: request.message!.id, result: answer });
      assert.equal(ack.status, 202);
      const rest = await reader.rest();
      const text = (rest.at(-1)?.message?.result?.content as { text: string }[])[0]!.text;
      assert.equal(text, kind === 'sampling' ? 'sampled:hello' : 'elicited:accept:Ada');
    });
  }

  it('names the question of an input_required handler with its key (umcp.dev/input-key), answered through B', async () => {
    const sid = await initialize(a.url, 'acme', { capabilities: { elicitation: { form: {} } } });
    const reader = new SseReader(await post(a.url, AUTH, sid, toolCall(3, 'elicit_mrtr', {})));
    let request: SseEvent | undefined;
    while (!request?.message?.method) request = await reader.next();
    assert.equal(request.message!.method, 'elicitation/create');
    const params = request.message!.params as { message: string; _meta?: Record<string, unknown> };
    assert.equal(params.message, 'nick?');
    assert.equal(params._meta?.['umcp.dev/input-key'], 'nick');
    const ack = await post(b.url, AUTH, sid, { jsonrpc: '2.0', id: request.message!.id, result: { action: 'accept', content: { name: 'Ada' } } });
    assert.equal(ack.status, 202);
    const rest = await reader.rest();
    assert.equal((rest.at(-1)?.message?.result?.content as { text: string }[])[0]!.text, 'nick:Ada');
  });

  it('refuses elicitation for a client that did not declare it, as the original instance would', async () => {
    const sid = await initialize(a.url, 'acme', { capabilities: { sampling: {} } });
    const events = await new SseReader(await post(b.url, AUTH, sid, toolCall(4, 'elicit', {}))).rest();
    const last = events.at(-1)!.message!;
    assert.equal(last.id, 4);
    assert.ok(last.error || (last.result as { isError?: boolean }).isError, 'capability check refuses elicitation');
    assert.match(JSON.stringify(last), /elicitation/i);
  });

  it('forwards notifications/cancelled to the replica running the request', async () => {
    const sid = await initialize(a.url);
    const reader = new SseReader(await post(a.url, AUTH, sid, toolCall(5, 'sleep', { ms: 20_000 })));
    await reader.next(); // priming: the call is registered
    const started = Date.now();
    const ack = await post(b.url, AUTH, sid, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 5, reason: 'test' } });
    assert.equal(ack.status, 202);
    const rest = await reader.rest();
    assert.ok(Date.now() - started < 5000, 'the cancelled call ends promptly');
    assert.equal(rest.filter((e) => e.message?.id === 5).length, 0, 'a cancelled request gets no response');
  });

  it('ends the session everywhere on DELETE', async () => {
    const sid = await initialize(a.url);
    const get = await fetch(a.url, { headers: { Authorization: AUTH, Accept: 'text/event-stream', 'Mcp-Session-Id': sid } });
    const standalone = new SseReader(get);
    const del = await fetch(b.url, { method: 'DELETE', headers: { Authorization: AUTH, 'Mcp-Session-Id': sid } });
    assert.equal(del.status, 200);
    assert.deepEqual(await standalone.rest(), [], 'the open GET stream on A is closed');
    assert.equal((await post(a.url, AUTH, sid, toolCall(1, 'echo', { text: 'x' }))).status, 404);
    assert.equal((await post(b.url, AUTH, sid, toolCall(1, 'echo', { text: 'x' }))).status, 404);
    assert.equal((await fetch(a.url, { method: 'DELETE', headers: { Authorization: AUTH, 'Mcp-Session-Id': sid } })).status, 404);
  });

  it('delivers a notification raised through A on the GET stream held on B', async () => {
    const sid = await initialize(a.url);
    const standalone = new SseReader(await fetch(b.url, { headers: { Authorization: AUTH, Accept: 'text/event-stream', 'Mcp-Session-Id': sid } }));
    const sub = await new SseReader(
      await post(a.url, AUTH, sid, { jsonrpc: '2.0', id: 9, method: 'resources/subscribe', params: { uri: 'test://counter' } }),
    ).rest();
    assert.deepEqual(sub.at(-1)?.message?.result, {});
    await new Promise((r) => setTimeout(r, 100)); // the GET holder's subscriptions are in place
    await a.handler.notifyTenant('t-acme', { method: 'notifications/resources/updated', params: { uri: 'test://other' } });
    await a.handler.notifyTenant('t-acme', { method: 'notifications/resources/updated', params: { uri: 'test://counter' } });
    await a.handler.notifyTenant('t-acme', { method: 'notifications/tools/list_changed' });
    await a.handler.notifyTenant('t-other', { method: 'notifications/prompts/list_changed' });
    const got = [(await standalone.next())!, (await standalone.next())!];
    assert.deepEqual(
      got.map((e) => [e.message?.method, e.message?.params?.uri]),
      [
        ['notifications/resources/updated', 'test://counter'],
        ['notifications/tools/list_changed', undefined],
      ],
    );
    assert.ok(
      got.every((e) => e.id?.startsWith('get.')),
      'standalone events carry resumable ids',
    );
    await standalone.drop();
  });

  it('delivers notifications a call on A raises outside its stream to the GET stream on B, resumable on A', async () => {
    const sid = await initialize(a.url);
    const getHeaders = { Authorization: AUTH, Accept: 'text/event-stream', 'Mcp-Session-Id': sid };
    const onB = new SseReader(await fetch(b.url, { headers: getHeaders }));
    await new SseReader(await post(a.url, AUTH, sid, toolCall(1, 'notify', { times: 1 }))).rest();
    const first = (await onB.next())!;
    assert.equal(first.message?.method, 'notifications/tools/list_changed');
    await onB.drop();
    await new SseReader(await post(a.url, AUTH, sid, toolCall(2, 'notify', { times: 2 }))).rest();
    // Resume the standalone stream on the other replica: the two notifications sent while disconnected.
    const onA = new SseReader(await fetch(a.url, { headers: { ...getHeaders, 'Last-Event-ID': first.id! } }));
    const missed = [(await onA.next())!, (await onA.next())!];
    assert.deepEqual(
      missed.map((e) => e.message?.method),
      ['notifications/tools/list_changed', 'notifications/tools/list_changed'],
    );
    assert.equal(new Set([first.id, ...missed.map((e) => e.id)]).size, 3);
    await onA.drop();
  });

  it('fails calls still running when a replica closes, so resumers elsewhere get an error at once', async () => {
    const sid = await initialize(a.url);
    const reader = new SseReader(await post(a.url, AUTH, sid, toolCall(8, 'sleep', { ms: 20_000 })));
    const priming = (await reader.next())!;
    await a.stop();
    const t0 = Date.now();
    const rest = await new SseReader(
      await fetch(b.url, { headers: { Authorization: AUTH, Accept: 'text/event-stream', 'Mcp-Session-Id': sid, 'Last-Event-ID': priming.id! } }),
    ).rest();
    assert.ok(Date.now() - t0 < 1000);
    assert.equal(rest.at(-1)?.message?.id, 8);
    assert.match(rest.at(-1)?.message?.error?.message ?? '', /shutting down/);
    a = await startReplica({ redisUrl: REDIS_URL, keyPrefix: prefix, replicaId: 'A2' }); // for afterEach
  });

  it('keeps logging/setLevel in the session for every replica', async () => {
    const sid = await initialize(a.url);
    const set = await new SseReader(await post(a.url, AUTH, sid, { jsonrpc: '2.0', id: 1, method: 'logging/setLevel', params: { level: 'error' } })).rest();
    assert.deepEqual(set.at(-1)?.message?.result, {});
    const info = await new SseReader(await post(b.url, AUTH, sid, toolCall(2, 'log', { level: 'info' }))).rest();
    assert.equal(info.filter((e) => e.message?.method === 'notifications/message').length, 0, 'info is below the stored level');
    const error = await new SseReader(await post(b.url, AUTH, sid, toolCall(3, 'log', { level: 'error' }))).rest();
    assert.equal(error.filter((e) => e.message?.method === 'notifications/message').length, 1);
  });

  it('counts active sessions and open SSE streams', async () => {
    await initialize(a.url);
    await initialize(b.url);
    const sid = await initialize(a.url);
    const reader = new SseReader(await post(a.url, AUTH, sid, toolCall(1, 'sleep', { ms: 500 })));
    const metrics = await a.registry.metrics();
    assert.match(metrics, /umcp_active_sessions 3/);
    assert.match(metrics, /umcp_open_sse_streams 1/);
    await reader.rest();
  });
});
