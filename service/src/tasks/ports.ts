/**
 * What the task layer needs from the federation layer, in its own terms. tasks/ and gateway/ do not import
 * each other: gateway/ implements these shapes (RemoteTasks, the directory and catalog reads) and the
 * platform core (service/src/platform/) wires them in.
 */
import type { ServerContext } from '@modelcontextprotocol/server';
import type { Principal } from '../domain/principal.js';
import type { LegacyTaskSpec } from '../protocol/upstream-task-meta.js';

/** Tasks that live on an upstream (federation): the 2026-07-28 tasks/* requests about them are forwarded. */
export interface RemoteTaskPort {
  owns(taskId: string): boolean;
  get(principal: Principal, taskId: string, ctx: ServerContext): Promise<Record<string, unknown>>;
  update(principal: Principal, taskId: string, inputResponses: Record<string, unknown>, ctx: ServerContext): Promise<Record<string, unknown>>;
  cancel(principal: Principal, taskId: string, ctx: ServerContext): Promise<Record<string, unknown>>;
}

/** Upstream registrations as far as tasks care: namespace and `longRunning` tool names. */
export type UpstreamLongRunning = (tenantId: string) => Promise<readonly { namespace: string; root: boolean; longRunning: readonly string[] }[]>;

/** `execution.taskSupport` a 2025-era upstream declares for one of its tools (by exposed name). */
export type UpstreamTaskSupport = (tenantId: string, tool: string) => Promise<'optional' | 'required' | undefined>;

/** A 2025-era upstream's own task: its upstream, its id there, and the upstream session that created it. */
export type FollowSpec = LegacyTaskSpec;

/** How a followed upstream task reports to the gateway task that mirrors it. */
export interface FollowHooks {
  readonly signal: AbortSignal;
  /** A question of the upstream task; resolves with the answer. */
  ask(request: { method: string; params: Record<string, unknown> }): Promise<unknown>;
  onprogress?(p: { progress: number; total?: number; message?: string }): void;
}

/**
 * Follows an upstream's own task to its end (RemoteTasks.followLegacy, with large results offloaded):
 * resolves with its result, rejects with its error. Aborting with the reason `shutdown` leaves it running.
 */
export type UpstreamTaskFollower = (principal: Principal, task: { tool: string; follow: FollowSpec }, hooks: FollowHooks) => Promise<Record<string, unknown>>;
