/**
 * The task tier of one process: store, queue, service and MCP surface for gateways
 * ({@link createTaskTier}); the worker runtime lives in worker-runtime.ts.
 */
import type { McpServer } from '@modelcontextprotocol/server';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { Principal } from '../domain/principal.js';
import type { TasksConfig } from './config.js';
import { attachTasks, type TaskAttachFacts, type TaskPolicyLookup } from './mcp-tasks.js';
import type { RemoteTaskPort, UpstreamLongRunning, UpstreamTaskSupport } from './ports.js';
import { queueSnapshotReader, registerQueueGauges, type QueueSnapshot } from './metrics.js';
import { PolicyTable, type ToolPolicy } from './policy.js';
import { createTaskQueue, RunLeases } from './queues/index.js';
import { TaskService } from './task-service.js';
import { PgTaskStore } from './task-store.js';
import type { TenantDb } from '../store/pg/routing/tenant-db.js';

export { TasksConfigSchema, type TasksConfig } from './config.js';
export { dlqAdminRoute, taskRedriveAdminRoute } from './admin-routes.js';
export { TaskService } from './task-service.js';
export type { QueueSnapshot } from './metrics.js';
export type { FollowHooks, FollowSpec, RemoteTaskPort, UpstreamLongRunning, UpstreamTaskFollower, UpstreamTaskSupport } from './ports.js';

/** What the tier needs from its process. */
export interface TaskTierOptions {
  readonly config: TasksConfig & { readonly AWS_REGION?: string | undefined; readonly REGION?: string | undefined };
  readonly pool: pg.Pool;
  /** Routes each tenant's tasks to its shard (issue 8); without it they live in `pool`. */
  readonly tenantDb?: TenantDb;
  readonly stateRedis: Redis;
  readonly redisUrl: string;
  readonly keyPrefix: string;
  /** Receives the queue gauges. */
  readonly registry?: Registry;
  /** The tenant's upstreams (federation) for `longRunning` tools. */
  readonly upstreams?: UpstreamLongRunning;
  /** `execution.taskSupport` a 2025-era upstream declares for one of its tools (by exposed name). */
  readonly upstreamTaskSupport?: UpstreamTaskSupport;
}

/** The gateway-side task tier. */
export interface TaskTier {
  readonly service: TaskService;
  readonly policies: PolicyTable;
  /**
   * Installs the tasks capability and tasks/* methods on a per-request server (`protocolVersion`: the
   * 2025-era revision the session asked for; revisions before 2025-11-25 have no tasks).
   */
  attach(server: McpServer, principal: Principal, facts: TaskAttachFacts): void;
  /**
   * Whether a tool runs as a gateway task, for the tool-call pipeline's task stage. One upstream read per
   * lookup at most: take a new one per request (tools/list asks for every tool).
   */
  policyLookup(): TaskPolicyLookup;
  /** Upstream-owned tasks (federation): their tasks/* requests are forwarded there. */
  useRemote(remote: RemoteTaskPort): void;
  /** The queue's numbers from its broker (the same read the /metrics gauges use); rejects when it can't be read. */
  queueSnapshot(): Promise<QueueSnapshot>;
  close(): Promise<void>;
}

/** Pub/sub channel carrying cancelled task ids to the workers. */
export function cancelChannel(keyPrefix: string): string {
  return `${keyPrefix}tasks:cancel`;
}

/** Builds store, queue and service, and the policy lookup the MCP surface uses. */
export function createTaskTier(opts: TaskTierOptions): TaskTier {
  const policies = new PolicyTable(opts.config);
  const store = new PgTaskStore(opts.pool, opts.stateRedis, opts.keyPrefix, opts.tenantDb);
  const queue = createTaskQueue({ config: opts.config, redisUrl: opts.redisUrl, cancelChannel: cancelChannel(opts.keyPrefix) });
  // At-least-once backends: `tasks redrive` leaves alone a task whose run lease a worker holds.
  const leases = queue.exclusiveDelivery ? undefined : new RunLeases(opts.stateRedis, opts.keyPrefix, opts.config.TASK_LOCK_MS);
  const service = new TaskService(
    store,
    queue,
    policies,
    { ttlMs: opts.config.TASK_TTL_MS, pollIntervalMs: opts.config.TASK_POLL_INTERVAL_MS, ...(opts.config.REGION && { region: opts.config.REGION }) },
    leases ? (id) => leases.held(id) : undefined,
  );
  const queueSnapshot = queueSnapshotReader(queue);
  if (opts.registry) registerQueueGauges(opts.registry, queueSnapshot);

  // One upstream read per per-request server at most (tools/list asks for every tool).
  const lookupFor = (): TaskPolicyLookup => {
    let upstreamsOnce: ReturnType<UpstreamLongRunning> | undefined;
    return async (principal, tool, builtin): Promise<ToolPolicy | undefined> => {
      if (builtin) return policies.builtin(tool);
      if (!opts.upstreams) return undefined;
      const sep = tool.indexOf('__');
      const upstreams = await (upstreamsOnce ??= opts.upstreams(principal.tenantId));
      if (upstreams.length === 0) return undefined;
      const hit = upstreams.some((u) =>
        sep > 0 ? u.namespace === tool.slice(0, sep) && u.longRunning.includes(tool.slice(sep + 2)) : u.root && u.longRunning.includes(tool),
      );
      if (hit) return policies.forTool(tool);
      // The upstream runs the task itself (with its own retries): one attempt on the gateway's tier.
      const declared = await opts.upstreamTaskSupport?.(principal.tenantId, tool);
      return declared ? policies.forUpstreamTask(declared) : undefined;
    };
  };
  let remote: RemoteTaskPort | undefined;

  return {
    service,
    policies,
    attach(server, principal, facts) {
      attachTasks(server, principal, facts, service, remote);
    },
    policyLookup: lookupFor,
    useRemote(port) {
      remote = port;
    },
    queueSnapshot,
    close: () => queue.close(),
  };
}
