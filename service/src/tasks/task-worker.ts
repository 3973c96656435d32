/**
 * The consumer side: runs task jobs delivered by the task queue port (BullMQ, RabbitMQ or SQS; the
 * adapter owns delivery, acknowledgement, retry scheduling and crash recovery). This module adds what a
 * queue does not know about tasks:
 *
 * - the task record: `working` with progress messages, `input_required` while the tool waits for an
 *   elicitation answer, and exactly one terminal transition (conditional UPDATE, so a re-run after a
 *   crash or a late duplicate cannot complete a task twice);
 * - on at-least-once backends, a per-task run lease in Redis: a duplicate delivery while another worker
 *   runs the task goes back to the queue instead of running twice;
 * - the retry policy per tool (which outcomes retry, permanent error codes, per-attempt timeout,
 *   exponential backoff with jitter);
 * - the dead-letter queue: the last failed attempt parks the job there with the error history;
 * - cancellation (Redis pub/sub from any gateway) and graceful shutdown (running jobs finish within
 *   the grace period, the rest go back to the queue without using up an attempt).
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Principal } from '../domain/principal.js';
import type { WorkerMetrics } from './metrics.js';
import type { PolicyTable } from './policy.js';
import { backoffDelay, type DeliveredJob, type JobOutcome, type TaskConsumer, type TaskQueue } from './task-queue.js';
import { queueConnection, RunLeases, type RunLease } from './queues/redis.js';
import type { FollowSpec, UpstreamTaskFollower } from './ports.js';
import { inputKeyHint, withoutInputKeyHint } from '../protocol/input-keys.js';
import { errorOutcome, runTool, type RunHooks, type RunOutcome, type TaskServerBuilder } from './tool-runner.js';
import { TERMINAL, type AttemptError, type TaskStore } from './types.js';
import { inConsumerSpan } from './task-spans.js';

export type { UpstreamTaskFollower } from './ports.js';

/** What a worker needs. */
export interface TaskWorkerDeps {
  readonly redisUrl: string;
  readonly queue: TaskQueue;
  readonly store: TaskStore;
  readonly build: TaskServerBuilder;
  /** Resolves the principal a task runs as (tenant toolsets may have changed since creation). */
  readonly principalFor: (tenantId: string, subject: string) => Promise<Principal | null>;
  readonly logger: Logger;
  readonly metrics: WorkerMetrics;
  readonly concurrency: number;
  readonly lockMs: number;
  readonly stalledIntervalMs: number;
  readonly shutdownGraceMs: number;
  /** Channel the gateways publish cancelled task ids on. */
  readonly cancelChannel: string;
  /** Prefix of the run-lease keys in Redis (REDIS_KEY_PREFIX). */
  readonly keyPrefix: string;
  /** This worker's policies: the per-attempt timeout is the worker's (attempts/backoff travel with the job). */
  readonly policies: PolicyTable;
  /** How often a waiting elicitation re-reads the task, ms. @defaultValue 200 */
  readonly inputPollMs?: number;
  /** Follows upstream-owned tasks (jobs with `follow`); without it such jobs fail. */
  readonly follow?: UpstreamTaskFollower;
}

type StopReason = 'cancelled' | 'timeout' | 'shutdown';

/** One worker process's consumer. */
export class TaskWorker {
  private readonly consumer: TaskConsumer;
  private readonly subscriber: Redis;
  private readonly leaseRedis: Redis | undefined;
  private readonly leases: RunLeases | undefined;
  private readonly running = new Map<string, AbortController>();
  private closing: Promise<void> | undefined;

  constructor(private readonly deps: TaskWorkerDeps) {
    this.consumer = deps.queue.consume((job) => this.process(job), {
      concurrency: deps.concurrency,
      lockMs: deps.lockMs,
      stalledIntervalMs: deps.stalledIntervalMs,
      onError: (err) => deps.logger.warn({ err: err.message }, 'task worker: queue error'),
    });
    if (!deps.queue.exclusiveDelivery) {
      this.leaseRedis = queueConnection(deps.redisUrl, 'umcp-task-lease');
      this.leases = new RunLeases(this.leaseRedis, deps.keyPrefix, deps.lockMs);
    }
    this.subscriber = queueConnection(deps.redisUrl, 'umcp-task-cancel-listener');
    this.subscriber.on('message', (_channel: string, taskId: string) => this.running.get(taskId)?.abort('cancelled'));
  }

  /** Starts consuming; resolves once subscribed and the consumer is running. */
  async start(): Promise<void> {
    await this.subscriber.subscribe(this.deps.cancelChannel);
    await this.consumer.start();
  }

