/**
 * createStatusSnapshot: the /status.json document from the readiness checks and the queue hook, its
 * single-flight cache window, failures and timeouts, and draining. No services needed (checks are fakes
 * that count their calls).
 */
import assert from 'node:assert/strict';
import { createStatusSnapshot, type StatusSnapshotOptions } from '../../../service/src/http/status/status-snapshot.js';

/** A readiness check that counts calls and answers `result` (or rejects when it is an Error). */
function countingCheck(result: Record<string, boolean> | Error = { postgres: true, redis: true, migrations: true }) {
  const check = async () => {
    check.calls++;
    await new Promise((r) => setTimeout(r, 5));
    if (result instanceof Error) throw result;
    return result;
  };
  check.calls = 0;
  return check;
}

const base = (over: Partial<StatusSnapshotOptions> = {}): StatusSnapshotOptions => ({ region: 'r1', version: 'v1', checkReady: countingCheck(), ...over });

describe('createStatusSnapshot', () => {
  describe('document', () => {
    it('is ok when every check passes, with the queue null when nothing reports it', async () => {
      const doc = await createStatusSnapshot(base({ now: () => Date.parse('2026-01-02T03:04:05Z') }))();
      assert.deepEqual(doc, {
        service: 'unified-mcp-platform',
        region: 'r1',
        version: 'v1',
        status: 'ok',
        checks: { postgres: true, redis: true, migrations: true, queue: null },
        queue: null,
        checkedAt: '2026-01-02T03:04:05.000Z',
      });
    });

    it('is degraded when one readiness check fails, and when checkReady itself rejects', async () => {
      const one = await createStatusSnapshot(base({ checkReady: countingCheck({ postgres: true, redis: false, migrations: true }) }))();
      assert.equal(one.status, 'degraded');
      assert.deepEqual(one.checks, { postgres: true, redis: false, migrations: true, queue: null });
      const all = await createStatusSnapshot(base({ checkReady: countingCheck(new Error('pool gone')) }))();
      assert.equal(all.status, 'degraded');
      assert.deepEqual(all.checks, { postgres: false, redis: false, migrations: false, queue: null });
    });

    it('takes the queue from the hook: true, false, rejection and timeout', async () => {
      assert.equal((await createStatusSnapshot(base({ checkQueue: async () => true }))()).checks.queue, true);
      const down = await createStatusSnapshot(base({ checkQueue: async () => false }))();
      assert.deepEqual([down.checks.queue, down.status], [false, 'degraded']);
      assert.equal((await createStatusSnapshot(base({ checkQueue: () => Promise.reject(new Error('x')) }))()).checks.queue, false);
      const started = Date.now();
      const hung = await createStatusSnapshot(base({ checkQueue: () => new Promise<boolean>(() => undefined), queueTimeoutMs: 50 }))();
      assert.equal(hung.checks.queue, false);
      assert.ok(Date.now() - started < 1_000, 'a hanging queue check is cut off');
    });

    it('shows the numbers a queue check returns (queue up), whole and non-negative, nothing else', async () => {
      const stats = { waiting: 3, active: 1, delayed: 2, failed: 0, deadLettered: 4, oldestWaitingSeconds: 12.7, host: 'redis://secret' };
      const doc = await createStatusSnapshot(base({ checkQueue: async () => stats }))();
      assert.deepEqual([doc.checks.queue, doc.status], [true, 'ok']);
      assert.deepEqual(doc.queue, { waiting: 3, active: 1, delayed: 2, failed: 0, deadLettered: 4, oldestWaitingSeconds: 12 });
      const odd = await createStatusSnapshot(base({ checkQueue: async () => ({ ...stats, waiting: -1, active: Number.NaN }) }))();
      assert.deepEqual([odd.queue?.waiting, odd.queue?.active], [0, 0]);
      const down = await createStatusSnapshot(base({ checkQueue: () => Promise.reject(new Error('redis gone')) }))();
      assert.deepEqual([down.checks.queue, down.queue, down.status], [false, null, 'degraded']);
    });

    it('without a hook, uses a `queue` entry of the readiness checks when there is one', async () => {
      const doc = await createStatusSnapshot(base({ checkReady: countingCheck({ postgres: true, redis: true, migrations: true, queue: false }) }))();
      assert.deepEqual([doc.checks.queue, doc.status], [false, 'degraded']);
    });

    it('reports draining at once, even inside a cache window', async () => {
      let draining = false;
      const snapshot = createStatusSnapshot(base({ draining: () => draining, cacheMs: 60_000 }));
      assert.equal((await snapshot()).status, 'ok');
      draining = true;
      assert.equal((await snapshot()).status, 'draining');
    });
  });

  describe('cache window', () => {
    it('runs the checks once for concurrent and repeated calls within cacheMs, again after it', async () => {
      let t = 1_000_000;
      const checkReady = countingCheck();
      let queueCalls = 0;
      const snapshot = createStatusSnapshot(base({ checkReady, checkQueue: async () => (queueCalls++, true), cacheMs: 2_000, now: () => t }));
      const docs = await Promise.all(Array.from({ length: 20 }, () => snapshot()));
      assert.equal(checkReady.calls, 1);
      assert.equal(queueCalls, 1);
      assert.equal(new Set(docs.map((d) => d.checkedAt)).size, 1);
      t += 1_999;
      await snapshot();
      assert.equal(checkReady.calls, 1);
      t += 1;
      const fresh = await snapshot();
      assert.equal(checkReady.calls, 2);
      assert.equal(fresh.checkedAt, new Date(t).toISOString());
    });

    it('cacheMs 0 runs the checks on every call', async () => {
      const checkReady = countingCheck();
      const snapshot = createStatusSnapshot(base({ checkReady, cacheMs: 0 }));
      await snapshot();
      await snapshot();
      assert.equal(checkReady.calls, 2);
    });
  });

  describe('options', () => {
    it('rejects a negative cacheMs and a non-positive queueTimeoutMs, naming the option', () => {
      assert.throws(() => createStatusSnapshot(base({ cacheMs: -1 })), /cacheMs must be >= 0 \(got -1\)/);
      assert.throws(() => createStatusSnapshot(base({ queueTimeoutMs: 0 })), /queueTimeoutMs must be > 0/);
    });
  });
});
