/**
 * `_meta` keys and extension ids the service reads or writes on the wire, in one place.
 *
 * - `io.modelcontextprotocol/*`: keys the MCP specification (2026-07-28 request envelope, SEP-2663)
 *   defines; the service reads and forwards them.
 * - `umcp.dev/*`: the platform's own keys. Some travel between the gateway's layers inside one process
 *   (the router hands a task to the task layer), some between processes (a 2025-era session naming its
 *   questions); peers that do not know them ignore them, as `_meta` allows.
 *
 * Pure constants: no I/O, no imports. Both protocol generations use the same keys.
 */

/** The caller's client capabilities in a 2026-07-28 request envelope. */
export const CLIENT_CAPABILITIES_META = 'io.modelcontextprotocol/clientCapabilities';
/** The caller's idempotency key of a `tools/call` (forwarded to upstreams; dedupes task creation). */
export const IDEMPOTENCY_KEY_META = 'io.modelcontextprotocol/idempotency-key';
/** The log level a 2026-07-28 request asks for. */
export const LOG_LEVEL_META = 'io.modelcontextprotocol/logLevel';
/** The tasks extension id (SEP-2663): in `capabilities.extensions` and in `requiredCapabilities` of -32021. */
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

/** A server-to-client request (2025-era session) naming its `inputRequests` key (protocol/input-keys.ts). */
export const INPUT_KEY_META = 'umcp.dev/input-key';
/** A lifted upstream task traveling inside the gateway (protocol/upstream-task-meta.ts). */
export const UPSTREAM_TASK_META = 'umcp.dev/upstream-task';
/** Set by the worker on the calls it makes for a task (the router may then run it as an upstream task). */
export const TASK_RUN_META = 'umcp.dev/task-run';
/**
 * Set by the task layer on a 2026-07-28 caller's call of a 2025-era upstream's task tool: the router makes
 * it task-augmented upstream and hands back the upstream's task (with {@link UPSTREAM_NAMESPACE_META}
 * and {@link UPSTREAM_SESSION_META}) for the gateway to follow.
 */
export const TASK_CREATE_META = 'umcp.dev/task-create';
/** A lifted 2025-era upstream task: the namespace of the upstream that owns it. */
export const UPSTREAM_NAMESPACE_META = 'umcp.dev/upstream-namespace';
/** A lifted 2025-era upstream task: the upstream session that created it. */
export const UPSTREAM_SESSION_META = 'umcp.dev/upstream-session';
/**
 * A 2025-11-25 CreateTaskResult (`{task}`) on its way out of a `tools/call`: the SDK validates tools/call
 * results as CallToolResults, so the task stage answers a complete result carrying the task under this key
 * and the 2025-era session transport sends the CreateTaskResult itself (protocol/task-answer.ts).
 */
export const TASK_ANSWER_META = 'umcp.dev/task-answer';
