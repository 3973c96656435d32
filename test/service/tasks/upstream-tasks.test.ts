/**
 * Upstream tools listed as `longRunning` in their registration run as tasks on the worker (a child
 * process calling the real upstream): completion, retry across an upstream outage, an upstream's
 * elicitation surfacing as `input_required`, and plain calls for tools not listed.
 */
import assert from 'node:assert/strict';
import { startLegacyUpstream, type UpstreamFixture } from '../federation/support/upstream-fixtures.js';
import { createTaskEnv, modernCall, waitForTask, type TaskEnv } from './support.js';

describe('tasks for upstream longRunning tools', function () {
  this.timeout(90_000);
  let env: TaskEnv;
  let upstream: UpstreamFixture;
  let mcp: string;
  let tenant: { id: string; key: string };

  before(async () => {
    upstream = await startLegacyUpstream('up');
    env = await createTaskEnv({ UPSTREAM_ALLOWLIST: '127.0.0.1', TASK_BACKOFF_MS: '500' });
    const gw = await env.startGateway();
    mcp = gw.mcpUrl;
    tenant = await env.tenant('acme');
    const res = await fetch(`${gw.url}/admin/v1/tenants/acme/upstreams`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'up', url: upstream.url, longRunning: ['slow', 'ask'] }),
    });
    assert.equal(res.status, 201, await res.text());
    // A dropped upstream connection is noticed by the attempt timeout at the latest.
    await env.startWorker({ TASK_JOB_TIMEOUT_MS: '4000' });
  });
  after(async () => {
    await env?.cleanup();
    await upstream?.close();
  });

  it('runs a longRunning upstream tool as a task; other upstream tools stay synchronous', async () => {
    const created = await modernCall(mcp, tenant.key, 'tools/call', { name: 'up__slow', arguments: { ms: 200 } });
    assert.equal(created['resultType'], 'task');
    const done = await waitForTask(() => modernCall(mcp, tenant.key, 'tasks/get', { taskId: created['taskId'] }));
    assert.equal(done['status'], 'completed');
    assert.equal((done['result'] as { content: { text: string }[] }).content[0]!.text, 'slept 200');
    const sync = await modernCall(mcp, tenant.key, 'tools/call', { name: 'up__echo', arguments: { text: 'hi' } });
    assert.equal(sync['resultType'], 'complete');
    assert.equal((sync['content'] as { text: string }[])[0]!.text, 'up:hi');
  });

  it('an upstream outage during the call fails the attempt; the retry after it is back completes the task', async () => {
    const created = await modernCall(mcp, tenant.key, 'tools/call', { name: 'up__slow', arguments: { ms: 1_500 } });
    const taskId = created['taskId'] as string;
    await waitForTask(
      () => modernCall(mcp, tenant.key, 'tasks/get', { taskId }),
      (t) => /running/.test(String(t['statusMessage'] ?? '')),
    );
    await new Promise((r) => setTimeout(r, 300));
    await upstream.close();
    try {
      await waitForTask(
        () => modernCall(mcp, tenant.key, 'tasks/get', { taskId }),
        (t) => /retrying/.test(String(t['statusMessage'] ?? '')),
        20_000,
      );
    } finally {
      await upstream.restart();
    }
    const done = await waitForTask(() => modernCall(mcp, tenant.key, 'tasks/get', { taskId }), undefined, 40_000);
    assert.equal(done['status'], 'completed', JSON.stringify(done));
  });

  it("an upstream's elicitation parks the task in input_required until tasks/update answers it", async () => {
    const created = await modernCall(mcp, tenant.key, 'tools/call', { name: 'up__ask', arguments: {} });
    const taskId = created['taskId'] as string;
    const waiting = await waitForTask(
      () => modernCall(mcp, tenant.key, 'tasks/get', { taskId }),
      (t) => t['status'] === 'input_required',
    );
    const keys = Object.keys(waiting['inputRequests'] as object);
    assert.equal(keys.length, 1);
    await modernCall(mcp, tenant.key, 'tasks/update', { taskId, inputResponses: { [keys[0]!]: { action: 'accept', content: { name: 'Ada' } } } });
    const done = await waitForTask(() => modernCall(mcp, tenant.key, 'tasks/get', { taskId }));
    assert.equal((done['result'] as { content: { text: string }[] }).content[0]!.text, 'hello Ada');
  });
});
