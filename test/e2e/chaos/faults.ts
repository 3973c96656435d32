/**
 * The faults of the chaos run, each injected into a running LocalCluster, with its recovery measured:
 * `serviceRecoveredMs` = from the injection until a tools/call through nginx succeeds again (probes every
 * 100 ms, 3 s timeout each; 0 when no probe ever failed), `componentBackMs` = until the faulted component
 * is back (restarted and ready), when the fault restarts it.
 */
import type { LocalCluster } from '../../../service/src/local/cluster/local-cluster.js';
import { modernRequest } from './mcp-client.js';

/** One fault's record in the report. */
export interface FaultRecord {
  fault: string;
  atCall: number;
  injectedAtMs: number;
  serviceRecoveredMs: number;
  componentBackMs?: number;
  probesFailed: number;
  notes?: string;
}

/** Probes until one tools/call through nginx succeeds; returns ms since `since` and how many probes failed. */
export async function probeUntilHealthy(c: LocalCluster, since: number, timeoutMs = 120_000): Promise<{ ms: number; failed: number }> {
  let failed = 0;
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      await modernRequest(
        c.mcpUrl,
        c.apiKey,
        'tools/call',
        { name: 'diagnostics.echo', arguments: { text: 'probe' } },
        { name: 'diagnostics.echo', timeoutMs: 3_000 },
      );
      return { ms: failed === 0 ? 0 : Date.now() - since, failed };
    } catch {
      failed++;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`the cluster did not serve a tool call within ${timeoutMs} ms of the fault`);
}

/** Fixture upstream counters (executions per key of the long-running tool). */
export async function fixtureStats(c: LocalCluster): Promise<{ executions: Record<string, number>; active: number; aborted: number; completed: number }> {
  const res = await fetch(c.fixtureUrl.replace(/\/mcp$/, '/stats'));
  return (await res.json()) as never;
}

/** What an injection returns; `settle` (awaited after the workload) finishes slow measurements. */
export interface Injected {
  componentBackMs?: number;
  notes?: string;
  keys?: string[];
  settle?: () => Promise<{ componentBackMs: number; notes: string }>;
}
type Inject = (c: LocalCluster, log: (l: string) => void) => Promise<Injected>;

/** SIGKILL gateway-2; an orchestrator would restart it: we do after 1 s. */
export const killGateway: Inject = async (c) => {
  const i = Math.min(1, c.gateways.length - 1);
  const t0 = Date.now();
  await c.gateways[i]!.process.stop('SIGKILL');
  await new Promise((r) => setTimeout(r, 1_000));
  await c.restartGateway(i);
  return { componentBackMs: Date.now() - t0, notes: `${c.gateways[i]!.name} SIGKILLed, restarted after 1 s` };
};

/** SIGKILL worker-1 while long jobs run (4 dedicated 3 s tasks are started first); restart it after 1 s. */
export const killWorker: Inject = async (c, log) => {
  if (c.workers.length === 0) return { notes: `skipped: ${c.workersNote ?? 'no workers'}` };
  const keys = Array.from({ length: 4 }, (_, k) => `worker-kill-${Date.now()}-${k}`);
  const taskIds: string[] = [];
  for (const key of keys) {
    const r = await modernRequest(
      c.mcpUrl,
      c.apiKey,
      'tools/call',
      { name: 'fixture__slow', arguments: { ms: 3_000, key } },
      { tasks: true, name: 'fixture__slow' },
    );
    taskIds.push(r?.taskId ?? r?.task?.taskId);
  }
  const before = await fixtureStats(c);
  const until = Date.now() + 15_000;
  while (Date.now() < until) {
    const s = await fixtureStats(c);
    if (keys.every((k) => (s.executions[k] ?? 0) >= 1)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const t0 = Date.now();
  await c.workers[0]!.process.stop('SIGKILL');
  await new Promise((r) => setTimeout(r, 1_000));
  const after = await fixtureStats(c);
  log(`      worker-1 SIGKILLed with jobs running; upstream calls aborted by the kill: ${after.aborted - before.aborted}`);
  await c.restartWorker(0);
  const restartedMs = Date.now() - t0;
  // The killed worker's jobs are picked up again once their lock lapses (TASK_LOCK_MS): wait for all four.
  const settle = async () => {
    const doneBy = Date.now() + 90_000;
    let pending = [...taskIds];
    let lastDone = t0;
    while (pending.length && Date.now() < doneBy) {
      const still: string[] = [];
      for (const id of pending) {
        const t = await modernRequest(c.mcpUrl, c.apiKey, 'tasks/get', { taskId: id }, { tasks: true, name: id }).catch(() => undefined);
        const status = t?.status ?? t?.task?.status;
        if (status === 'completed') lastDone = Date.now();
        else still.push(id);
      }
      pending = still;
      if (pending.length) await new Promise((r) => setTimeout(r, 200));
    }
    return {
      componentBackMs: lastDone - t0,
      notes: `${after.aborted - before.aborted} running upstream call(s) cut by the kill; worker-1 back after ${restartedMs} ms; ${taskIds.length - pending.length}/${taskIds.length} jobs that were running completed (componentBackMs = until the last did)`,
    };
  };
  // Poll from now on (in the background), so the time is measured when the jobs finish, not when the workload does.
  const settling = settle();
  return { keys, settle: () => settling, notes: `worker-1 back after ${restartedMs} ms` };
};

/** Redis SHUTDOWN (AOF kept) and start on the same port. */
export const restartRedis: Inject = async (c) => {
  const t0 = Date.now();
  await c.redis.restart();
  return { componentBackMs: Date.now() - t0, notes: 'redis-server SIGTERM, restarted on the same port with its append-only file' };
};

/** PostgreSQL primary: immediate stop (crash) and start. */
export const restartPrimary: Inject = async (c) => {
  const t0 = Date.now();
  await c.postgres.restartPrimary();
  return { componentBackMs: Date.now() - t0, notes: 'pg_ctl stop -m immediate, then start (crash recovery)' };
};

/** Stop the streaming replica (started again after the workload). */
export const stopReplica: Inject = async (c) => {
  await c.postgres.stopReplica();
  return { notes: 'replica stopped for the rest of the workload (readers fall back to the primary)' };
};

/** The faults in the order the chaos run injects them. */
export const FAULTS: { name: string; at: number; inject: Inject }[] = [
  { name: 'SIGKILL gateway replica', at: 0.1, inject: killGateway },
  { name: 'SIGKILL worker mid-job', at: 0.25, inject: killWorker },
  { name: 'restart Redis', at: 0.45, inject: restartRedis },
  { name: 'restart PostgreSQL primary', at: 0.65, inject: restartPrimary },
  { name: 'stop PostgreSQL replica', at: 0.8, inject: stopReplica },
];
