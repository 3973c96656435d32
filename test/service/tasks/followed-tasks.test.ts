/**
 * Followed tasks (gateway tasks mirroring an upstream's own task, followed from one replica) on the real
 * task store (PostgreSQL + Redis): a question parks the task until tasks/update answers it, the result is
 * filtered and stored, a failure keeps the upstream's error, a cancellation aborts the follow, a
 * repeated idempotency key follows nothing new, and a replica shutdown fails what it follows.
 */
import assert from 'node:assert/strict';
import { ProtocolError } from '@modelcontextprotocol/server';
import type { FollowHooks } from '../../../service/src/tasks/followed-tasks.js';
import type { TaskQueue } from '../../../service/src/tasks/task-queue.js';
import type { TaskService } from '../../../service/src/tasks/task-service.js';
import type { TaskRecord } from '../../../service/src/tasks/types.js';
import type { Principal } from '../../../service/src/domain/principal.js';
import { createStoreEnv, type StoreEnv } from './support.js';

/** Polls the task until `done`. */
async function until(service: TaskService, p: Principal, id: string, done: (t: TaskRecord) => boolean, timeoutMs = 10_000): Promise<TaskRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = await service.get(p, id);
    if (done(t)) return t;
    if (Date.now() > deadline) throw new Error(`task ${id} stayed ${t.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A follow that resolves when `signal` aborts, recording that it did. */
function untilAborted(seen: { aborted?: unknown }) {
  return (hooks: FollowHooks) =>
    new Promise<Record<string, unknown>>((_resolve, reject) => {
      if (hooks.signal.aborted) seen.aborted = hooks.signal.reason;
      hooks.signal.addEventListener('abort', () => {
        seen.aborted = hooks.signal.reason;
        reject(new Error('aborted'));
      });
      if (hooks.signal.aborted) reject(new Error('aborted'));
    });
}

describe('followed upstream tasks (task store)', function () {
  this.timeout(30_000);
  let env: StoreEnv;
  let queue: TaskQueue;
  let service: TaskService;
  let alice: Principal;

  before(async () => {
    env = await createStoreEnv(1);
    ({ queue, service } = env);
    alice = await env.tenant('alice');
  });
  after(async () => env?.close());

  const input = (tool: string, idempotencyKey?: string) => ({ era: 'modern' as const, tool, arguments: {}, ...(idempotencyKey && { idempotencyKey }) });

  it("parks the task on the upstream's question (under its own key) until tasks/update answers; the filtered result completes it; no queue job", async () => {
    service.followed.useResultFilter(async (result, task) => ({ ...result, filteredFor: task.tool }));
    const task = await service.createFollowed(alice, input('ns__ask'), async (hooks) => {
      const answer = (await hooks.ask({ method: 'elicitation/create', params: { message: 'name?', _meta: { 'umcp.dev/input-key': 'user_name' } } })) as { content: { name: string } };
      hooks.onprogress({ progress: 1, message: 'greeting' });
      return { content: [{ type: 'text', text: `hi ${answer.content.name}` }] };
    });
    const waiting = await until(service, alice, task.id, (t) => t.status === 'input_required');
    assert.deepEqual(Object.keys(waiting.inputRequests), ['user_name']);
    assert.equal(waiting.inputRequests['user_name']!.params['_meta'], undefined, 'the key hint is not stored');
    await service.update(alice, task.id, { user_name: { action: 'accept', content: { name: 'Ada' } } });
    const done = await until(service, alice, task.id, (t) => t.status === 'completed');
    assert.deepEqual(done.result, { content: [{ type: 'text', text: 'hi Ada' }], filteredFor: 'ns__ask' });
    assert.equal(await queue.queue.getJob(task.id), undefined, 'the upstream runs the work: no job on the queue');
    service.followed.useResultFilter(async (result) => result);
  });

  it("fails the task with the upstream's error (code, message, data)", async () => {
    const task = await service.createFollowed(alice, input('ns__boom'), async () => {
      throw new ProtocolError(-32001, 'upstream exploded', { where: 'upstream' });
    });
    const failed = await until(service, alice, task.id, (t) => t.status === 'failed');
    assert.deepEqual(failed.error, { code: -32001, message: 'upstream exploded', data: { where: 'upstream' } });
  });

  it('tasks/cancel aborts the follow (which cancels upstream); the task stays cancelled', async () => {
    const seen: { aborted?: unknown } = {};
    const task = await service.createFollowed(alice, input('ns__slow'), untilAborted(seen));
    await service.cancel(alice, task.id);
    const deadline = Date.now() + 5_000;
    while (seen.aborted === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(seen.aborted, 'ended');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await service.get(alice, task.id)).status, 'cancelled');
  });

  it('a repeated idempotency key returns the first task and cancels the upstream task made for the repeat', async () => {
    const first = await service.createFollowed(alice, input('ns__once', 'idem-1'), untilAborted({}));
    const repeat: { aborted?: unknown } = {};
    const again = await service.createFollowed(alice, input('ns__once', 'idem-1'), untilAborted(repeat));
    assert.equal(again.id, first.id);
    assert.equal(repeat.aborted, 'duplicate');
  });

  it('a replica shutdown fails the tasks it follows, saying to call the tool again', async () => {
    const task = await service.createFollowed(alice, input('ns__long'), untilAborted({}));
    assert.ok(service.followed.size >= 1);
    await service.followed.close();
    const failed = await service.get(alice, task.id);
    assert.equal(failed.status, 'failed');
    assert.match(failed.error?.message ?? '', /replica following the upstream task stopped; call the tool again/);
    assert.equal(service.followed.size, 0);
  });
});
