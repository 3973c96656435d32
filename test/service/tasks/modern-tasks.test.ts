/**
 * 2026-07-28 tasks extension against two gateway replicas and a worker child process: create on A,
 * status/result/cancel on B, tenant isolation, unknown ids, the capability gate.
 */
import assert from 'node:assert/strict';
import { createTaskEnv, modernCall, RpcError, waitForTask, type TaskEnv } from './support.js';

describe('tasks (2026-07-28 extension)', function () {
  this.timeout(90_000);
  let env: TaskEnv;
  let a: string;
  let b: string;
  let alice: { id: string; key: string };
  let bob: { id: string; key: string };

  before(async () => {
    env = await createTaskEnv();
    a = (await env.startGateway()).mcpUrl;
    b = (await env.startGateway()).mcpUrl;
    alice = await env.tenant('alice');
    bob = await env.tenant('bob');
    await env.startWorker();
  });
  after(async () => env?.cleanup());

  it('creates a task on replica A and serves its status and inlined result on replica B', async () => {
    const created = await modernCall(a, alice.key, 'tools/call', { name: 'diagnostics.sleep', arguments: { ms: 300 } });
    assert.equal(created['resultType'], 'task');
    assert.equal(created['status'], 'working');
    assert.equal(typeof created['ttlMs'], 'number');
    const taskId = created['taskId'] as string;
    const immediate = await modernCall(b, alice.key, 'tasks/get', { taskId });
    assert.equal(immediate['taskId'], taskId);
    const done = await waitForTask(() => modernCall(b, alice.key, 'tasks/get', { taskId }));
    assert.equal(done['status'], 'completed');
    assert.deepEqual((done['result'] as { structuredContent: unknown }).structuredContent, { ms: 300 });
  });

  it("reports the tool's progress as the task's statusMessage while it runs", async () => {
    const created = await modernCall(a, alice.key, 'tools/call', { name: 'diagnostics.stream', arguments: { count: 4, intervalMs: 400 } });
    const taskId = created['taskId'] as string;
    const during = await waitForTask(
      () => modernCall(b, alice.key, 'tasks/get', { taskId }),
      (t) => /event [1-3] of 4/.test(String(t['statusMessage'] ?? '')),
    );
    assert.equal(during['status'], 'working');
    const done = await waitForTask(() => modernCall(b, alice.key, 'tasks/get', { taskId }));
    assert.deepEqual((done['result'] as { structuredContent: unknown }).structuredContent, { count: 4 });
  });

  it("keeps tenants apart: another tenant's task id is an unknown task (-32602)", async () => {
    const created = await modernCall(a, alice.key, 'tools/call', { name: 'diagnostics.sleep', arguments: { ms: 100 } });
    await assert.rejects(
      modernCall(b, bob.key, 'tasks/get', { taskId: created['taskId'] }),
      (e: RpcError) => e.code === -32602 && /Unknown task/.test(e.message),
    );
    await assert.rejects(modernCall(b, bob.key, 'tasks/cancel', { taskId: created['taskId'] }), (e: RpcError) => e.code === -32602);
    await assert.rejects(modernCall(a, alice.key, 'tasks/get', { taskId: 'no-such-task' }), (e: RpcError) => e.code === -32602);
  });

  it('cancels a running task (the worker stops it) and acknowledges a cancel of a finished one', async () => {
    const created = await modernCall(a, alice.key, 'tools/call', { name: 'diagnostics.sleep', arguments: { ms: 20_000 } });
    const taskId = created['taskId'] as string;
    await waitForTask(
      () => modernCall(a, alice.key, 'tasks/get', { taskId }),
      (t) => /running/.test(String(t['statusMessage'] ?? '')),
    );
    const ack = await modernCall(b, alice.key, 'tasks/cancel', { taskId });
    assert.equal(ack['resultType'], 'complete');
    assert.equal(ack['taskId'], undefined);
    const after = await modernCall(a, alice.key, 'tasks/get', { taskId });
    assert.equal(after['status'], 'cancelled');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await modernCall(a, alice.key, 'tasks/get', { taskId }))['status'], 'cancelled', 'the worker must not complete a cancelled task');
    const again = await modernCall(b, alice.key, 'tasks/cancel', { taskId });
    assert.equal(again['resultType'], 'complete');
  });

  it('without the extension: optional tools run synchronously, task methods answer -32021', async () => {
    const sync = await modernCall(a, alice.key, 'tools/call', { name: 'diagnostics.sleep', arguments: { ms: 1 } }, { tasksExtension: false });
    assert.equal(sync['resultType'], 'complete');
    await assert.rejects(modernCall(a, alice.key, 'tasks/get', { taskId: 'x' }, { tasksExtension: false }), (e: RpcError) => e.code === -32021);
  });

  it('invalid arguments of a task-capable tool are refused at once (-32602), no task is created', async () => {
    await assert.rejects(
      modernCall(a, alice.key, 'tools/call', { name: 'diagnostics.sleep', arguments: { ms: 'soon' } }),
      (e: RpcError) => e.code === -32602 && /Invalid arguments/i.test(e.message),
    );
  });

  it('an idempotency key returns the first task instead of creating a second one', async () => {
    const meta = { 'io.modelcontextprotocol/idempotency-key': 'order-42' };
    const first = await modernCall(a, alice.key, 'tools/call', { name: 'diagnostics.sleep', arguments: { ms: 50 }, _meta: meta });
    const second = await modernCall(b, alice.key, 'tools/call', { name: 'diagnostics.sleep', arguments: { ms: 50 }, _meta: meta });
    assert.equal(second['taskId'], first['taskId']);
  });
});
