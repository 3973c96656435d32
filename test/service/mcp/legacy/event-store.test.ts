/**
 * The Redis Streams event log adapter on real Redis: ordering, priming and end markers, the SDK
 * EventStore face, the producer lease, the once-only failure of a lost call, and event id validation.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { RedisEventLog, compareEntryIds, parseEventId, type LoggedEvent } from '../../../../service/src/store/redis/event-store.js';
import { REDIS_URL, cleanPrefix } from './support/redis.js';

const SID = 'a'.repeat(64);
const STREAM = 'AAAAAAAAAAAAAAAAAAAAAA';
const note = (n: number): JSONRPCMessage => ({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 't', progress: n } });

describe('RedisEventLog', () => {
  let redis: Redis;
  let prefix: string;
  let log: RedisEventLog;

  beforeEach(async () => {
    redis = new Redis(REDIS_URL);
    prefix = `umcp-test:${randomUUID()}:`;
    log = new RedisEventLog(redis, { keyPrefix: prefix, maxEvents: 1000, ttlSeconds: 30 });
  });
  afterEach(async () => {
    await cleanPrefix(redis, prefix);
    redis.disconnect();
  });

  async function all(after = '0-0'): Promise<LoggedEvent[]> {
    const out: LoggedEvent[] = [];
    await log.readAfter(SID, STREAM, after, (e) => (out.push(e), true));
    return out;
  }

  it('reads events back in order after any position, with priming and final flags', async () => {
    await log.openCallStream(SID, STREAM, [1], 'R', 5000);
    const priming = await log.append(SID, STREAM, undefined, { callStream: true });
    for (let i = 1; i <= 300; i++) await log.append(SID, STREAM, note(i), { callStream: true });
    await log.append(SID, STREAM, { jsonrpc: '2.0', id: 1, result: {} }, { answers: 1, final: true });
    const events = await all();
    assert.equal(events.length, 302);
    assert.equal(events[0]!.eventId, priming);
    assert.equal(events[0]!.message, undefined);
    assert.deepEqual(
      events.slice(1, 301).map((e) => (e.message as unknown as { params: { progress: number } }).params.progress),
      [...Array(300).keys()].map((i) => i + 1),
    );
    assert.ok(events.at(-1)!.final);
    const after = await all(events[150]!.entryId);
    assert.equal(after.length, 151);
    assert.ok(compareEntryIds(after[0]!.entryId, events[150]!.entryId) > 0);
    assert.ok(await log.isDone(SID, STREAM));
    assert.equal(await log.append(SID, STREAM, note(999), { callStream: true }), undefined, 'a done stream takes no more events');
  });

  it('fails the pending requests of a lost call once, and refuses the producer afterwards', async () => {
    await log.openCallStream(SID, STREAM, [1, 'two'], 'R', 5000);
    await log.append(SID, STREAM, { jsonrpc: '2.0', id: 1, result: {} }, { answers: 1 });
    assert.equal(await log.failPending(SID, STREAM, -32603, 'lost'), 1, 'only the unanswered request');
    assert.equal(await log.failPending(SID, STREAM, -32603, 'lost'), 0, 'idempotent');
    const events = await all();
    assert.deepEqual(events.at(-1)!.message, { jsonrpc: '2.0', id: 'two', error: { code: -32603, message: 'lost' } });
    assert.ok(events.at(-1)!.final);
    assert.equal(await log.append(SID, STREAM, { jsonrpc: '2.0', id: 'two', result: {} }, { answers: 'two', final: true }), undefined);
  });

  it('tells when a resume position lies before events the length bound trimmed', async () => {
    const small = new RedisEventLog(redis, { keyPrefix: prefix, maxEvents: 10, ttlSeconds: 30 });
    const first = (await small.append(SID, 'get', note(0)))!;
    for (let i = 1; i <= 250; i++) await small.append(SID, 'get', note(i));
    const firstEntry = parseEventId(first)!.entryId;
    assert.ok(await small.trimmedAfter(SID, 'get', firstEntry));
    assert.ok((await small.length(SID, 'get')) < 250);
    const newest = (await small.lastEntryId(SID, 'get'))!;
    assert.equal(await small.trimmedAfter(SID, 'get', newest), false);
  });

  it('holds, renews and loses the producer lease', async () => {
    await log.openCallStream(SID, STREAM, [1], 'R', 300);
    assert.ok(await log.leaseHeld(SID, STREAM));
    assert.ok(await log.renewLease(SID, STREAM, 'R', 300));
    await new Promise((r) => setTimeout(r, 450));
    assert.equal(await log.leaseHeld(SID, STREAM), false);
    assert.equal(await log.renewLease(SID, STREAM, 'R', 300), false, 'an expired lease is not silently re-taken');
  });

  it("serves the SDK's EventStore interface", async () => {
    const store = log.forSession(SID);
    const first = await store.storeEvent('get', note(1));
    await store.storeEvent('get', note(2));
    await store.storeEvent('get', note(3));
    assert.equal(await store.getStreamIdForEventId!(first), 'get');
    const replayed: string[] = [];
    const streamId = await store.replayEventsAfter(first, { send: async (id) => void replayed.push(id) });
    assert.equal(streamId, 'get');
    assert.equal(replayed.length, 2);
    assert.ok(replayed.every((id) => id.startsWith('get.')));
  });

  it('validates event ids', () => {
    assert.deepEqual(parseEventId('get.1700000000000-3'), { streamId: 'get', entryId: '1700000000000-3' });
    assert.deepEqual(parseEventId(`${STREAM}.1-0`), { streamId: STREAM, entryId: '1-0' });
    for (const bad of ['', 'get', 'get.', 'get.abc', 'x.1-0', `${STREAM}.1-0;DEL`, `${'A'.repeat(60)}.1-0`, `get.${'1'.repeat(95)}-0`]) {
      assert.equal(parseEventId(bad), undefined, bad);
    }
  });
});
