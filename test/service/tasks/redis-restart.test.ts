/**
 * Redis restarted while tasks are queued: the test runs its own `redis-server` (appendonly, in a temp
 * dir, so the queue survives the restart), a gateway and a worker child on it. Tasks accepted before and
 * after the restart all complete; the worker reconnects on its own.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../service/src/local/free-port.js';
import { createTaskEnv, modernCall, waitForTask, type TaskEnv } from './support.js';

async function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const deadline = Date.now() + 10_000;
  while (!/Ready to accept connections/.test(out)) {
    if (Date.now() > deadline) throw new Error(`redis-server did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}

describe('tasks across a Redis restart', function () {
  this.timeout(120_000);
  let env: TaskEnv;
  let redis: ChildProcess | undefined;
  let dir: string;
  let port: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'umcp-redis-restart-'));
    port = await freePort();
    redis = await startRedis(port, dir);
    env = await createTaskEnv({ REDIS_URL: `redis://127.0.0.1:${port}`, WORKER_CONCURRENCY: '2' });
  });
  after(async () => {
    await env?.cleanup();
    if (redis && redis.exitCode === null) {
      redis.kill('SIGKILL');
      await once(redis, 'exit');
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('workers reconnect and no accepted task is lost', async () => {
    const gw = await env.startGateway();
    const tenant = await env.tenant('acme');
    await env.startWorker({ LOG_LEVEL: process.env['TASK_TEST_LOG_LEVEL'] ?? 'silent' });
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const created = await modernCall(gw.mcpUrl, tenant.key, 'tools/call', { name: 'diagnostics.sleep', arguments: { ms: 400 } });
      ids.push(created['taskId'] as string);
    }
    // Restart while most of them still wait in the queue.
    redis!.kill('SIGTERM');
    await once(redis!, 'exit');
    await new Promise((r) => setTimeout(r, 1_000));
    redis = await startRedis(port, dir);
    // Accepted after the restart too (the gateway's connections come back on their own).
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        const created = await modernCall(gw.mcpUrl, tenant.key, 'tools/call', { name: 'diagnostics.sleep', arguments: { ms: 50 } });
        ids.push(created['taskId'] as string);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    for (const taskId of ids) {
      const done = await waitForTask(() => modernCall(gw.mcpUrl, tenant.key, 'tasks/get', { taskId }), undefined, 30_000).catch((err: Error) => {
        throw new Error(
          `${err.message}\nworker output:\n${env.workers
            .map((w) => w.output())
            .join('\n---\n')
            .slice(-4000)}`,
        );
      });
      assert.equal(done['status'], 'completed', `task ${taskId}`);
    }
    assert.equal(ids.length, 9);
  });
});
