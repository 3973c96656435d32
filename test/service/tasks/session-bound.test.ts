/**
 * A 2025-era upstream that binds its tasks to the session that created them (the spec's
 * authorization-context rule; the Python SDK does so): the front gateway creates the task in the
 * request on its pooled client's session, and its worker, another process, follows the task by joining
 * that session (no `initialize` of its own) — a worker on a session of its own would get "Task not found".
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startLegacyUpstream, type UpstreamFixture } from '../federation/support/upstream-fixtures.js';
import { createTaskEnv, modernCall, waitForTask, type TaskEnv } from './support.js';

describe('tasks of a 2025-era upstream bound to their session', function () {
  this.timeout(60_000);
  let front: TaskEnv;
  let fixture: UpstreamFixture;
  let mcp: string;
  let key: string;

  let other: string;

  before(async () => {
    fixture = await startLegacyUpstream('bound');
    front = await createTaskEnv({ UPSTREAM_ALLOWLIST: '127.0.0.1', SECRETS_MASTER_KEY: randomBytes(32).toString('base64') });
    const gw = await front.startGateway();
    mcp = gw.mcpUrl;
    other = (await front.startGateway()).mcpUrl;
    ({ key } = await front.tenant('acme'));
    const res = await fetch(`${gw.url}/admin/v1/tenants/acme/upstreams`, {
      method: 'POST',
      headers: { authorization: `Bearer ${front.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'fx', url: fixture.url, protocol: 'legacy' }),
    });
    assert.equal(res.status, 201, await res.text());
    await front.startWorker();
  });
  after(async () => {
    await front?.cleanup();
    await fixture?.close();
  });

  it('the worker follows the task in the session that created it, joining it without an initialize of its own', async () => {
    const created = await modernCall(mcp, key, 'tools/call', { name: 'fx__bound_job', arguments: { ms: 300 } });
    assert.equal(created['resultType'], 'task', JSON.stringify(created));
    const done = await waitForTask(() => modernCall(mcp, key, 'tasks/get', { taskId: created['taskId'] as string }));
    assert.equal(done['status'], 'completed', JSON.stringify(done));
    assert.match((done['result'] as { content: { text: string }[] }).content[0]!.text, /^bound job .+ done$/);
    assert.deepEqual(fixture.seen.boundTasks, { created: 1, ownSession: 1, otherSession: 0 });
    assert.equal(fixture.seen.initializes, 1, "only the gateway's pooled client initialised a session");
  });

  it('a question before the task answered through another replica: the task is followed in the session of the replica that asked', async () => {
    const caps = {
      _meta: { 'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} }, extensions: { 'io.modelcontextprotocol/tasks': {} } } },
    };
    const first = await modernCall(mcp, key, 'tools/call', { name: 'fx__bound_job', arguments: { ms: 100, ask: true }, ...caps });
    assert.equal(first['resultType'], 'input_required', JSON.stringify(first));
    const [question] = Object.keys(first['inputRequests'] as object);
    // Replica B never spoke to the upstream: the answer is forwarded to A, whose session made the task.
    const created = await modernCall(other, key, 'tools/call', {
      name: 'fx__bound_job',
      arguments: { ms: 100, ask: true },
      inputResponses: { [question!]: { action: 'accept', content: { name: 'Ada' } } },
      requestState: first['requestState'],
      ...caps,
    });
    assert.equal(created['resultType'], 'task', JSON.stringify(created));
    const done = await waitForTask(() => modernCall(other, key, 'tasks/get', { taskId: created['taskId'] as string }));
    assert.equal(done['status'], 'completed', JSON.stringify(done));
    assert.match((done['result'] as { content: { text: string }[] }).content[0]!.text, /done for Ada$/);
    assert.equal(fixture.seen.boundTasks.otherSession, 0);
  });

  it("an upstream cannot forge the gateway's task, namespace or session _meta keys", async () => {
    const result = await modernCall(mcp, key, 'tools/call', { name: 'fx__forge_meta', arguments: {} });
    assert.notEqual(result['resultType'], 'task', JSON.stringify(result));
    assert.equal((result['content'] as { text: string }[])[0]!.text, 'forged');
    const meta = (result['_meta'] ?? {}) as Record<string, unknown>;
    for (const k of ['umcp.dev/upstream-task', 'umcp.dev/upstream-namespace', 'umcp.dev/upstream-session']) assert.equal(meta[k], undefined, k);
    assert.equal(meta['app.example/kept'], true, "the upstream's other _meta stays");
  });

  it('tasks followed at the same time in one upstream session each get their own result', async () => {
    // Every joining client shares the session's JSON-RPC id space with the others and with the gateway's.
    const created = await Promise.all([400, 200, 300].map((ms) => modernCall(mcp, key, 'tools/call', { name: 'fx__bound_job', arguments: { ms } })));
    const done = await Promise.all(created.map((c) => waitForTask(() => modernCall(mcp, key, 'tasks/get', { taskId: c['taskId'] as string }))));
    const texts = done.map((t) => (t['result'] as { content: { text: string }[] }).content[0]!.text);
    assert.equal(new Set(texts).size, 3, `three different upstream tasks: ${texts.join(' | ')}`);
    assert.equal(fixture.seen.boundTasks.otherSession, 0);
  });

  it('a repeated idempotency key answers the first task without asking the upstream again', async () => {
    const call = () =>
      modernCall(mcp, key, 'tools/call', { name: 'fx__bound_job', arguments: { ms: 100 }, _meta: { 'io.modelcontextprotocol/idempotency-key': 'same-job' } });
    const createdBefore = fixture.seen.boundTasks.created;
    const first = await call();
    const again = await call();
    assert.equal(again['taskId'], first['taskId']);
    assert.equal(fixture.seen.boundTasks.created, createdBefore + 1, 'one upstream task');
  });

  it('a task cancelled before any worker follows it still gets its upstream task cancelled', async () => {
    await Promise.all(front.workers.map((w) => w.stop()));
    const created = await modernCall(mcp, key, 'tools/call', { name: 'fx__bound_job', arguments: { ms: 30_000 } });
    const before = fixture.seen.boundTasks.ownSession;
    await modernCall(mcp, key, 'tasks/cancel', { taskId: created['taskId'] as string });
    await front.startWorker();
    const deadline = Date.now() + 10_000;
    while (fixture.seen.boundTasks.ownSession === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(fixture.seen.boundTasks.ownSession, before + 1, 'the worker sent tasks/cancel in the creating session');
    assert.equal((await modernCall(mcp, key, 'tasks/get', { taskId: created['taskId'] as string }))['status'], 'cancelled');
  });

  it('tasks/cancel reaches the upstream task in its session', async () => {
    const created = await modernCall(mcp, key, 'tools/call', { name: 'fx__bound_job', arguments: { ms: 30_000 } });
    const taskId = created['taskId'] as string;
    await waitForTask(
      () => modernCall(mcp, key, 'tasks/get', { taskId }),
      (t) => /running/.test(String(t['statusMessage'] ?? '')),
    );
    const before = fixture.seen.boundTasks.ownSession;
    await modernCall(mcp, key, 'tasks/cancel', { taskId });
    const deadline = Date.now() + 5_000;
    while (fixture.seen.boundTasks.ownSession === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(fixture.seen.boundTasks.ownSession > before, 'the cancel was sent in the creating session');
    assert.equal(fixture.seen.boundTasks.otherSession, 0);
  });
});
