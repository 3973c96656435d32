/**
 * The mixed workload: `calls` operations over `concurrency` lanes through the load balancer: modern
 * tools/call (a built-in echo and the federated fixture echo, answers checked), 2025-era SSE streams
 * (every other one cut after two events and resumed with Last-Event-ID), and tasks (the long-running
 * fixture tool with a unique key, polled with tasks/get until terminal). Each operation is retried on
 * retryable errors only (bounded attempts); everything is counted for the report.
 */
import { CallError, legacyStreamCall, modernRequest, openLegacySession } from './mcp-client.js';

/** Knobs of one workload run. */
export interface WorkloadOptions {
  readonly mcpUrl: string;
  readonly apiKey: string;
  readonly calls: number;
  readonly concurrency: number;
  /** Fractions of the mix; the rest are modern tools/call. */
  readonly streamShare: number;
  readonly taskShare: number;
  /** Upper bound of the whole run. */
  readonly deadlineMs: number;
  /** Spread the starts over this long (call i starts no earlier than i * paceMs / calls), so faults land mid-run. */
  readonly paceMs: number;
  /** Called after each finished operation with the number done. */
  onProgress?(done: number): void;
}

/** Counters of the run. */
export interface WorkloadResult {
  calls: { total: number; ok: number; failed: number; byKind: Record<string, { ok: number; failed: number }> };
  /** Attempts that failed with a retryable error (and were retried), by error kind. */
  retryableErrors: Record<string, number>;
  /** Errors a client must not have to handle (a bug if > 0), by kind, with examples. */
  nonRetryableErrors: Record<string, number>;
  examples: string[];
  sse: { streams: number; resumes: number; eventsExpected: number; eventsReceived: number; eventsLost: number; eventsDuplicated: number; outOfOrder: number };
  tasks: { created: number; completed: number; failed: number; lost: number; duplicateTaskIds: number; keys: string[] };
  durationMs: number;
}

const MAX_ATTEMPTS = 6;
const STREAM_COUNT = 5;

async function withRetries<T>(r: WorkloadResult, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const e = err instanceof CallError ? err : new CallError(err instanceof Error ? err.message : String(err), false, 'unexpected');
      if (!e.retryable) {
        r.nonRetryableErrors[e.kind] = (r.nonRetryableErrors[e.kind] ?? 0) + 1;
        if (r.examples.length < 10) r.examples.push(e.message);
        throw e;
      }
      r.retryableErrors[e.kind] = (r.retryableErrors[e.kind] ?? 0) + 1;
      if (attempt >= MAX_ATTEMPTS) throw e;
      await new Promise((res) => setTimeout(res, Math.min(4_000, 150 * 2 ** attempt)));
    }
  }
}