  /** Jobs running now. */
  get activeJobs(): number {
    return this.running.size;
  }

  private async process(job: DeliveredJob): Promise<JobOutcome> {
    // At-least-once backends: a second delivery of a task another worker runs waits its turn; when that
    // worker finishes, the task is terminal and this delivery is dropped; when it crashed, its lease lapses.
    let lease: RunLease | undefined;
    if (this.leases) {
      lease = await this.leases.acquire(job.data.taskId);
      if (!lease) return { kind: 'requeue', delayMs: Math.max(500, Math.round(this.deps.lockMs / 2)) };
    }
    try {
      return await inConsumerSpan(this.deps.queue.backend, job.data, job.attempt, () => this.run(job));
    } finally {
      await lease?.release();
    }
  }

  private async run(job: DeliveredJob): Promise<JobOutcome> {
    const { taskId, policy } = job.data;
    const log = this.deps.logger.child({ taskId, tool: job.data.tool, attempt: job.attempt });
    const task = await this.deps.store.getFresh(taskId);
    if (!task || TERMINAL.has(task.status)) {
      // Cancelled (or expired) before any worker followed it: the upstream task it mirrors, created with
      // the call, is cancelled too (a follow that starts aborted only sends tasks/cancel).
      if (job.data.follow && (!task || task.status === 'cancelled')) {
        const owner = await this.deps.principalFor(job.data.tenantId, task?.subject ?? 'anonymous');
        const hooks = { signal: AbortSignal.abort('cancelled'), ask: async () => ({ action: 'cancel' }), onprogress: () => undefined };
        if (owner) await this.deps.follow?.(owner, { tool: job.data.tool, follow: job.data.follow }, hooks).catch(() => undefined);
      }
      return { kind: 'done' };
    }
    const principal = await this.deps.principalFor(task.tenantId, task.subject);
    if (!principal) return this.fail(job, { code: -32603, message: `tenant ${task.tenantId} is unknown or disabled` }, log, true);
    await this.deps.store.transition(taskId, { incrementRuns: true, statusMessage: `running (attempt ${job.attempt} of ${policy.attempts})` });

    const controller = new AbortController();
    this.running.set(taskId, controller);
    const timeoutMs = this.deps.policies.forTool(job.data.tool).timeoutMs;
    const timer = setTimeout(() => controller.abort('timeout'), timeoutMs);
    const started = performance.now();
    const observe = (outcome: string) => this.deps.metrics.duration.observe({ tool: job.data.tool, outcome }, (performance.now() - started) / 1000);
    let prefilled = [...task.prefilled];
    const onProgress = (p: { progress: number; total?: number; message?: string }) => {
      job.progress?.(p);
      void this.deps.store
        .transition(taskId, { statusMessage: p.message ?? `progress ${p.progress}${p.total ? ` of ${p.total}` : ''}` })
        .catch(() => undefined);
    };
    const hooks: RunHooks = {
      signal: controller.signal,
      onProgress,
      onInputRequest: async (key, request) => {
        if (prefilled.length > 0) {
          const [first, ...rest] = prefilled;
          prefilled = rest;
          return first as Record<string, unknown>;
        }
        return this.awaitInput(taskId, key, request, controller.signal);
      },
    };
    let outcome: RunOutcome;
    try {
      outcome = job.data.follow
        ? await this.followUpstream(principal, { tool: task.tool, follow: job.data.follow }, taskId, hooks)
        : await runTool(this.deps.build, principal, { tool: task.tool, arguments: task.arguments, idempotencyKey: task.id }, hooks);
    } catch (err) {
      const reason = controller.signal.aborted ? (controller.signal.reason as StopReason) : undefined;
      if (reason === 'cancelled') {
        observe('cancelled');
        return { kind: 'done' };
      }
      // Back to the queue without using up an attempt; another worker (or this one, restarted) runs it.
      if (reason === 'shutdown') return { kind: 'requeue', delayMs: 0 };
      const message = reason === 'timeout' ? `attempt timed out after ${timeoutMs} ms` : err instanceof Error ? err.message : String(err);
      outcome = { kind: 'error', code: -32603, message };
    } finally {
      clearTimeout(timer);
      this.running.delete(taskId);
    }

    const failure =
      outcome.kind === 'error'
        ? { code: outcome.code, message: outcome.message }
        : outcome.result['isError'] === true && policy.retryOn === 'errors-and-tool-errors'
          ? { code: -32603, message: toolErrorText(outcome.result) }
          : undefined;
    if (!failure) {
      const done = await this.deps.store.transition(taskId, {
        status: 'completed',
        statusMessage: null,
        result: outcome.kind === 'result' ? outcome.result : {},
      });
      observe('completed');
      log.info({ applied: !!done }, 'task completed');
      return { kind: 'done' };
    }
    return this.fail(job, failure, log, false, observe);
  }

