/**
 * 2025-11-25 tasks utility on the sessionful leg: a task created through replica A is read, listed,
 * awaited (tasks/result) and cancelled through replica B; finished and foreign tasks get clear errors.
 */
import assert from 'node:assert/strict';
import { createTaskEnv, legacySession, RpcError, type TaskEnv } from './support.js';
import { decodeTaskCursor, encodeTaskCursor } from '../../../service/src/tasks/task-store.js';

describe('tasks (2025-11-25 utility)', function () {
  this.timeout(90_000);
  let env: TaskEnv;
  let a: string;
  let b: string;
  let tenant: { id: string; key: string };
  let other: { id: string; key: string };

  before(async () => {
    env = await createTaskEnv();
    a = (await env.startGateway()).mcpUrl;
    b = (await env.startGateway()).mcpUrl;
    tenant = await env.tenant('acme');
    other = await env.tenant('globex');
    await env.startWorker();
  });
  after(async () => env?.cleanup());

  it('advertises the tasks capability and creates a task for a call carrying `task`', async () => {
    const s = await legacySession(a, tenant.key);
    assert.deepEqual(s.capabilities['tasks'], { list: {}, cancel: {}, requests: { tools: { call: {} } } });
    const created = await s.call(a, 'tools/call', { name: 'diagnostics.sleep', arguments: { ms: 200 }, task: { ttl: 60_000 } });
    const task = created['task'] as Record<string, unknown>;
    assert.equal(task['status'], 'working');
    assert.equal(task['ttl'], 60_000);
    const taskId = task['taskId'] as string;
    const got = await s.call(b, 'tasks/get', { taskId });
    assert.equal(got['taskId'], taskId);
    const result = await s.call(b, 'tasks/result', { taskId });
    assert.deepEqual(result['structuredContent'], { ms: 200 });
    assert.deepEqual((result['_meta'] as Record<string, unknown>)['io.modelcontextprotocol/related-task'], { taskId });
    const list = await s.call(b, 'tasks/list');
    assert.ok((list['tasks'] as { taskId: string }[]).some((t) => t.taskId === taskId));
    // Finished: cancel is refused with the protocol's error.
    await assert.rejects(s.call(a, 'tasks/cancel', { taskId }), (e: RpcError) => e.code === -32602 && /already completed/.test(e.message));
  });

  it('tasks/result streams notifications/tasks/status while it waits, then the result', async () => {
    const s = await legacySession(a, tenant.key);
    const created = await s.call(a, 'tools/call', { name: 'diagnostics.sleep', arguments: { ms: 800 }, task: {} });
    const taskId = (created['task'] as { taskId: string }).taskId;
    const body = await s.raw(b, 'tasks/result', { taskId });
    const messages = body
      .split('\n')
      .filter((l) => l.startsWith('data:') && l.slice(5).trim().startsWith('{'))
      .map((l) => JSON.parse(l.slice(5)) as { method?: string; params?: { taskId: string; status: string }; result?: unknown });
    const statuses = messages.filter((m) => m.method === 'notifications/tasks/status').map((m) => m.params!);
    assert.ok(statuses.length >= 2, body);
    assert.ok(statuses.every((n) => n.taskId === taskId));
    assert.equal(statuses[0]!.status, 'working');
    assert.equal(statuses.at(-1)!.status, 'completed');
    assert.ok(messages.at(-1)!.result, 'the result comes last');
  });

  it('input_required: tasks/result relays the pending elicitation to the client and the task resumes with the answer', async () => {
    const s = await legacySession(a, tenant.key);
    const created = await s.call(a, 'tools/call', { name: 'confirm_delete', arguments: { filename: 'x.txt' }, task: {} });
    const taskId = (created['task'] as { taskId: string }).taskId;
    const asked: unknown[] = [];
    const messages = await s.stream(b, 'tasks/result', { taskId }, a, (req) => {
      asked.push(req);
      return { action: 'accept', content: { confirm: true } };
    });
    assert.equal(asked.length, 1);
    assert.equal((asked[0] as { method: string }).method, 'elicitation/create');
    // Named with the task's key (input-keys.ts), so a federating gateway can keep it.
    assert.equal((asked[0] as { params: { _meta?: Record<string, unknown> } }).params._meta?.['umcp.dev/input-key'], 'input-1');
    assert.ok(messages.some((m) => m['method'] === 'notifications/tasks/status' && (m['params'] as { status: string }).status === 'input_required'));
    const final = messages.at(-1)!['result'] as { content: { text: string }[] };
    assert.equal(final.content[0]!.text, 'deleted x.txt');
  });

  it('a gather-first tool asks on the tools/call stream before it creates the task, which starts with the answer', async () => {
    const s = await legacySession(a, tenant.key);
    const asked: { method: string; params: { message?: string; _meta?: Record<string, unknown> } }[] = [];
    const messages = await s.stream(a, 'tools/call', { name: 'test_tool_with_task', arguments: {}, task: {} }, b, (req) => {
      asked.push(req as (typeof asked)[number]);
      return { action: 'accept', content: { name: 'Grace' } };
    });
    assert.equal(asked.length, 1, 'one question before the task');
    assert.equal(asked[0]!.method, 'elicitation/create');
    assert.equal(asked[0]!.params._meta?.['umcp.dev/input-key'], 'user_name');
    const created = messages.at(-1)!['result'] as { task?: { taskId: string; status: string } };
    assert.ok(created.task, JSON.stringify(messages.at(-1)));
    const result = await s.call(b, 'tasks/result', { taskId: created.task.taskId });
    assert.equal((result['content'] as { text: string }[])[0]!.text, 'Hello, Grace! (task)');
  });

  it('tools/list marks task-capable tools with execution.taskSupport', async () => {
    const s = await legacySession(a, tenant.key);
    const { tools } = (await s.call(b, 'tools/list')) as { tools: { name: string; execution?: { taskSupport: string } }[] };
    const byName = new Map(tools.map((t) => [t.name, t]));
    assert.equal(byName.get('diagnostics.sleep')?.execution?.taskSupport, 'optional');
    assert.equal(byName.get('failing_job')?.execution?.taskSupport, 'required');
    assert.equal(byName.get('diagnostics.echo')?.execution, undefined);
  });

  it('a call without `task` runs synchronously; cancel stops a running task from the other replica', async () => {
    const s = await legacySession(a, tenant.key);
    const sync = await s.call(a, 'tools/call', { name: 'diagnostics.sleep', arguments: { ms: 1 } });
    assert.deepEqual(sync['structuredContent'], { ms: 1 });
    const created = await s.call(a, 'tools/call', { name: 'diagnostics.sleep', arguments: { ms: 30_000 }, task: {} });
    const taskId = (created['task'] as { taskId: string }).taskId;
    await new Promise((r) => setTimeout(r, 500));
    const cancelled = await s.call(b, 'tasks/cancel', { taskId });
    assert.equal(cancelled['status'], 'cancelled');
    await assert.rejects(s.call(b, 'tasks/result', { taskId }), (e: RpcError) => e.code === -32602 && /cancelled/.test(e.message));
  });

  it('another tenant cannot see or cancel the task; unknown ids are -32602', async () => {
    const s = await legacySession(a, tenant.key);
    const created = await s.call(a, 'tools/call', { name: 'diagnostics.sleep', arguments: { ms: 100 }, task: {} });
    const taskId = (created['task'] as { taskId: string }).taskId;
    const o = await legacySession(b, other.key);
    await assert.rejects(o.call(b, 'tasks/get', { taskId }), (e: RpcError) => e.code === -32602 && /Unknown task/.test(e.message));
    await assert.rejects(o.call(b, 'tasks/cancel', { taskId }), (e: RpcError) => e.code === -32602);
    const list = await o.call(b, 'tasks/list');
    assert.equal((list['tasks'] as unknown[]).length, 0);
    await assert.rejects(s.call(a, 'tasks/get', { taskId: 'nope' }), (e: RpcError) => e.code === -32602);
  });

  it('lists tasks for a tasks/list sent without params (the v1 SDK client sends it so)', async () => {
    const s = await legacySession(a, tenant.key);
    const created = await s.call(a, 'tools/call', { name: 'diagnostics.sleep', arguments: { ms: 10 }, task: {} });
    const taskId = (created['task'] as { taskId: string }).taskId;
    const list = await s.bare(b, 'tasks/list');
    assert.ok(
      (list['tasks'] as { taskId: string }[]).some((t) => t.taskId === taskId),
      JSON.stringify(list),
    );
  });

  it('tasks/list with a cursor the server never handed out is -32602 naming the cursor, not an internal error', async () => {
    const s = await legacySession(a, tenant.key);
    for (let i = 0; i < 3; i++) await s.call(a, 'tools/call', { name: 'diagnostics.sleep', arguments: { ms: 1 }, task: {} });
    const first = await s.call(a, 'tasks/list');
    assert.ok((first['tasks'] as unknown[]).length >= 3, JSON.stringify(first));
    for (const cursor of ['garbage', Buffer.from('not-a-date|x').toString('base64url'), Buffer.from('2026-01-01T00:00:00.000Z').toString('base64url')]) {
      await assert.rejects(
        s.call(b, 'tasks/list', { cursor }),
        (e: RpcError) => e.code === -32602 && /Invalid cursor/.test(e.message),
        `cursor ${JSON.stringify(cursor)}`,
      );
    }
    const t = (first['tasks'] as { taskId: string; createdAt: string }[])[0]!;
    assert.deepEqual(decodeTaskCursor(encodeTaskCursor(t.createdAt, t.taskId)), { at: t.createdAt, id: t.taskId });
  });

  it('malformed tasks/* params are -32602 naming the parameter, not -32603', async () => {
    const s = await legacySession(a, tenant.key);
    for (const method of ['tasks/get', 'tasks/result', 'tasks/cancel']) {
      await assert.rejects(s.bare(a, method), (e: RpcError) => e.code === -32602 && /taskId/.test(e.message), `${method} without params`);
      await assert.rejects(s.call(a, method, { taskId: 5 }), (e: RpcError) => e.code === -32602 && /taskId/.test(e.message), `${method} with a numeric taskId`);
    }
    await assert.rejects(
      s.call(a, 'tasks/list', { cursor: 5 }),
      (e: RpcError) => e.code === -32602 && /cursor/.test(e.message),
      'tasks/list with a numeric cursor',
    );
  });

  it('offers no tasks to a session at 2025-06-18, which has no tasks utility', async () => {
    const s = await legacySession(a, tenant.key, '2025-06-18');
    assert.equal(s.capabilities['tasks'], undefined);
    await assert.rejects(s.bare(a, 'tasks/list'), (err: RpcError) => err.code === -32601);
    // A `task` hint is not part of that revision: the call runs now and answers its result.
    const result = await s.call(a, 'tools/call', { name: 'diagnostics.sleep', arguments: { ms: 10 }, task: {} });
    assert.deepEqual(result['structuredContent'], { ms: 10 });
  });
});
