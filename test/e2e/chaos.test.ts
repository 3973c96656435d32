/**
 * Short chaos run inside the test command: the real local cluster (nginx, 3 gateway processes, 2 workers,
 * own Redis, PostgreSQL primary + replica, fixture upstream) and a 150-call mixed workload spread over
 * 25 s while every fault of test/e2e/chaos/faults.ts is injected. `npm run chaos` is the 1,000-call version.
 * Asserts outcomes only (nothing lost, only retryable errors), never timings.
 */
import assert from 'node:assert/strict';
import { startLocalCluster, type LocalCluster } from '../../service/src/local/cluster/local-cluster.js';
import { CHAOS_ENV, runChaos, summarize, type ChaosReport } from './chaos/run-chaos.js';

describe('chaos (short): faults under a mixed workload through nginx', function () {
  this.timeout(240_000);
  let cluster: LocalCluster | undefined;
  let report: ChaosReport;

  before(async () => {
    cluster = await startLocalCluster({ replicas: 3, workers: 2, env: CHAOS_ENV, log: () => undefined });
    report = await runChaos(cluster, { calls: 150, concurrency: 6, deadlineMs: 150_000, paceMs: 25_000, log: () => undefined });
    process.stderr.write(
      `${summarize(report)
        .map((l) => `      ${l}`)
        .join('\n')}\n`,
    );
  });
  after(async () => cluster?.stop());

  it('injected every fault', () => {
    assert.deepEqual(
      report.faults.map((f) => f.fault),
      ['SIGKILL gateway replica', 'SIGKILL worker mid-job', 'restart Redis', 'restart PostgreSQL primary', 'stop PostgreSQL replica'],
    );
    assert.ok(
      report.faults.every((f) => f.atCall < 150),
      'every fault landed while the workload ran',
    );
  });

  it('every call succeeded; the client saw only retryable errors', () => {
    assert.equal(report.workload.calls.total, 150);
    assert.deepEqual(report.workload.nonRetryableErrors, {}, report.workload.examples.join('\n'));
    assert.equal(report.workload.calls.failed, 0, report.workload.examples.join('\n'));
  });

  it('no SSE event lost, duplicated or reordered after resume', () => {
    assert.ok(report.workload.sse.resumes > 0, 'streams were resumed');
    assert.equal(report.workload.sse.eventsLost, 0);
    assert.equal(report.workload.sse.eventsDuplicated, 0);
    assert.equal(report.workload.sse.outOfOrder, 0);
  });

  it('no task lost or duplicated, including the jobs of the killed worker', () => {
    assert.ok(report.workload.tasks.created > 0);
    assert.equal(report.workload.tasks.lost, 0);
    assert.equal(report.workload.tasks.duplicateTaskIds, 0);
    assert.equal(report.workload.tasks.completed, report.workload.tasks.created);
    const workerFault = report.faults.find((f) => f.fault === 'SIGKILL worker mid-job')!;
    assert.match(workerFault.notes ?? '', /4\/4 jobs that were running completed/);
  });

  it('the cluster serves calls after every fault', () => {
    for (const f of report.faults) assert.ok(Number.isFinite(f.serviceRecoveredMs), f.fault);
    assert.equal(report.verdict.pass, true, JSON.stringify(report.verdict));
  });
});
