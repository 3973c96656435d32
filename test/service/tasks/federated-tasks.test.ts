/**
 * Tasks of upstream tools (issue 6 x issue 7). The upstream is a second platform (its own database,
 * Redis prefix, gateway and worker process) serving the conformance task fixtures to a tenant; the
 * front gateway registers it twice, as `m` (spoken to in 2026-07-28) and `l` (in 2025-11-25):
 *
 * - `m`: the upstream creates and runs the task; the caller gets it under a federated id and its
 *   tasks/get, tasks/update and tasks/cancel are forwarded (the front stores nothing);
 * - `l`: the front calls the tool task-augmented on the upstream in the request (questions asked before
 *   the upstream creates its task are input_required rounds of the call), then mirrors the upstream's task
 *   in a front task and follows it from the replica holding the upstream session, so a tool error
 *   completes the task, a protocol error fails it, questions surface as input_required, and cancelling
 *   the front task cancels the upstream's.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createTaskEnv, legacySession, modernCall, RpcError, waitForTask, type TaskEnv } from './support.js';

describe('tasks of upstream tools (federated)', function () {
  this.timeout(120_000);
  let upstream: TaskEnv;
  let front: TaskEnv;
  let mcp: string;
  let acme: { id: string; key: string };
  let other: { id: string; key: string };

  const call = (method: string, params: Record<string, unknown>, key = acme.key) => modernCall(mcp, key, method, params);
  const get =
    (taskId: string, key = acme.key) =>
    () =>
      call('tasks/get', { taskId }, key);
  const text = (task: Record<string, unknown>) => (task['result'] as { content: { text: string }[] }).content[0]!.text;
  const rowsOf = async (env: TaskEnv) => {
    const client = new pg.Client({ connectionString: env.db.url });
    await client.connect();
    try {
      return Number((await client.query<{ n: number }>('SELECT count(*)::int AS n FROM tasks')).rows[0]!.n);
    } finally {
      await client.end();
    }
  };

  before(async () => {
    upstream = await createTaskEnv();
    const up = await upstream.startGateway();
    const fixtures = await upstream.tenant('fixtures');
    await upstream.startWorker();

    front = await createTaskEnv({ UPSTREAM_ALLOWLIST: '127.0.0.1', SECRETS_MASTER_KEY: randomBytes(32).toString('base64') });
    const gw = await front.startGateway();
    mcp = gw.mcpUrl;
    acme = await front.tenant('acme');
    other = await front.tenant('other');
    for (const [name, protocol] of [
      ['m', 'modern'],
      ['l', 'legacy'],
    ] as const) {
      const res = await fetch(`${gw.url}/admin/v1/tenants/acme/upstreams`, {
        method: 'POST',
        headers: { authorization: `Bearer ${front.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name, url: up.mcpUrl, protocol, credentials: { bearer: fixtures.key } }),
      });
      assert.equal(res.status, 201, await res.text());
    }
    await front.startWorker();
  });
  after(async () => {
    await front?.cleanup();
    await upstream?.cleanup();
  });

  describe('2026-07-28 upstream: the upstream owns the task', () => {
    it('a task-capable call answers a federated task id; tasks/get is forwarded until the inlined result', async () => {
      const before = await rowsOf(front);
      const created = await call('tools/call', { name: 'm__slow_compute', arguments: { seconds: 0.3, label: 'fed' } });
      assert.equal(created['resultType'], 'task');
      assert.match(created['taskId'] as string, /^up\.m\./);
      assert.ok(['working', 'completed'].includes(created['status'] as string));
      const done = await waitForTask(get(created['taskId'] as string));
      assert.equal(done['taskId'], created['taskId']);
      assert.equal(done['status'], 'completed');
      assert.equal(text(done), 'computed fed after 0.3s');
      // The front kept nothing: the task lives in the upstream's store.
      assert.equal(await rowsOf(front), before);
      assert.ok((await rowsOf(upstream)) > 0);
    });

    it("a question parks the upstream's task in input_required; tasks/update is forwarded and the task resumes", async () => {
      const created = await call('tools/call', { name: 'm__confirm_delete', arguments: { filename: 'a.txt' } });
      const taskId = created['taskId'] as string;
      const waiting = await waitForTask(get(taskId), (t) => t['status'] === 'input_required');
      const keys = Object.keys(waiting['inputRequests'] as object);
      assert.equal(keys.length, 1);
      assert.equal((waiting['inputRequests'] as Record<string, { method: string }>)[keys[0]!]!.method, 'elicitation/create');
      const ack = await call('tasks/update', { taskId, inputResponses: { [keys[0]!]: { action: 'accept', content: { confirm: true } } } });
      assert.deepEqual(
        Object.keys(ack).filter((k) => k !== '_meta' && k !== 'resultType'),
        [],
      );
      const done = await waitForTask(get(taskId));
      assert.equal(text(done), 'deleted a.txt');
    });

    it("the upstream's verdicts pass through: a tool error completes the task, a protocol error fails it", async () => {
      const toolError = await waitForTask(get((await call('tools/call', { name: 'm__failing_job', arguments: {} }))['taskId'] as string));
      assert.equal(toolError['status'], 'completed');
      assert.equal((toolError['result'] as { isError?: boolean }).isError, true);
      const protocolError = await waitForTask(get((await call('tools/call', { name: 'm__protocol_error_job', arguments: {} }))['taskId'] as string));
      assert.equal(protocolError['status'], 'failed');
      assert.equal(protocolError['result'], undefined);
      assert.match((protocolError['error'] as { message: string }).message, /protocol_error_job raised an internal error/);
    });

    it('tasks/cancel is forwarded: the upstream task ends cancelled', async () => {
      const taskId = (await call('tools/call', { name: 'm__slow_compute', arguments: { seconds: 60 } }))['taskId'] as string;
      assert.deepEqual(
        Object.keys(await call('tasks/cancel', { taskId })).filter((k) => k !== '_meta' && k !== 'resultType'),
        [],
      );
      const ended = await waitForTask(get(taskId));
      assert.equal(ended['status'], 'cancelled');
    });

    it('a federated id of another tenant, of an unknown upstream or malformed is -32602, like an unknown id', async () => {
      const taskId = (await call('tools/call', { name: 'm__slow_compute', arguments: { seconds: 30 } }))['taskId'] as string;
      try {
        for (const [id, key] of [
          [taskId, other.key],
          [taskId.replace(/^up\.m\./, 'up.nope.'), acme.key],
          ['up.m.', acme.key],
          ['up.m.!!', acme.key],
        ] as const) {
          await assert.rejects(call('tasks/get', { taskId: id }, key), (err: unknown) => err instanceof RpcError && err.code === -32602, id);
        }
      } finally {
        await call('tasks/cancel', { taskId });
      }
    });

    it('a caller without the tasks extension gets the tool run synchronously (optional) or -32021 (required)', async () => {
      const sync = await modernCall(mcp, acme.key, 'tools/call', { name: 'm__slow_compute', arguments: { seconds: 0 } }, { tasksExtension: false });
      assert.equal(sync['resultType'], 'complete');
      await assert.rejects(
        modernCall(mcp, acme.key, 'tools/call', { name: 'm__failing_job', arguments: {} }, { tasksExtension: false }),
        (err: unknown) => err instanceof RpcError && err.code === -32021,
      );
    });
  });

  describe('2025-era caller, 2026-07-28 upstream: a task-only tool becomes a (long) synchronous call', () => {
    it("the gateway takes the upstream's task and returns its outcome as the call's", async () => {
      const s = await legacySession(mcp, acme.key);
      const result = await s.call(mcp, 'tools/call', { name: 'm__failing_job', arguments: {} });
      assert.equal(result['isError'], true);
      assert.match((result['content'] as { text: string }[])[0]!.text, /failing_job failed on purpose/);
    });

    it("the upstream's question (asked before it creates the task) reaches the caller's session; the answer goes back", async () => {
      const s = await legacySession(mcp, acme.key);
      const asked: { method: string; params: unknown }[] = [];
      const messages = await s.stream(mcp, 'tools/call', { name: 'm__test_tool_with_task', arguments: {} }, mcp, (req) => {
        asked.push(req);
        return { action: 'accept', content: { name: 'Alice' } };
      });
      assert.equal(asked.length, 1);
      assert.equal(asked[0]!.method, 'elicitation/create');
      const final = messages.at(-1)!['result'] as { content: { text: string }[] };
      assert.equal(final.content[0]!.text, 'Hello, Alice! (task)');
    });
  });

  describe('2025-era upstream: a front task over an upstream task', () => {
    it('a tool error completes the task with the isError result; a protocol error fails it (one attempt)', async () => {
      const created = await call('tools/call', { name: 'l__failing_job', arguments: {} });
      assert.equal(created['resultType'], 'task');
      assert.doesNotMatch(created['taskId'] as string, /^up\./);
      const toolError = await waitForTask(get(created['taskId'] as string));
      assert.equal(toolError['status'], 'completed', JSON.stringify(toolError));
      assert.equal((toolError['result'] as { isError?: boolean }).isError, true);
      assert.match(text(toolError), /failing_job failed on purpose/);
      const protocolError = await waitForTask(get((await call('tools/call', { name: 'l__protocol_error_job', arguments: {} }))['taskId'] as string));
      assert.equal(protocolError['status'], 'failed', JSON.stringify(protocolError));
      assert.match((protocolError['error'] as { message: string }).message, /protocol_error_job raised an internal error/);
    });

    it("the upstream task's question surfaces as the front task's input_required; the answer resumes both", async () => {
      const taskId = (await call('tools/call', { name: 'l__confirm_delete', arguments: { filename: 'b.txt' } }))['taskId'] as string;
      const waiting = await waitForTask(get(taskId), (t) => t['status'] === 'input_required');
      const [key] = Object.keys(waiting['inputRequests'] as object);
      await call('tasks/update', { taskId, inputResponses: { [key!]: { action: 'accept', content: { confirm: false } } } });
      const done = await waitForTask(get(taskId));
      assert.equal(text(done), 'kept b.txt');
    });

    it("input asked before the task (a gather-first tool): round 1 is input_required under the upstream's key, round 2 the task, which ends with the answer", async () => {
      const caps = {
        _meta: { 'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} }, extensions: { 'io.modelcontextprotocol/tasks': {} } } },
      };
      const first = await call('tools/call', { name: 'l__test_tool_with_task', arguments: {}, ...caps });
      assert.equal(first['resultType'], 'input_required', JSON.stringify(first));
      assert.equal(first['taskId'], undefined, 'no task exists yet');
      assert.deepEqual(Object.keys(first['inputRequests'] as object), ['user_name'], 'the key the upstream named its question with');
      const answer = { inputResponses: { user_name: { action: 'accept', content: { name: 'Alice' } } }, requestState: first['requestState'] };
      const created = await call('tools/call', { name: 'l__test_tool_with_task', arguments: {}, ...answer, ...caps });
      assert.equal(created['resultType'], 'task', JSON.stringify(created));
      assert.equal(created['requestState'], undefined);
      assert.doesNotMatch(created['taskId'] as string, /^up\./, 'a front task mirrors the upstream task');
      const done = await waitForTask(get(created['taskId'] as string));
      assert.equal(done['status'], 'completed', JSON.stringify(done));
      assert.match(text(done), /Hello, Alice!/);
      const meta = (done['result'] as { _meta?: Record<string, unknown> })._meta ?? {};
      assert.equal(meta['io.modelcontextprotocol/related-task'], undefined, "the upstream's related-task key stays upstream");
    });

    it('tasks/cancel of the front task cancels the upstream task it follows', async () => {
      const taskId = (await call('tools/call', { name: 'l__slow_compute', arguments: { seconds: 30, label: 'follow-cancel' } }))['taskId'] as string;
      // Once a worker follows it (cancelling before that is the session-bound suite's case).
      await waitForTask(get(taskId), (t) => /running/.test(String(t['statusMessage'] ?? '')));
      await call('tasks/cancel', { taskId });
      assert.equal((await call('tasks/get', { taskId }))['status'], 'cancelled');
      const client = new pg.Client({ connectionString: upstream.db.url });
      await client.connect();
      try {
        const upstreamStatus = async () =>
          (await client.query<{ status: string }>("SELECT status FROM tasks WHERE tool = 'slow_compute' AND arguments->>'label' = 'follow-cancel'")).rows[0]
            ?.status;
        const deadline = Date.now() + 10_000;
        while ((await upstreamStatus()) !== 'cancelled' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        assert.equal(await upstreamStatus(), 'cancelled', 'the upstream task was cancelled too');
      } finally {
        await client.end();
      }
    });

    it('a worker that stops hands the task back; the next worker follows on in the same upstream session, the upstream task never cancelled', async () => {
      // One worker with a short grace period, so the stop interrupts the follow.
      await Promise.all(front.workers.map((w) => w.stop()));
      const first = await front.startWorker({ WORKER_SHUTDOWN_GRACE_MS: '300' });
      const taskId = (await call('tools/call', { name: 'l__slow_compute', arguments: { seconds: 6, label: 'handover' } }))['taskId'] as string;
      await waitForTask(get(taskId), (t) => /running/.test(String(t['statusMessage'] ?? '')));
      await first.stop();
      const client = new pg.Client({ connectionString: upstream.db.url });
      await client.connect();
      try {
        const upstreamStatus = async () =>
          (await client.query<{ status: string }>("SELECT status FROM tasks WHERE arguments->>'label' = 'handover'")).rows[0]?.status;
        assert.equal(await upstreamStatus(), 'working', 'the stopping worker left the upstream task running');
        assert.equal((await call('tasks/get', { taskId }))['status'], 'working');
        await front.startWorker();
        const done = await waitForTask(get(taskId));
        assert.equal(done['status'], 'completed', JSON.stringify(done));
        assert.equal(text(done), 'computed handover after 6s');
        assert.equal(await upstreamStatus(), 'completed');
      } finally {
        await client.end();
      }
    });
  });
});
