/**
 * Resumption under repeated connection loss: a client that keeps losing its SSE connection and resumes on
 * alternating replicas still gets every event exactly once and in order; also for 2025-06-18 clients,
 * whose streams carry no priming event.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { bearer, startReplica, type TestReplica } from './support/replica.js';
import { SseReader, initialize, post, toolCall, type SseEvent } from './support/http.js';
import { REDIS_URL, cleanPrefix } from './support/redis.js';

const AUTH = bearer('acme');

describe('legacy sessions: repeated resumption across replicas', function () {
  let redis: Redis;
  let prefix: string;
  let replicas: TestReplica[];

  beforeEach(async () => {
    prefix = `umcp-test:${randomUUID()}:`;
    redis = new Redis(REDIS_URL);
    replicas = [
      await startReplica({ redisUrl: REDIS_URL, keyPrefix: prefix, replicaId: 'A' }),
      await startReplica({ redisUrl: REDIS_URL, keyPrefix: prefix, replicaId: 'B' }),
    ];
  });

  afterEach(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await cleanPrefix(redis, prefix);
    redis.disconnect();
  });

  for (const version of ['2025-11-25', '2025-06-18'] as const) {
    it(`delivers every event once, in order, across many drops and resumes (${version})`, async () => {
      const count = 30;
      const sid = await initialize(replicas[0]!.url, 'acme', { version });
      let reader = new SseReader(await post(replicas[0]!.url, AUTH, sid, toolCall(1, 'stream', { count, intervalMs: 25 }, 'tok')));
      const received: SseEvent[] = [];
      let lastId: string | undefined;
      let hop = 0;
      let final: SseEvent | undefined;
      while (!final) {
        // Read a few events (never more than 4), then lose the connection and resume on the other replica.
        const budget = 1 + (hop % 4);
        for (let i = 0; i < budget && !final; i++) {
          const e = await reader.next();
          if (!e) break;
          if (e.id) lastId = e.id;
          if (e.message) received.push(e);
          if (e.message?.id === 1) final = e;
        }
        if (final) break;
        await reader.drop();
        assert.ok(lastId, 'the client has an id to resume from');
        hop++;
        const target = replicas[hop % 2]!;
        const res = await fetch(target.url, { headers: { Authorization: AUTH, Accept: 'text/event-stream', 'Mcp-Session-Id': sid, 'Last-Event-ID': lastId } });
        assert.equal(res.status, 200);
        reader = new SseReader(res);
      }
      const progress = received.filter((e) => e.message?.method === 'notifications/progress').map((e) => Number(e.message!.params!.progress));
      assert.deepEqual(
        progress,
        [...Array(count).keys()].map((i) => i + 1),
      );
      assert.equal(received.filter((e) => e.message?.id === 1).length, 1);
      assert.ok(hop >= 5, `resumed ${hop} times`);
    });
  }
});
