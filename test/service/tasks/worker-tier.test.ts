/**
 * The worker tier with real child processes: a worker SIGKILLed mid-job (stalled-job recovery by
 * another worker, completed exactly once), retries with backoff then the DLQ with the error history,
 * `dlq replay` after the cause is fixed (same task id completes), graceful shutdown, /metrics.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { METRICS } from '../../../contract/index.js';
import type { Gateway } from '../../../service/src/app.js';
import { createTaskEnv, modernCall, waitForTask, type TaskEnv } from './support.js';

async function admin(gw: Gateway, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${gw.url}/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** `npm run admin -- <args>` as a child process. */
async function cli(gw: Gateway, token: string, args: string[]): Promise<string> {
  // Async: the gateway under test runs in this process and must keep answering.
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'service/src/cli/main.ts', ...args], {
    env: { ...process.env, ADMIN_URL: gw.url, ADMIN_TOKEN: token },
    encoding: 'utf8',
  });
  return stdout;
}

describe('task worker tier (child processes)', function () {
  this.timeout(120_000);
  let env: TaskEnv;
  let gw: Gateway;
  let tenant: { id: string; key: string };

  before(async () => {
    env = await createTaskEnv({ TASK_MAX_ATTEMPTS: '3' });
    gw = await env.startGateway();
    tenant = await env.tenant('acme');
  });
  after(async () => env?.cleanup());
  afterEach(async () => {
    await Promise.allSettled(env.workers.splice(0).map((w) => w.kill()));
  });

  it('a worker SIGKILLed mid-job: another worker recovers the stalled job and the task completes exactly once', async () => {
    const first = await env.startWorker();
    const created = await modernCall(gw.mcpUrl, tenant.key, 'tools/call', { name: 'diagnostics.sleep', arguments: { ms: 2_500 } });
    const taskId = created['taskId'] as string;
    await waitForTask(
      () => modernCall(gw.mcpUrl, tenant.key, 'tasks/get', { taskId }),
      (t) => /running/.test(String(t['statusMessage'] ?? '')),
    );
    await first.kill();
    await env.startWorker();
    const done = await waitForTask(() => modernCall(gw.mcpUrl, tenant.key, 'tasks/get', { taskId }), undefined, 40_000);
    assert.equal(done['status'], 'completed');
    const db = new pg.Client({ connectionString: env.db.url });
    await db.connect();
    try {
      const { rows } = await db.query('SELECT runs, version, completed_at FROM tasks WHERE id = $1', [taskId]);
      assert.equal(rows[0].runs, 2, 'started by the killed worker and once more by the second');
      assert.ok(rows[0].completed_at);
    } finally {
      await db.end();
    }
  });

  it('retries with backoff, parks the job in the DLQ with its error history, and a replay after the fix completes the same task id', async () => {
    // The "cause": a per-attempt timeout shorter than the work. Fixed by a worker with a sane timeout.
    await env.startWorker({ TASK_JOB_TIMEOUT_MS: '300' });
    const created = await modernCall(gw.mcpUrl, tenant.key, 'tools/call', { name: 'diagnostics.sleep', arguments: { ms: 1_000 } });
    const taskId = created['taskId'] as string;
    const failed = await waitForTask(() => modernCall(gw.mcpUrl, tenant.key, 'tasks/get', { taskId }), undefined, 30_000);
    assert.equal(failed['status'], 'failed');
    assert.match(String((failed['error'] as { message: string }).message), /timed out/);
    const list = await admin(gw, env.adminToken, 'GET', '/dlq');
    const letter = (list.json['deadLetters'] as { taskId: string; errors: unknown[] }[]).find((d) => d.taskId === taskId);
    assert.ok(letter, 'the exhausted job is in the DLQ');
    assert.equal(letter.errors.length, 3, 'one error per attempt');
    const shown = await admin(gw, env.adminToken, 'GET', `/dlq/${taskId}`);
    assert.equal(shown.status, 200);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, new RegExp(`^${METRICS.dlqSize}\\{[^}]*\\} [1-9]`, 'm'));

    await Promise.allSettled(env.workers.splice(0).map((w) => w.kill()));
    await env.startWorker({ TASK_JOB_TIMEOUT_MS: '60000' });
    const shownCli = await cli(gw, env.adminToken, ['dlq', 'show', taskId]);
    assert.match(shownCli, /attempt 3: attempt timed out/);
    assert.match(await cli(gw, env.adminToken, ['dlq', 'replay', taskId]), new RegExp(`replayed 1: ${taskId}`));
    const done = await waitForTask(() => modernCall(gw.mcpUrl, tenant.key, 'tasks/get', { taskId }), undefined, 30_000);
    assert.equal(done['status'], 'completed');
    assert.equal(done['taskId'], taskId);
    assert.equal((await admin(gw, env.adminToken, 'GET', `/dlq/${taskId}`)).status, 404);
  });

  it('a tool error retried by policy (diagnostics.fail) ends in the DLQ; dlq list/purge by filter through the CLI', async () => {
    await env.startWorker();
    const created = await modernCall(gw.mcpUrl, tenant.key, 'tools/call', { name: 'diagnostics.fail', arguments: { message: 'boom' } });
    const taskId = created['taskId'] as string;
    const failed = await waitForTask(() => modernCall(gw.mcpUrl, tenant.key, 'tasks/get', { taskId }), undefined, 30_000);
    assert.equal(failed['status'], 'failed');
    assert.equal((failed['error'] as { message: string }).message, 'boom');
    const listed = await cli(gw, env.adminToken, ['dlq', 'list', '--tool', 'diagnostics.fail']);
    assert.match(listed, new RegExp(`${taskId}\tdiagnostics.fail\t3 attempts`));
    assert.match(await cli(gw, env.adminToken, ['dlq', 'purge', '--tool', 'diagnostics.fail']), /purged 1/);
    assert.match(await cli(gw, env.adminToken, ['dlq', 'list', '--tool', 'diagnostics.fail']), /dead-letter queue is empty/);
  });

  it('graceful shutdown (SIGTERM) lets the running job finish, then exits 0', async () => {
    const w = await env.startWorker();
    const created = await modernCall(gw.mcpUrl, tenant.key, 'tools/call', { name: 'diagnostics.sleep', arguments: { ms: 1_500 } });
    const taskId = created['taskId'] as string;
    await waitForTask(
      () => modernCall(gw.mcpUrl, tenant.key, 'tasks/get', { taskId }),
      (t) => /running/.test(String(t['statusMessage'] ?? '')),
    );
    const code = await w.stop();
    assert.equal(code, 0);
    assert.equal((await modernCall(gw.mcpUrl, tenant.key, 'tasks/get', { taskId }))['status'], 'completed');
  });

  it('graceful shutdown past its grace period returns the running job to the queue without using an attempt', async () => {
    const w = await env.startWorker({ WORKER_SHUTDOWN_GRACE_MS: '300' });
    const created = await modernCall(gw.mcpUrl, tenant.key, 'tools/call', { name: 'diagnostics.sleep', arguments: { ms: 4_000 } });
    const taskId = created['taskId'] as string;
    await waitForTask(
      () => modernCall(gw.mcpUrl, tenant.key, 'tasks/get', { taskId }),
      (t) => /running/.test(String(t['statusMessage'] ?? '')),
    );
    const stopped = Date.now();
    assert.equal(await w.stop(), 0);
    assert.ok(Date.now() - stopped < 3_500, 'did not wait for the job to finish');
    assert.equal((await modernCall(gw.mcpUrl, tenant.key, 'tasks/get', { taskId }))['status'], 'working');
    await env.startWorker();
    const done = await waitForTask(() => modernCall(gw.mcpUrl, tenant.key, 'tasks/get', { taskId }), undefined, 30_000);
    assert.equal(done['status'], 'completed');
    const db = new pg.Client({ connectionString: env.db.url });
    await db.connect();
    try {
      const { rows } = await db.query('SELECT runs, error_history FROM tasks WHERE id = $1', [taskId]);
      assert.equal(rows[0].runs, 2);
      assert.deepEqual(rows[0].error_history, [], 'the interrupted run is not a failed attempt');
    } finally {
      await db.end();
    }
  });

  it('/metrics reports queue depth, oldest waiting age, DLQ size, job durations and retries', async () => {
    // No worker: the job waits.
    await modernCall(gw.mcpUrl, tenant.key, 'tools/call', { name: 'diagnostics.sleep', arguments: { ms: 10 } });
    await new Promise((r) => setTimeout(r, 1_100));
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    for (const name of [METRICS.queueWaiting, METRICS.queueActive, METRICS.queueDelayed, METRICS.queueOldestWaitingAge, METRICS.dlqSize])
      assert.match(text, new RegExp(`^${name}\\{`, 'm'), name);
    assert.match(text, new RegExp(`^${METRICS.queueWaiting}\\{[^}]*\\} [1-9]`, 'm'));
    assert.match(text, new RegExp(`^${METRICS.queueOldestWaitingAge}\\{[^}]*\\} [1-9]`, 'm'));
    const w = await env.startWorker();
    await new Promise((r) => setTimeout(r, 1_500));
    const port = /metrics=(\d+)/.exec(w.output())![1];
    const wm = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(wm, new RegExp(`^${METRICS.jobDuration}_count\\{[^}]*outcome="completed"[^}]*\\} [1-9]`, 'm'));
    assert.match(wm, new RegExp(`^# TYPE ${METRICS.jobRetries} counter`, 'm'));
  });
});
