/**
 * Admin API routes of the routing layer, mounted under /admin/v1 like the other extension routes
 * (structurally an `AdminRoute`; declared here so the store layer imports nothing above it):
 *
 *   GET  /shards                  -> {shards: [{id, region, writerUrl, readerUrls, accepting, tenants}]}
 *   GET  /tenants/:t/shard        -> {placement: {tenantId, shardId, state, epoch}}
 *   POST /tenants/:t/move         {toShard} -> {move: MoveTenantResult}
 *
 * Shard URLs never carry passwords (the map stores none). A refused or failed move answers 409 with
 * the reason; the tenant then stays where it was.
 */
import { z } from 'zod';
import type { Tenant } from '../../ports.js';
import { ShardNotFoundError, TenantMoveError } from './errors.js';
import type { PgDataLayer } from './data-layer.js';
import { moveTenant } from './tenant-move.js';
import type { TenantTable } from './table-sync.js';

/** The parts of the admin API's route context these routes use. */
export interface ShardAdminContext {
  readonly request: Request;
  readonly segments: readonly string[];
  tenantOf(ref: string): Promise<Tenant>;
  body<T extends z.ZodType>(request: Request, schema: T): Promise<z.output<T>>;
  audit(entry: { tenantId: string | null; action: string; target?: string; detail?: Record<string, unknown> }): Promise<void>;
}

const MoveBody = z.object({ toShard: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'a shard id') });

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
const fail = (status: number, code: string, message: string) => json(status, { error: { code, message } });

/** The routing layer's admin routes; `tables` are the tenant-scoped tables a move copies. */
export function shardAdminRoute(
  layer: Pick<PgDataLayer, 'router' | 'shardMap'>,
  tables: readonly TenantTable[],
  onMoved?: (tenantId: string, toShard: string) => Promise<void> | void,
) {
  return async (ctx: ShardAdminContext): Promise<Response | undefined> => {
    const [a, t, sub, ...rest] = ctx.segments;
    const method = ctx.request.method;
    if (a === 'shards' && t === undefined) {
      if (method !== 'GET') return fail(405, 'method_not_allowed', 'use GET /shards');
      const [shards, load] = [await layer.shardMap.listShards(), await layer.shardMap.load()];
      return json(200, { shards: shards.map((s) => ({ ...s, tenants: load[s.id] ?? 0 })) });
    }
    if (a !== 'tenants' || t === undefined || (sub !== 'shard' && sub !== 'move') || rest.length) return undefined;
    const tenant = await ctx.tenantOf(t);
    if (sub === 'shard') {
      if (method !== 'GET') return fail(405, 'method_not_allowed', 'use GET /tenants/:tenant/shard');
      return json(200, { placement: await layer.shardMap.place(tenant.id, { region: tenant.homeRegion }) });
    }
    if (method !== 'POST') return fail(405, 'method_not_allowed', 'use POST /tenants/:tenant/move');
    const { toShard } = await ctx.body(ctx.request, MoveBody);
    await layer.shardMap.place(tenant.id, { region: tenant.homeRegion });
    try {
      const move = await moveTenant({ router: layer.router, tenantId: tenant.id, toShard, tables, onSwitched: onMoved });
      await ctx.audit({
        tenantId: tenant.id,
        action: 'tenant.move',
        target: toShard,
        detail: { from: move.from, freezeMs: move.freezeMs, totalMs: move.totalMs, rows: move.rows },
      });
      return json(200, { move });
    } catch (err) {
      if (err instanceof ShardNotFoundError) return fail(404, 'not_found', err.message);
      if (err instanceof TenantMoveError) {
        await ctx.audit({ tenantId: tenant.id, action: 'tenant.move', target: toShard, detail: { error: err.message } });
        return fail(409, 'move_refused', err.message);
      }
      throw err;
    }
  };
}
