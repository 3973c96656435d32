/**
 * The task queue port on every backend (issue 19), with real brokers and real worker child processes:
 * BullMQ (test Redis), RabbitMQ (the machine's broker in a vhost of its own, else an own rabbitmq-server)
 * and SQS (fauxqs, an SQS-protocol server from npm). For each: a worker SIGKILLed mid-job -> the job runs
 * again and the task completes once; an always-failing job lands in the DLQ with its history and a replay
 * completes it under the same task id; a wiped queue -> `tasks redrive` completes every unfinished task
 * exactly once (twice redriven: the duplicate takes effect once). A broker restarted with tasks queued
 * loses nothing accepted (RabbitMQ: own rabbitmq-server; SQS: fauxqs persisted to disk, where it refuses visibility changes; BullMQ: see
 * redis-restart.test.ts). A backend whose broker is missing prints one skip line saying why.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { METRICS } from '../../../contract/index.js';
import type { Gateway } from '../../../service/src/app.js';
import { anyRabbit, fauxqs, ownRabbit, type Broker, type Unavailable } from '../../support/brokers.js';
import { testServiceUrls } from '../../support/platform-db.js';
import { createTaskEnv, modernCall, waitForTask, type TaskEnv } from './support.js';

/** `npm run admin -- <args>` as a child process (async: the gateway under test runs in this process). */
async function cli(gw: Gateway, token: string, args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'service/src/cli/main.ts', ...args], {
    env: { ...process.env, ADMIN_URL: gw.url, ADMIN_TOKEN: token },
    encoding: 'utf8',
  });
  return stdout;
}

async function rows(env: TaskEnv, ids: string[]): Promise<{ id: string; status: string; runs: number }[]> {
  const db = new pg.Client({ connectionString: env.db.url });
  await db.connect();
  try {
    return (await db.query('SELECT id, status, runs FROM tasks WHERE id = ANY($1) ORDER BY id', [ids])).rows;
  } finally {
    await db.end();
  }
}

/** Deletes the BullMQ queue's keys (a lost Redis, as far as the queue goes). */
async function wipeBullmq(prefix: string): Promise<void> {
  const redis = new Redis(testServiceUrls().redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:umcp-tasks:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

type Backend = 'bullmq' | 'rabbitmq' | 'sqs';
const brokerOf: Record<Backend, () => Promise<Broker | Unavailable | undefined>> = {
  bullmq: async () => undefined,
  rabbitmq: anyRabbit,
  sqs: () => fauxqs(),
};

/** Applies the broker's env to this process too (the in-process gateway's AWS SDK reads credentials from it). */
function useProcessEnv(env: Record<string, string>): () => void {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env)) if (k.startsWith('AWS_')) process.env[k] = v;
  return () => {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  };
}

