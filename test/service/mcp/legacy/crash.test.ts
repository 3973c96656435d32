/**
 * A replica dies (SIGKILL, a child process) while running a call: the client resuming on the surviving
 * replica gets a JSON-RPC error for that request within seconds (the dead replica's lease lapsed), never an
 * endless wait.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { LOST_CALL_ERROR } from '../../../../service/src/mcp/legacy/index.js';
import { bearer, startReplica, TEST_CONFIG, type TestReplica } from './support/replica.js';
import { SseReader, initialize, post, toolCall } from './support/http.js';
import { REDIS_URL, cleanPrefix } from './support/redis.js';

const AUTH = bearer('acme');

function startChild(prefix: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/service/mcp/legacy/support/replica-main.ts'], {
    env: { ...process.env, REDIS_URL, KEY_PREFIX: prefix, REPLICA_ID: 'doomed' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('child replica did not start')), 20_000);
    child.once('exit', (code) => reject(new Error(`child replica exited early (${code})`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /^READY (\S+)$/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]! });
      }
    });
  });
}

describe('legacy sessions: a replica dies mid-call', function () {
  this.timeout(60_000);
  let redis: Redis;
  let prefix: string;
  let survivor: TestReplica;
  let child: ChildProcess | undefined;

  beforeEach(async () => {
    prefix = `umcp-test:${randomUUID()}:`;
    redis = new Redis(REDIS_URL);
    survivor = await startReplica({ redisUrl: REDIS_URL, keyPrefix: prefix, replicaId: 'survivor' });
  });

  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await survivor.stop();
    await cleanPrefix(redis, prefix);
    redis.disconnect();
  });

  it('fails the lost request on resume elsewhere within seconds', async () => {
    const started = await startChild(prefix);
    child = started.child;
    const sid = await initialize(started.url);
    const reader = new SseReader(await post(started.url, AUTH, sid, toolCall(42, 'stream', { count: 100, intervalMs: 200 }, 'p')));
    let last = await reader.next();
    while (last?.message?.method !== 'notifications/progress') last = await reader.next();
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    await reader.drop();

    const t0 = Date.now();
    const resumed = await fetch(survivor.url, {
      headers: { Authorization: AUTH, Accept: 'text/event-stream', 'Mcp-Session-Id': sid, 'Last-Event-ID': last.id! },
    });
    assert.equal(resumed.status, 200);
    const rest = await new SseReader(resumed).rest(15_000);
    const elapsed = Date.now() - t0;
    const final = rest.at(-1)?.message;
    assert.equal(final?.id, 42);
    assert.deepEqual(final?.error, { code: LOST_CALL_ERROR.code, message: LOST_CALL_ERROR.message });
    assert.ok(elapsed < TEST_CONFIG.CALL_LEASE_MS + 3000, `error after ${elapsed} ms`);
    // A second resume (any replica) replays the same single error: it was logged once.
    const again = await new SseReader(
      await fetch(survivor.url, { headers: { Authorization: AUTH, Accept: 'text/event-stream', 'Mcp-Session-Id': sid, 'Last-Event-ID': last.id! } }),
    ).rest();
    assert.equal(again.filter((e) => e.message?.id === 42).length, 1);
    // The session itself lives on: the survivor serves the next call.
    const next = await new SseReader(await post(survivor.url, AUTH, sid, toolCall(43, 'echo', { text: 'still here' }))).rest();
    assert.deepEqual(next.at(-1)?.message?.result?.content, [{ type: 'text', text: 'still here' }]);
  });
});
