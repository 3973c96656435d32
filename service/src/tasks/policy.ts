/**
 * Which tools run as tasks and how their jobs retry. Built-in task-capable tools are listed here;
 * upstream tools are task-capable when their registration names them in `longRunning` (issue 6).
 */
import type { TasksConfig } from './config.js';

/** Retry and timeout policy of one tool's jobs. */
export interface ToolPolicy {
  /** `optional`: a task when the client supports tasks, else a plain call; `required`: tasks only. */
  readonly taskSupport: 'optional' | 'required';
  /** Attempts before the job moves to the dead-letter queue. */
  readonly attempts: number;
  /** First retry delay, ms; doubles per attempt, with jitter. */
  readonly backoffMs: number;
  /** Longest one attempt may run, ms. */
  readonly timeoutMs: number;
  /**
   * Which outcomes retry: `errors` = thrown errors (protocol errors, timeouts, lost upstreams) only; a
   * tool result with `isError` is the tool's answer and completes the task. `errors-and-tool-errors`
   * also retries `isError` results (tools whose errors are transient by nature).
   */
  readonly retryOn: 'errors' | 'errors-and-tool-errors';
  /** JSON-RPC error codes that never retry (bad input does not get better). */
  readonly permanentCodes: readonly number[];
  /**
   * A 2025-era upstream's own task tool: for a 2026-07-28 caller the upstream task is created in the
   * request and the worker follows it; for a 2025-era caller the worker makes the whole call.
   */
  readonly upstreamOwned?: boolean;
}

type Override = Partial<ToolPolicy>;

/** Built-in task-capable tools and their deviations from the configured defaults. */
const BUILTIN: Readonly<Record<string, Override>> = {
  'diagnostics.sleep': {},
  'diagnostics.stream': {},
  'diagnostics.fail': { retryOn: 'errors-and-tool-errors' },
  // Conformance fixtures (tasks extension scenarios): deterministic, so one attempt.
  slow_compute: { attempts: 1 },
  failing_job: { attempts: 1, taskSupport: 'required' },
  protocol_error_job: { attempts: 1 },
  confirm_delete: { attempts: 1 },
  multi_input: { attempts: 1 },
  test_tool_with_task: { attempts: 1, taskSupport: 'required' },
};

/** -32602 invalid params, -32601 unknown tool/method: retrying cannot help. */
const PERMANENT = [-32602, -32601, -32600];

/** Resolves tool policies against the configured defaults. */
export class PolicyTable {
  constructor(private readonly config: Pick<TasksConfig, 'TASK_MAX_ATTEMPTS' | 'TASK_BACKOFF_MS' | 'TASK_JOB_TIMEOUT_MS'>) {}

  private build(o: Override): ToolPolicy {
    return {
      taskSupport: o.taskSupport ?? 'optional',
      attempts: o.attempts ?? this.config.TASK_MAX_ATTEMPTS,
      backoffMs: o.backoffMs ?? this.config.TASK_BACKOFF_MS,
      timeoutMs: o.timeoutMs ?? this.config.TASK_JOB_TIMEOUT_MS,
      retryOn: o.retryOn ?? 'errors',
      permanentCodes: o.permanentCodes ?? PERMANENT,
    };
  }

  /** The policy of a built-in tool, or undefined when it does not run as a task. */
  builtin(tool: string): ToolPolicy | undefined {
    const o = BUILTIN[tool];
    return o ? this.build(o) : undefined;
  }

  /** A 2025-era upstream's task-capable tool: the upstream retries (if at all), so one attempt here. */
  forUpstreamTask(taskSupport: 'optional' | 'required'): ToolPolicy {
    return { ...this.build({ taskSupport, attempts: 1 }), upstreamOwned: true };
  }

  /** The policy of any tool: built-in table, else (upstream `longRunning` tools) the defaults. */
  forTool(tool: string): ToolPolicy {
    return this.build(BUILTIN[tool] ?? {});
  }
}
