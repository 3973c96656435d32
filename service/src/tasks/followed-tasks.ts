/**
 * Gateway tasks that mirror a task an upstream runs itself and the gateway follows from the replica
 * that created it (a 2025-era upstream binds its task to the upstream session that created it, and that
 * session is this replica's pooled client; see RemoteTasks.followLegacy in gateway/upstream-tasks.ts).
 *
 * The record lives in the task store like any other task, so every replica answers `tasks/get`, takes
 * `tasks/update` answers and `tasks/cancel`; only the following runs here. There is no queue job: the
 * upstream owns the work (and its retries). The follower:
 * - parks the task in `input_required` for each question of the upstream task and waits for the answer
 *   in the store (tasks/update on any replica), as the worker does for its tools;
 * - reports progress messages as the task's status message;
 * - notices a cancellation, expiry or end of the task in the store (polled) and then cancels upstream;
 * - writes the upstream's outcome: its result completes the task, its error fails it.
 * A replica that shuts down fails the tasks it follows ("call the tool again"): their upstream sessions
 * end with it.
 */
import type { Logger } from 'pino';
import { inputKeyHint, withoutInputKeyHint } from '../mcp/input-keys.js';
import { TERMINAL, type InputRequest, type TaskRecord, type TaskStore } from './types.js';

/** What a follow function gets (gateway/upstream-tasks.ts LegacyTaskHooks). */
export interface FollowHooks {
  readonly signal: AbortSignal;
  ask(request: { method: string; params: Record<string, unknown> }): Promise<unknown>;
  onprogress(p: { progress: number; total?: number; message?: string }): void;
}

/** Rewrites a followed task's result before it is stored. */
export type ResultFilter = (result: Record<string, unknown>, task: Pick<TaskRecord, 'tenantId' | 'tool'>) => Promise<Record<string, unknown>>;

/** How often a followed task's record is checked for a cancellation, ms. */
const WATCH_MS = 1_000;

/**
 * Parks task `taskId` in `input_required` with `request` under `key` until `tasks/update` (on any replica)
 * answers it; resolves with the answer. Shared by the worker's tools and followed upstream tasks.
 */
export async function awaitTaskInput(store: TaskStore, taskId: string, key: string, request: InputRequest, signal: AbortSignal, pollMs: number): Promise<Record<string, unknown>> {
  let task = await store.getFresh(taskId);
  if (task && key in task.inputResponses) return task.inputResponses[key] as Record<string, unknown>;
  await store.transition(taskId, { status: 'input_required', inputRequests: { [key]: request }, statusMessage: 'waiting for client input' });
  for (;;) {
    signal.throwIfAborted();
    await new Promise((r) => setTimeout(r, pollMs));
    task = await store.get(taskId);
    if (!task || TERMINAL.has(task.status)) throw new Error('task ended while waiting for input');
    if (key in task.inputResponses) return task.inputResponses[key] as Record<string, unknown>;
  }
}

/** The followed tasks of this replica. */
export class FollowedTasks {
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private resultFilter: ResultFilter = async (result) => result;

  constructor(
    private readonly store: TaskStore,
    private readonly opts: { logger?: Logger; inputPollMs?: number } = {},
  ) {}

  /** Applied to each result before it is stored (large results go to object storage, as the worker's do). */
  useResultFilter(filter: ResultFilter): void {
    this.resultFilter = filter;
  }

  /** Tasks followed here now. */
  get size(): number {
    return this.running.size;
  }

  /** Follows `task` in the background with `follow` (which resolves with the result). */
  start(task: Pick<TaskRecord, 'id' | 'tenantId' | 'tool'>, follow: (hooks: FollowHooks) => Promise<Record<string, unknown>>): void {
    const { store } = this;
    const taskId = task.id;
    const controller = new AbortController();
    const watch = setInterval(() => {
      void store.get(taskId).then(
        (t) => {
          if (!t || TERMINAL.has(t.status)) controller.abort('ended');
        },
        () => undefined,
      );
    }, WATCH_MS);
    watch.unref();
    let asked = 0;
    const hooks: FollowHooks = {
      signal: controller.signal,
      // The upstream's own key when it names the question (input-keys.ts), else the n-th of this task.
      ask: (request) => awaitTaskInput(store, taskId, inputKeyHint(request.params) ?? `input-${++asked}`, { method: request.method, params: withoutInputKeyHint(request.params) }, controller.signal, this.opts.inputPollMs ?? 200),
      onprogress: (p) => void store.transition(taskId, { statusMessage: p.message ?? `progress ${p.progress}${p.total ? ` of ${p.total}` : ''}` }).catch(() => undefined),
    };
    const settle = async (): Promise<void> => {
      try {
        const result = await this.resultFilter(await follow(hooks), task);
        await store.transition(taskId, { status: 'completed', statusMessage: null, result });
      } catch (err) {
        // Cancelled or expired: the record already says so (and the upstream task was cancelled).
        if (controller.signal.aborted && controller.signal.reason === 'ended') return;
        const shutdown = controller.signal.aborted && controller.signal.reason === 'shutdown';
        const e = err as { code?: unknown; message?: unknown; data?: unknown };
        const error = shutdown
          ? { code: -32603, message: 'the gateway replica following the upstream task stopped; call the tool again' }
          : { code: typeof e.code === 'number' ? e.code : -32603, message: String(e.message ?? err), ...(e.data !== undefined && { data: e.data }) };
        await store.transition(taskId, { status: 'failed', statusMessage: error.message, error });
        this.opts.logger?.info({ taskId, error: error.message }, 'followed upstream task failed');
      }
    };
    const done = settle()
      .catch((err: unknown) => this.opts.logger?.warn({ err, taskId }, 'followed upstream task: could not record the outcome'))
      .finally(() => {
        clearInterval(watch);
        this.running.delete(taskId);
      });
    this.running.set(taskId, { controller, done });
  }

  /** Shutdown: every followed task fails (its upstream task is cancelled); resolves once recorded. */
  async close(): Promise<void> {
    const all = [...this.running.values()];
    for (const { controller } of all) controller.abort('shutdown');
    await Promise.allSettled(all.map((r) => r.done));
  }
}
