/**
 * How an upstream's task travels inside the gateway: the router lifts it into a result's `_meta`
 * ({@link UPSTREAM_TASK_META}, plus namespace and session for a 2025-era upstream's task), the task layer
 * reads it back ({@link legacyUpstreamTaskOf}) and queues a {@link LegacyTaskSpec} for a worker to follow.
 * Pure data and its codec: no I/O.
 */
import { UPSTREAM_NAMESPACE_META, UPSTREAM_SESSION_META, UPSTREAM_TASK_META } from './meta-keys.js';

/**
 * A 2025-era upstream session another client may join: its id and negotiated protocol revision (a 2025-era
 * upstream binds a task to the session that created it).
 */
export interface UpstreamSession {
  readonly sessionId: string;
  readonly protocolVersion: string;
}

/** A 2025-era upstream's task the gateway follows: where it lives. */
export interface LegacyTaskSpec {
  readonly namespace: string;
  readonly taskId: string;
  /** The upstream session that created it (absent for HTTP+SSE upstreams: followed on the pooled client). */
  readonly session?: UpstreamSession;
}

/** The upstream task a lifted result carries, if any. */
export function upstreamTaskOf(result: Record<string, unknown>): Record<string, unknown> | undefined {
  const meta = result['_meta'] as Record<string, unknown> | undefined;
  const task = meta?.[UPSTREAM_TASK_META];
  return task && typeof task === 'object' ? (task as Record<string, unknown>) : undefined;
}

/** A 2025-era upstream's task handed back by the router for the gateway to follow. */
export function legacyUpstreamTaskOf(result: Record<string, unknown>): LegacyTaskSpec | undefined {
  const task = upstreamTaskOf(result);
  const meta = result['_meta'] as Record<string, unknown> | undefined;
  const namespace = meta?.[UPSTREAM_NAMESPACE_META];
  const session = meta?.[UPSTREAM_SESSION_META] as UpstreamSession | undefined;
  if (!task || typeof task['taskId'] !== 'string' || typeof namespace !== 'string') return undefined;
  return { namespace, taskId: task['taskId'], ...(session && { session }) };
}
