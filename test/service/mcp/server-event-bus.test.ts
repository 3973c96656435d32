/**
 * RedisServerEventBusHub on a real Redis: events cross hubs (replicas), stay within their tenant,
 * malformed messages are reported and dropped, unsubscribe stops delivery.
 */
import assert from 'node:assert/strict';
import type { ServerEvent } from '@modelcontextprotocol/server';
import { Redis } from 'ioredis';
import { RedisServerEventBusHub } from '../../../service/src/store/redis/server-event-bus.js';
import { createTestRedisPrefix, testServiceUrls, type TestRedisPrefix } from '../../support/platform-db.js';

const waitFor = async (predicate: () => boolean, ms = 3000) => {
  const deadline = Date.now() + ms;
  while (!predicate() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return predicate();
};

describe('RedisServerEventBusHub', () => {
  let redis: Redis;
  let prefix: TestRedisPrefix;
  let hubs: RedisServerEventBusHub[];
  const errors: Error[] = [];

  beforeEach(async () => {
    redis = new Redis(testServiceUrls().redisUrl);
    prefix = createTestRedisPrefix();
    hubs = [0, 1].map(() => new RedisServerEventBusHub({ redis, keyPrefix: prefix.prefix, onerror: (e) => errors.push(e) }));
    await Promise.all(hubs.map((h) => h.start()));
    errors.length = 0;
  });
  afterEach(async () => {
    await Promise.all(hubs.map((h) => h.close()));
    await prefix.cleanup();
    redis.disconnect();
  });

  it('delivers an event published on one replica to listeners on every replica, same tenant only', async () => {
    const [a, b] = hubs as [RedisServerEventBusHub, RedisServerEventBusHub];
    const onB: ServerEvent[] = [];
    const onA: ServerEvent[] = [];
    const otherTenant: ServerEvent[] = [];
    b.forTenant('t1').subscribe((e) => onB.push(e));
    a.forTenant('t1').subscribe((e) => onA.push(e));
    b.forTenant('t2').subscribe((e) => otherTenant.push(e));

    a.forTenant('t1').publish({ kind: 'resource_updated', uri: 'test://x' });
    assert.ok(await waitFor(() => onB.length === 1 && onA.length === 1));
    assert.deepEqual(onB[0], { kind: 'resource_updated', uri: 'test://x' });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(otherTenant.length, 0);
  });

  it('stops delivering after unsubscribe and reports malformed messages', async () => {
    const [a, b] = hubs as [RedisServerEventBusHub, RedisServerEventBusHub];
    const got: ServerEvent[] = [];
    const off = b.forTenant('t1').subscribe((e) => got.push(e));
    await redis.publish(`${prefix.prefix}mcp:events:t1`, '{"kind":"nonsense"}');
    assert.ok(await waitFor(() => errors.length === 1));
    assert.match(errors[0]!.message, /malformed/);
    off();
    assert.equal(b.listenerCount, 0);
    a.forTenant('t1').publish({ kind: 'tools_list_changed' });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(got.length, 0);
  });
});