for (const backend of ['bullmq', 'rabbitmq', 'sqs'] as const) {
  describe(`task queue backend: ${backend}`, function () {
    this.timeout(180_000);
    let broker: Broker | undefined;
    let restore = () => undefined as void;
    let env: TaskEnv;
    let gw: Gateway;
    let tenant: { id: string; key: string };
    const call = (method: string, params: Record<string, unknown>) => modernCall(gw.mcpUrl, tenant.key, method, params);
    const task = (taskId: string, timeoutMs = 40_000) => waitForTask(() => call('tasks/get', { taskId }), undefined, timeoutMs);

    before(async function () {
      const got = await brokerOf[backend]();
      if (got && 'skipped' in got) {
        console.log(`      skipped: the ${backend} backend tests (${got.skipped})`);
        this.skip();
      }
      broker = got;
      restore = useProcessEnv(broker?.env ?? {});
      env = await createTaskEnv({ TASK_MAX_ATTEMPTS: '3', ...broker?.env });
      gw = await env.startGateway();
      tenant = await env.tenant('acme');
    });
    after(async () => {
      try {
        await env?.cleanup();
      } finally {
        await broker?.stop();
        restore();
      }
    });
    afterEach(async () => {
      await Promise.allSettled(env?.workers.splice(0).map((w) => w.kill()) ?? []);
    });

    it('a worker SIGKILLed mid-job: the job runs again and the task completes once', async () => {
      const first = await env.startWorker();
      const created = await call('tools/call', { name: 'diagnostics.sleep', arguments: { ms: 2_500 } });
      const taskId = created['taskId'] as string;
      await waitForTask(
        () => call('tasks/get', { taskId }),
        (t) => /running/.test(String(t['statusMessage'] ?? '')),
      );
      await first.kill();
      await env.startWorker();
      assert.equal((await task(taskId))['status'], 'completed');
      const [row] = await rows(env, [taskId]);
      assert.equal(row!.runs, 2, 'started by the killed worker and once more by the second');
    });

    it('an always-failing job lands in the DLQ with its history; a replay completes it under the same task id', async () => {
      // The "cause": a per-attempt timeout shorter than the work; fixed by a worker with a sane timeout.
      await env.startWorker({ TASK_JOB_TIMEOUT_MS: '300' });
      const taskId = (await call('tools/call', { name: 'diagnostics.sleep', arguments: { ms: 1_000 } }))['taskId'] as string;
      const failed = await task(taskId);
      assert.equal(failed['status'], 'failed');
      assert.match(await cli(gw, env.adminToken, ['dlq', 'list']), new RegExp(`${taskId}\tdiagnostics.sleep\t3 attempts`));
      const shown = await cli(gw, env.adminToken, ['dlq', 'show', taskId]);
      for (const n of [1, 2, 3]) assert.match(shown, new RegExp(`attempt ${n}: attempt timed out`));
      const metrics = await (await fetch(`${gw.url}/metrics`)).text();
      for (const name of [METRICS.queueWaiting, METRICS.queueActive, METRICS.queueDelayed, METRICS.queueOldestWaitingAge, METRICS.dlqSize])
        assert.match(metrics, new RegExp(`^${name}\\{`, 'm'), name);
      assert.match(metrics, new RegExp(`^${METRICS.dlqSize}\\{[^}]*\\} [1-9]`, 'm'), 'the DLQ gauge counts the letter');

      await Promise.allSettled(env.workers.splice(0).map((w) => w.kill()));
      await env.startWorker({ TASK_JOB_TIMEOUT_MS: '60000' });
      assert.match(await cli(gw, env.adminToken, ['dlq', 'replay', taskId]), new RegExp(`replayed 1: ${taskId}`));
      const done = await task(taskId);
      assert.equal(done['status'], 'completed');
      assert.equal(done['taskId'], taskId);
      assert.match(await cli(gw, env.adminToken, ['dlq', 'list']), /dead-letter queue is empty/);
    });

    it('the queue wiped: tasks redrive completes every unfinished task exactly once (a second redrive takes no second effect)', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push((await call('tools/call', { name: 'diagnostics.sleep', arguments: { ms: 300 } }))['taskId'] as string);
      if (broker) await broker.wipe(env.env['TASK_QUEUE_PREFIX']!);
      else await wipeBullmq(env.env['TASK_QUEUE_PREFIX']!);
      const first = await cli(gw, env.adminToken, ['tasks', 'redrive', '--older-than', '0s']);
      assert.match(first, /^redriven 4: /m);
      for (const id of ids) assert.ok(first.includes(id), `${id} redriven`);
      const second = await cli(gw, env.adminToken, ['tasks', 'redrive', '--older-than', '0s', '--json']);
      const again = JSON.parse(second) as { redriven: string[]; skipped: number };
      // BullMQ looks the job up by id (all four are queued again); the others enqueue a duplicate each.
      if (backend === 'bullmq') assert.deepEqual(again, { redriven: [], skipped: 4 });
      else assert.equal(again.redriven.length, 4);
      await env.startWorker();
      await env.startWorker();
      for (const id of ids) assert.equal((await task(id))['status'], 'completed');
      // Duplicates still queued are dropped once their task is terminal: give them time to be taken.
      await new Promise((r) => setTimeout(r, 3_000));
      for (const row of await rows(env, ids)) assert.deepEqual({ status: row.status, runs: row.runs }, { status: 'completed', runs: 1 }, row.id);
    });

    it('tasks redrive --region that selects nothing says so and names the regions that have unfinished tasks', async () => {
      const id = (await call('tools/call', { name: 'diagnostics.sleep', arguments: { ms: 3_000 } }))['taskId'] as string;
      const [row] = await rows(env, [id]);
      assert.ok(row, 'task recorded');
      const out = await cli(gw, env.adminToken, ['tasks', 'redrive', '--region', 'no-such-region', '--older-than', '0s']);
      assert.match(out, /^redriven 0 \(skipped 0: still queued or running\)$/m);
      assert.match(out, /^no unfinished task was accepted in region no-such-region; unfinished tasks were accepted in: \S.* \(is the region name right\?\)$/m);
      const json = JSON.parse(await cli(gw, env.adminToken, ['tasks', 'redrive', '--region', 'no-such-region', '--json'])) as {
        regionsWithUnfinished?: string[];
      };
      assert.ok(json.regionsWithUnfinished?.length, JSON.stringify(json));
    });

    it('tasks redrive refuses a bad --older-than with a usage error', async () => {
      await assert.rejects(cli(gw, env.adminToken, ['tasks', 'redrive', '--older-than', 'soon']), /--older-than: expected a duration/);
      const res = await fetch(`${gw.url}/admin/v1/tasks/redrive`, {
        method: 'POST',
        headers: { authorization: `Bearer ${env.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ olderThan: 'soon' }),
      });
      assert.equal(res.status, 400);
      assert.match(JSON.stringify(await res.json()), /olderThan: expected a duration/);
    });
  });
}

for (const backend of ['rabbitmq', 'sqs'] as const) {
  describe(`task queue backend: ${backend} broker restarted with tasks queued`, function () {
    this.timeout(240_000);
    let broker: Broker | undefined;
    let restore = () => undefined as void;
    let env: TaskEnv | undefined;

    before(async function () {
      // A broker this test may restart: never the machine's shared one.
      const got = backend === 'rabbitmq' ? await ownRabbit() : await fauxqs({ persist: true });
      if ('skipped' in got) {
        console.log(`      skipped: the ${backend} broker restart test (${got.skipped})`);
        this.skip();
      }
      broker = got;
      restore = useProcessEnv(broker.env);
    });
    after(async () => {
      try {
        await env?.cleanup();
      } finally {
        await broker?.stop();
        restore();
      }
    });

    it('nothing accepted is lost: every task queued before and after the restart completes once', async () => {
      env = await createTaskEnv({ WORKER_CONCURRENCY: '2', ...broker!.env });
      const gw = await env.startGateway();
      const tenant = await env.tenant('acme');
      const call = (method: string, params: Record<string, unknown>) => modernCall(gw.mcpUrl, tenant.key, method, params);
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push((await call('tools/call', { name: 'diagnostics.sleep', arguments: { ms: 50 } }))['taskId'] as string);
      await broker!.restart!();
      // The gateway's producer reconnects on its own.
      for (let i = 0; i < 2; i++) ids.push((await call('tools/call', { name: 'diagnostics.sleep', arguments: { ms: 50 } }))['taskId'] as string);
      await env.startWorker();
      for (const taskId of ids) assert.equal((await waitForTask(() => call('tasks/get', { taskId }), undefined, 60_000))['status'], 'completed');
      for (const row of await rows(env, ids)) assert.equal(row.runs, 1, row.id);
    });
  });
}