/** Runs the workload; resolves when every operation finished or the deadline passed. */
export async function runWorkload(o: WorkloadOptions): Promise<WorkloadResult> {
  const r: WorkloadResult = {
    calls: { total: o.calls, ok: 0, failed: 0, byKind: {} },
    retryableErrors: {},
    nonRetryableErrors: {},
    examples: [],
    sse: { streams: 0, resumes: 0, eventsExpected: 0, eventsReceived: 0, eventsLost: 0, eventsDuplicated: 0, outOfOrder: 0 },
    tasks: { created: 0, completed: 0, failed: 0, lost: 0, duplicateTaskIds: 0, keys: [] },
    durationMs: 0,
  };
  const started = Date.now();
  const deadline = started + o.deadlineMs;
  const taskIds = new Set<string>();
  const sessions: (string | undefined)[] = Array.from({ length: o.concurrency }, () => undefined);

  const modernCall = async (i: number) => {
    const builtIn = i % 2 === 0;
    const text = `chaos-${i}`;
    const name = builtIn ? 'diagnostics.echo' : 'fixture__echo';
    const result = await withRetries(r, () => modernRequest(o.mcpUrl, o.apiKey, 'tools/call', { name, arguments: { text } }, { name }));
    const got = result?.content?.[0]?.text;
    if (got !== text) throw new CallError(`echo answered ${JSON.stringify(got)} instead of ${text}`, false, 'wrong-answer');
  };

  const streamCall = async (i: number, lane: number) => {
    r.sse.streams++;
    const outcome = await withRetries(r, async () => {
      sessions[lane] ??= await openLegacySession(o.mcpUrl, o.apiKey);
      try {
        return await legacyStreamCall(o.mcpUrl, o.apiKey, sessions[lane]!, STREAM_COUNT, 30, i % 2 === 0 ? 2 : undefined);
      } catch (err) {
        // A session the cluster no longer knows would be a loss; count it, then open a fresh one.
        if (err instanceof CallError && err.kind === 'http-404') sessions[lane] = undefined;
        throw err;
      }
    });
    r.sse.resumes += outcome.resumed;
    r.sse.eventsExpected += STREAM_COUNT;
    const unique = new Set(outcome.progress);
    r.sse.eventsReceived += unique.size;
    r.sse.eventsLost += STREAM_COUNT - unique.size;
    r.sse.eventsDuplicated += outcome.progress.length - unique.size;
    if (outcome.progress.some((p, k) => k > 0 && p <= outcome.progress[k - 1]!)) r.sse.outOfOrder++;
  };

  const taskCall = async (i: number) => {
    const key = `task-${i}-${started}`;
    const created = await withRetries(r, () =>
      modernRequest(o.mcpUrl, o.apiKey, 'tools/call', { name: 'fixture__slow', arguments: { ms: 400, key } }, { tasks: true, name: 'fixture__slow' }),
    );
    const taskId: string | undefined = created?.taskId ?? created?.task?.taskId;
    if (!taskId) throw new CallError(`tools/call did not create a task: ${JSON.stringify(created).slice(0, 200)}`, false, 'no-task');
    r.tasks.created++;
    r.tasks.keys.push(key);
    if (taskIds.has(taskId)) r.tasks.duplicateTaskIds++;
    taskIds.add(taskId);
    const until = Math.min(deadline, Date.now() + 120_000);
    while (Date.now() < until) {
      await new Promise((res) => setTimeout(res, 300));
      const t = await withRetries(r, () => modernRequest(o.mcpUrl, o.apiKey, 'tasks/get', { taskId }, { tasks: true, name: taskId }));
      const status = t?.status ?? t?.task?.status;
      if (status === 'completed') {
        r.tasks.completed++;
        return;
      }
      if (status === 'failed' || status === 'cancelled') {
        r.tasks.failed++;
        throw new CallError(`task ${taskId} ${status}: ${JSON.stringify(t.error ?? t.statusMessage ?? '').slice(0, 200)}`, false, `task-${status}`);
      }
    }
    r.tasks.lost++;
    throw new CallError(`task ${taskId} not finished before the deadline`, false, 'task-lost');
  };

  let next = 0;
  let done = 0;
  const streamEvery = o.streamShare > 0 ? Math.round(1 / o.streamShare) : 0;
  const taskEvery = o.taskShare > 0 ? Math.round(1 / o.taskShare) : 0;
  const lane = async (laneNo: number) => {
    while (next < o.calls && Date.now() < deadline) {
      const i = next++;
      const notBefore = started + (i * o.paceMs) / o.calls;
      if (notBefore > Date.now()) await new Promise((res) => setTimeout(res, notBefore - Date.now()));
      const kind = taskEvery && i % taskEvery === 1 ? 'task' : streamEvery && i % streamEvery === 0 ? 'sse-stream' : 'tools-call';
      const k = (r.calls.byKind[kind] ??= { ok: 0, failed: 0 });
      try {
        if (kind === 'task') await taskCall(i);
        else if (kind === 'sse-stream') await streamCall(i, laneNo);
        else await modernCall(i);
        r.calls.ok++;
        k.ok++;
      } catch (err) {
        r.calls.failed++;
        k.failed++;
        if (r.examples.length < 10) r.examples.push(`${kind} #${i}: ${err instanceof Error ? err.message : String(err)}`);
      }
      o.onProgress?.(++done);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, (_, l) => lane(l)));
  r.calls.total = done;
  r.durationMs = Date.now() - started;
  return r;
}