  /** A failed attempt: a retry with backoff, or (last attempt, permanent error) the DLQ with the error history. */
  private async fail(
    job: DeliveredJob,
    failure: { code: number; message: string },
    log: Logger,
    permanent: boolean,
    observe: (outcome: string) => void = () => undefined,
  ): Promise<JobOutcome> {
    const { taskId, policy } = job.data;
    const attempt: AttemptError = { attempt: job.attempt, at: new Date().toISOString(), message: failure.message, code: failure.code };
    const last = permanent || policy.permanentCodes.includes(failure.code) || job.attempt >= policy.attempts;
    if (!last) {
      await this.deps.store.transition(taskId, { appendError: attempt, statusMessage: `attempt ${attempt.attempt} failed, retrying: ${failure.message}` });
      this.deps.metrics.retries.inc({ tool: job.data.tool });
      observe('retry');
      return { kind: 'retry', delayMs: backoffDelay(policy, job.attempt), message: failure.message };
    }
    const failed = await this.deps.store.transition(taskId, { appendError: attempt, status: 'failed', statusMessage: failure.message, error: failure });
    await this.deps.queue.deadLetter({
      ...job.data,
      failedAt: attempt.at,
      attempts: attempt.attempt,
      errors: failed?.errorHistory ?? [attempt],
    });
    observe('failed');
    log.warn({ error: failure.message }, 'task failed; moved to the dead-letter queue');
    return { kind: 'dead', message: failure.message };
  }

  /**
   * Follows the upstream's own task of this job (created when the caller called the tool): its questions
   * park the gateway task under the upstream's key (when it names one) until tasks/update answers, its
   * progress becomes the status message. Its error is the run's error, as a tool's protocol error is.
   */
  private async followUpstream(principal: Principal, job: { tool: string; follow: FollowSpec }, taskId: string, hooks: RunHooks): Promise<RunOutcome> {
    if (!this.deps.follow) return { kind: 'error', code: -32603, message: 'this worker cannot follow upstream tasks' };
    const { signal } = hooks;
    let asked = 0;
    try {
      const result = await this.deps.follow(principal, job, {
        signal,
        ask: (request) =>
          this.awaitInput(
            taskId,
            inputKeyHint(request.params) ?? `input-${++asked}`,
            { method: request.method, params: withoutInputKeyHint(request.params) },
            signal,
          ),
        onprogress: hooks.onProgress,
      });
      return { kind: 'result', result };
    } catch (err) {
      return errorOutcome(err, signal);
    }
  }

  /** Parks the task in `input_required` until `key` is answered (tasks/update on any replica). */
  private async awaitInput(
    taskId: string,
    key: string,
    request: { method: string; params: Record<string, unknown> },
    signal: AbortSignal,
  ): Promise<Record<string, unknown>> {
    let task = await this.deps.store.getFresh(taskId);
    if (task && key in task.inputResponses) return task.inputResponses[key] as Record<string, unknown>;
    await this.deps.store.transition(taskId, { status: 'input_required', inputRequests: { [key]: request }, statusMessage: 'waiting for client input' });
    const pollMs = this.deps.inputPollMs ?? 200;
    for (;;) {
      signal.throwIfAborted();
      await new Promise((r) => setTimeout(r, pollMs));
      task = await this.deps.store.get(taskId);
      if (!task || TERMINAL.has(task.status)) throw new Error('task ended while waiting for input');
      if (key in task.inputResponses) return task.inputResponses[key] as Record<string, unknown>;
    }
  }

  /**
   * Graceful shutdown: takes no new jobs, lets running ones finish within the grace period, then
   * returns the rest to the queue (no attempt used) and closes the connections.
   */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      const closed = this.consumer.close();
      const grace = new Promise<'grace'>((r) => setTimeout(() => r('grace'), this.deps.shutdownGraceMs).unref());
      if ((await Promise.race([closed.then(() => 'closed' as const), grace])) === 'grace') {
        this.deps.logger.warn({ running: this.running.size }, 'task worker: grace period over; returning running jobs to the queue');
        for (const c of this.running.values()) c.abort('shutdown');
        await closed;
      }
      this.subscriber.disconnect();
      this.leaseRedis?.disconnect();
    })());
  }
}

function toolErrorText(result: Record<string, unknown>): string {
  const content = result['content'];
  const first = Array.isArray(content) ? (content[0] as { text?: unknown } | undefined) : undefined;
  return typeof first?.text === 'string' ? first.text : 'tool returned an error';
}
