/**
 * Admin API of the dead-letter queue, mounted by service/src/http/admin.ts under /admin/v1:
 *
 *   GET    /dlq[?tenant=&tool=]          -> {deadLetters}
 *   GET    /dlq/:taskId                  -> {deadLetter, task}
 *   POST   /dlq/replay {taskId? | all? | tenant?, tool?} -> {replayed: [taskId]}
 *   POST   /dlq/purge  {taskId? | all? | tenant?, tool?} -> {purged: [taskId]}
 *
 * Replay reopens the task under its id and re-enqueues the job, so the client polling that id sees it
 * complete. A replay or purge needs a selector (`taskId`, `all: true`, or a filter) so an empty body
 * never touches everything.
 *
 * And the task redrive (issue 19; PostgreSQL is the system of record, a queue is transport):
 *
 *   POST   /tasks/redrive {region?, olderThan?}  -> {redriven: [taskId], skipped}
 *
 * re-enqueues every accepted, unfinished task whose job is missing from the queue (`olderThan`: a
 * duration such as `90s`, `5m`, `2h`, `1d`, or ms; default 1m, so jobs being enqueued right now are left be).
 *
 * Structurally an `AdminRoute` (service/src/gateway/admin-routes.ts); the context is declared here so the
 * task layer imports nothing from the gateway layer.
 */
import { z } from 'zod';
import { parseDuration } from './duration.js';
import type { DeadLetterFilter } from './task-queue.js';
import type { TaskService } from './task-service.js';

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
const fail = (status: number, code: string, message: string) => json(status, { error: { code, message } });

const Selector = z
  .object({
    taskId: z.string().min(1).max(200).optional(),
    all: z.boolean().optional(),
    tenant: z.string().min(1).max(200).optional(),
    tool: z.string().min(1).max(300).optional(),
  })
  .strict()
  .refine((s) => s.taskId || s.all || s.tenant || s.tool, 'name a taskId, a filter (tenant, tool) or all: true');

/** The parts of the admin API's route context these routes use. */
export interface DlqAdminContext {
  readonly request: Request;
  /** Path segments after /admin/v1. */
  readonly segments: readonly string[];
  /** Resolves a tenant by id or name; throws NotFoundError. */
  tenantOf(ref: string): Promise<{ readonly id: string }>;
  /** Reads and validates the JSON body; throws the admin API's 400 error. */
  body<T extends z.ZodType>(request: Request, schema: T): Promise<z.output<T>>;
  /** Records an admin action in the audit log. */
  audit(entry: { tenantId: string | null; action: string; target?: string; detail?: Record<string, unknown> }): Promise<void>;
}

/** The DLQ admin routes. */
export function dlqAdminRoute(service: TaskService): (ctx: DlqAdminContext) => Promise<Response | undefined> {
  return async (ctx) => {
    const [root, id, ...rest] = ctx.segments;
    if (root !== 'dlq' || rest.length) return undefined;
    const method = ctx.request.method;
    const filterOf = async (s: { taskId?: string | undefined; tenant?: string | undefined; tool?: string | undefined }): Promise<DeadLetterFilter> => ({
      ...(s.taskId && { taskId: s.taskId }),
      ...(s.tenant && { tenantId: (await ctx.tenantOf(s.tenant)).id }),
      ...(s.tool && { tool: s.tool }),
    });
    if (id === undefined) {
      if (method !== 'GET') return fail(405, 'method_not_allowed', 'use GET /dlq');
      const q = new URL(ctx.request.url).searchParams;
      const filter = await filterOf({ tenant: q.get('tenant') ?? undefined, tool: q.get('tool') ?? undefined });
      return json(200, { deadLetters: await service.queue.listDead(filter) });
    }
    if (id === 'replay' || id === 'purge') {
      if (method !== 'POST') return fail(405, 'method_not_allowed', `use POST /dlq/${id}`);
      const sel = await ctx.body(ctx.request, Selector);
      const filter = await filterOf(sel);
      if (id === 'purge') {
        const purged = await service.queue.purge(filter);
        await ctx.audit({ tenantId: filter.tenantId ?? null, action: 'dlq.purge', detail: { count: purged.length } });
        return json(200, { purged });
      }
      const replayed: string[] = [];
      for (const letter of await service.queue.listDead(filter, Number.MAX_SAFE_INTEGER)) {
        if (await service.replay(letter.taskId)) replayed.push(letter.taskId);
      }
      if (sel.taskId && replayed.length === 0) return fail(404, 'not_found', `no dead letter for task ${sel.taskId}`);
      await ctx.audit({ tenantId: filter.tenantId ?? null, action: 'dlq.replay', detail: { count: replayed.length } });
      return json(200, { replayed });
    }
    if (method !== 'GET') return fail(405, 'method_not_allowed', 'use GET /dlq/:taskId');
    const deadLetter = await service.queue.getDead(id);
    if (!deadLetter) return fail(404, 'not_found', `no dead letter for task ${id}`);
    return json(200, { deadLetter, task: await service.store.getFresh(id) });
  };
}

const Redrive = z
  .object({
    region: z
      .string()
      .regex(/^[a-z0-9-]{1,64}$/, 'a region name such as eu-west-1')
      .optional(),
    olderThan: z
      .union([z.number().int().min(0), z.string()])
      .optional()
      .transform((v, ctx) => {
        if (v === undefined) return 60_000;
        if (typeof v === 'number') return v;
        const ms = parseDuration(v);
        if (ms === undefined) {
          ctx.addIssue({ code: 'custom', message: `olderThan: expected a duration such as 90s, 5m, 2h or 1d (got ${JSON.stringify(v)})` });
          return z.NEVER;
        }
        return ms;
      }),
  })
  .strict();

/** POST /tasks/redrive. */
export function taskRedriveAdminRoute(service: TaskService): (ctx: DlqAdminContext) => Promise<Response | undefined> {
  return async (ctx) => {
    const [root, verb, ...rest] = ctx.segments;
    if (root !== 'tasks' || verb !== 'redrive' || rest.length) return undefined;
    if (ctx.request.method !== 'POST') return fail(405, 'method_not_allowed', 'use POST /tasks/redrive');
    const sel = await ctx.body(ctx.request, Redrive);
    const result = await service.redrive({ olderThanMs: sel.olderThan, ...(sel.region && { region: sel.region }) });
    await ctx.audit({
      tenantId: null,
      action: 'tasks.redrive',
      detail: { count: result.redriven.length, skipped: result.skipped, olderThanMs: sel.olderThan, ...(sel.region && { region: sel.region }) },
    });
    return json(200, result);
  };
}
