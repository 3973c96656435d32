/**
 * One chaos run against a LocalCluster: the mixed workload (workload.ts) with the faults of faults.ts
 * injected at fixed fractions of its progress, one after the other. Produces the report printed by
 * `npm run chaos` and checked by test/e2e/chaos.test.ts.
 */
import type { LocalCluster } from '../../../service/src/local/cluster/local-cluster.js';
import { FAULTS, fixtureStats, probeUntilHealthy, type FaultRecord } from './faults.js';
import { runWorkload, type WorkloadResult } from './workload.js';

/** Faster lock expiry so a killed worker's job is retried within seconds (production default: 30 s). */
export const CHAOS_ENV = { TASK_LOCK_MS: '4000', TASK_STALLED_INTERVAL_MS: '1000', CALL_LEASE_MS: '3000', LOG_LEVEL: 'warn' };

/** The report (JSON). */
export interface ChaosReport {
  startedAt: string;
  cluster: { replicas: number; workers: number; workersNote?: string };
  workload: Omit<WorkloadResult, 'tasks'> & { tasks: Omit<WorkloadResult['tasks'], 'keys'> & { reExecutedUpstream: number } };
  faults: FaultRecord[];
  verdict: {
    callsFailed: number;
    onlyRetryableErrors: boolean;
    sseEventsLost: number;
    sseEventsDuplicated: number;
    tasksLost: number;
    tasksDuplicated: number;
    pass: boolean;
  };
}

/** Options of runChaos. */
export interface ChaosOptions {
  calls: number;
  concurrency: number;
  deadlineMs: number;
  /** Spread the calls over this long so every fault lands mid-workload. */
  paceMs: number;
  log?: (line: string) => void;
}

/** Runs workload + faults; resolves with the report. */
export async function runChaos(c: LocalCluster, o: ChaosOptions): Promise<ChaosReport> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const startedAt = new Date().toISOString();
  const t0 = Date.now();
  let done = 0;
  let lastLogged = 0;
  const workload = runWorkload({
    mcpUrl: c.mcpUrl,
    apiKey: c.apiKey,
    calls: o.calls,
    concurrency: o.concurrency,
    streamShare: 0.2,
    taskShare: 0.2,
    deadlineMs: o.deadlineMs,
    paceMs: o.paceMs,
    onProgress: (n) => {
      done = n;
      if (n - lastLogged >= Math.max(10, o.calls / 20)) {
        lastLogged = n;
        log(`  ${n}/${o.calls} calls (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
      }
    },
  });
  let finished = false;
  void workload.finally(() => (finished = true));
  const faults: FaultRecord[] = [];
  const faultKeys: string[] = [];
  const settles: { record: FaultRecord; settle: NonNullable<Awaited<ReturnType<(typeof FAULTS)[number]['inject']>>['settle']> }[] = [];
  for (const f of FAULTS) {
    while (!finished && done < f.at * o.calls) await new Promise((r) => setTimeout(r, 50));
    const injectedAt = Date.now();
    const atCall = done;
    log(`  fault: ${f.name} at call ${atCall}`);
    const [injected, probe] = await Promise.all([f.inject(c, log), probeUntilHealthy(c, injectedAt)]);
    if (injected.keys) faultKeys.push(...injected.keys);
    const record: FaultRecord = {
      fault: f.name,
      atCall,
      injectedAtMs: injectedAt - t0,
      serviceRecoveredMs: probe.ms,
      probesFailed: probe.failed,
      ...(injected.componentBackMs !== undefined && { componentBackMs: injected.componentBackMs }),
      ...(injected.notes && { notes: injected.notes }),
    };
    faults.push(record);
    if (injected.settle) settles.push({ record, settle: injected.settle });
    log(
      `    service recovered after ${record.serviceRecoveredMs} ms (${probe.failed} failed probes)${record.componentBackMs !== undefined ? `; component back after ${record.componentBackMs} ms` : ''}`,
    );
  }
  const result = await workload;
  for (const { record, settle } of settles) Object.assign(record, await settle());
  await c.postgres.startReplica().catch((err: unknown) => log(`  replica restart failed: ${err instanceof Error ? err.message : String(err)}`));
  const stats = await fixtureStats(c);
  const reExecutedUpstream = [...result.tasks.keys, ...faultKeys].filter((k) => (stats.executions[k] ?? 0) > 1).length;
  const { keys: _keys, ...tasks } = result.tasks;
  const onlyRetryable = Object.keys(result.nonRetryableErrors).length === 0;
  const verdict = {
    callsFailed: result.calls.failed,
    onlyRetryableErrors: onlyRetryable,
    sseEventsLost: result.sse.eventsLost,
    sseEventsDuplicated: result.sse.eventsDuplicated,
    tasksLost: result.tasks.lost,
    tasksDuplicated: result.tasks.duplicateTaskIds,
    pass: false,
  };
  verdict.pass =
    onlyRetryable &&
    result.calls.failed === 0 &&
    verdict.sseEventsLost === 0 &&
    verdict.sseEventsDuplicated === 0 &&
    verdict.tasksLost === 0 &&
    verdict.tasksDuplicated === 0 &&
    result.calls.total === o.calls;
  return {
    startedAt,
    cluster: { replicas: c.gateways.length, workers: c.workers.length, ...(c.workersNote && { workersNote: c.workersNote }) },
    workload: { ...result, tasks: { ...tasks, reExecutedUpstream } },
    faults,
    verdict,
  };
}

/** Human summary lines of a report. */
export function summarize(r: ChaosReport): string[] {
  const w = r.workload;
  return [
    `chaos: ${w.calls.total} calls in ${(w.durationMs / 1000).toFixed(1)} s over ${r.cluster.replicas} replicas, ${r.cluster.workers} workers`,
    `  calls ok ${w.calls.ok}, failed ${w.calls.failed} (${Object.entries(w.calls.byKind)
      .map(([k, v]) => `${k} ${v.ok}/${v.ok + v.failed}`)
      .join(', ')})`,
    `  retryable errors seen and retried: ${JSON.stringify(w.retryableErrors)}; non-retryable: ${JSON.stringify(w.nonRetryableErrors)}`,
    `  SSE: ${w.sse.streams} streams, ${w.sse.resumes} resumes, events ${w.sse.eventsReceived}/${w.sse.eventsExpected}, lost ${w.sse.eventsLost}, duplicated ${w.sse.eventsDuplicated}, out of order ${w.sse.outOfOrder}`,
    `  tasks: created ${w.tasks.created}, completed ${w.tasks.completed}, failed ${w.tasks.failed}, lost ${w.tasks.lost}, duplicated ${w.tasks.duplicateTaskIds}, upstream re-executions ${w.tasks.reExecutedUpstream}`,
    ...r.faults.map(
      (f) =>
        `  ${f.fault.padEnd(28)} at call ${String(f.atCall).padStart(4)}: service recovered ${f.serviceRecoveredMs} ms${f.componentBackMs !== undefined ? `, component back ${f.componentBackMs} ms` : ''}${f.notes ? ` (${f.notes})` : ''}`,
    ),
    `  verdict: ${r.verdict.pass ? 'PASS' : 'FAIL'} ${JSON.stringify(r.verdict)}`,
    ...(w.examples.length ? ['  examples of errors:', ...w.examples.map((e) => `    ${e}`)] : []),
  ];
}
