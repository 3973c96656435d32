/**
 * Task store + queue on real PostgreSQL and Redis (in process): idempotent creation, job dedup by task
 * id, a single terminal transition, cache consistency, tenant-scoped listing with cursors.
 */
import assert from 'node:assert/strict';
import { TaskService } from '../../../service/src/tasks/task-service.js';
import { TaskNotFoundError, TaskStateError } from '../../../service/src/tasks/types.js';
import type { Principal } from '../../../service/src/domain/principal.js';
import type { PgTaskStore } from '../../../service/src/tasks/task-store.js';
import type { BullmqTaskQueue } from '../../../service/src/tasks/queues/bullmq.js';
import { createStoreEnv, type StoreEnv } from './support.js';

describe('task store and queue (PostgreSQL + Redis)', function () {
  this.timeout(30_000);
  let env: StoreEnv;
  let queue: BullmqTaskQueue;
  let store: PgTaskStore;
  let service: TaskService;
  let alice: Principal;
  let bob: Principal;

  before(async () => {
    env = await createStoreEnv();
    ({ queue, store, service } = env);
    alice = await env.tenant('alice');
    bob = await env.tenant('bob');
  });
  after(async () => env?.close());
  const create = (p: Principal, idempotencyKey?: string) =>
    service.create(p, {
      era: 'modern',
      tool: 'diagnostics.sleep',
      arguments: { ms: 1 },
      policy: env.policies.forTool('diagnostics.sleep'),
      ...(idempotencyKey && { idempotencyKey }),
    });

  it('an idempotency key of the same tenant returns the first task; another tenant gets its own', async () => {
    const a = await create(alice, 'k1');
    const again = await create(alice, 'k1');
    const other = await create(bob, 'k1');
    assert.equal(again.id, a.id);
    assert.notEqual(other.id, a.id);
    assert.equal(await queue.queue.getJobCountByTypes('waiting', 'delayed', 'active', 'prioritized'), 2, 'one job per task, the duplicate enqueue was a no-op');
  });

  it('a task completes once: a second terminal transition (duplicate run) is refused and the cache agrees', async () => {
    const t = await create(alice);
    const first = await store.transition(t.id, { status: 'completed', result: { content: [{ type: 'text', text: 'one' }] } });
    const second = await store.transition(t.id, { status: 'completed', result: { content: [{ type: 'text', text: 'two' }] } });
    assert.ok(first);
    assert.equal(second, null);
    const cached = await store.get(t.id);
    const fresh = await store.getFresh(t.id);
    assert.deepEqual(cached?.result, { content: [{ type: 'text', text: 'one' }] });
    assert.equal(cached?.version, fresh?.version);
    await assert.rejects(service.cancel(alice, t.id), TaskStateError);
  });

  it("another tenant's id and an unknown id are the same TaskNotFoundError", async () => {
    const t = await create(alice);
    await assert.rejects(service.get(bob, t.id), TaskNotFoundError);
    await assert.rejects(service.get(alice, 'missing'), TaskNotFoundError);
  });

  it('a task stays readable for its TTL and is gone (unknown id) after it; the sweeper deletes it', async () => {
    const short = new TaskService(store, queue, env.policies, { ttlMs: 1_000, pollIntervalMs: 500 });
    const t = await short.create(alice, { era: 'modern', tool: 'diagnostics.sleep', arguments: { ms: 1 }, policy: env.policies.forTool('diagnostics.sleep') });
    await store.transition(t.id, { status: 'completed', result: { content: [] } });
    assert.equal((await short.get(alice, t.id)).status, 'completed');
    await new Promise((r) => setTimeout(r, 1_200));
    await assert.rejects(short.get(alice, t.id), TaskNotFoundError);
    assert.ok((await store.sweep()) >= 1);
    assert.equal(await store.getFresh(t.id), null);
  });

  it("lists only the tenant's tasks, newest first, with a cursor", async () => {
    const page1 = await service.list(alice, undefined, 2);
    assert.equal(page1.tasks.length, 2);
    assert.ok(page1.nextCursor);
    const page2 = await service.list(alice, page1.nextCursor, 100);
    const all = [...page1.tasks, ...page2.tasks];
    assert.ok(all.every((t) => t.tenantId === alice.tenantId));
    assert.equal(new Set(all.map((t) => t.id)).size, all.length);
    for (let i = 1; i < all.length; i++) assert.ok(all[i - 1]!.createdAt >= all[i]!.createdAt);
  });
});
