/**
 * `tenants move <tenant> --to <shard>`: copy, catch up, brief write freeze, switch, verify.
 *
 * 1. mark the placement `moving` (one move per tenant at a time);
 * 2. copy the tenant's rows of every tenant-scoped table to the target, then repeat diff passes while
 *    writes continue, until a pass changes few rows;
 * 3. freeze: take the tenant's advisory lock exclusively on the source (writers hold it shared, so new
 *    writes wait and in-flight ones finish first), run a last diff pass and compare digests of every table;
 * 4. switch: clear any old fence of the tenant on the target, fence the tenant on the source (commit ends
 *    the freeze; waiting writers see the fence and retry on the target), then point the control map at the
 *    target;
 * 5. verify the router resolves the tenant to the target, then purge the source rows (the fence stays).
 * On an error before the switch nothing changes for the tenant: the freeze is rolled back, partial copies
 * on the target are removed and the placement goes back to `active` on the source.
 */
import { TenantMoveError } from './errors.js';
import type { Queryable } from './role-pool.js';
import { tenantLockKey, type ShardRouter } from './shard-router.js';
import { deleteTenantRows, syncTenantTable, tableDigest, utc, TenantTable } from './table-sync.js';

/** Options of moveTenant. */
export interface MoveTenantOptions {
  readonly router: ShardRouter;
  readonly tenantId: string;
  readonly toShard: string;
  /** Every tenant-scoped table on the shards. */
  readonly tables: readonly TenantTable[];
  /** Diff passes before the freeze, at most. @defaultValue 5 */
  readonly maxCatchUpPasses?: number;
  /** Freeze once a pass changes at most this many rows. @defaultValue 100 */
  readonly catchUpThreshold?: number;
  /** Waiting for in-flight writes when freezing fails after this, ms. @defaultValue 5000 */
  readonly freezeTimeoutMs?: number;
  /** Delete the tenant's rows on the source after the switch. @defaultValue true */
  readonly purgeSource?: boolean;
  /** Called after the switch, e.g. to broadcast a shard-map invalidation to other instances. */
  readonly onSwitched?: (tenantId: string, toShard: string) => Promise<void> | void;
  readonly onProgress?: (step: string, detail: Record<string, unknown>) => void;
}

/** What a move did and how long it took. */
export interface MoveTenantResult {
  readonly tenantId: string;
  readonly from: string;
  readonly to: string;
  /** Rows of the tenant per table after the move. */
  readonly rows: Record<string, number>;
  readonly catchUpPasses: number;
  /** How long writes of the tenant were frozen, ms. */
  readonly freezeMs: number;
  readonly totalMs: number;
  /** Rows deleted on the source after the switch. */
  readonly purged: number;
}

/** Moves a tenant's data to another shard without losing writes made during the move. */
export async function moveTenant(opts: MoveTenantOptions): Promise<MoveTenantResult> {
  const t0 = Date.now();
  const tables = opts.tables.map((t) => TenantTable.parse(t));
  const { router, tenantId, toShard } = opts;
  const map = router.shardMap;
  const progress = opts.onProgress ?? (() => {});
  await map.shard(toShard);
  const resumed = await finishInterruptedSwitch(opts);
  if (resumed) return { tenantId, from: resumed, to: toShard, rows: {}, catchUpPasses: 0, freezeMs: 0, totalMs: Date.now() - t0, purged: 0 };

  const from = await map.control.transaction(async (q) => {
    const p = await map.readPlacement(q, tenantId, true);
    if (p.shardId === toShard) throw new TenantMoveError(`tenant ${tenantId} is already on shard ${toShard}`);
    if (p.state === 'moving') throw new TenantMoveError(`tenant ${tenantId} is already being moved; wait for that move to finish`);
    await q.query(`UPDATE umcp_tenant_shards SET state = 'moving', updated_at = now() WHERE tenant_id = $1`, [tenantId]);
    return p.shardId;
  });
  const src = (await router.forShard(from)).writer;
  const dst = (await router.forShard(toShard)).writer;
  const syncAll = (s: Queryable, d: Queryable) =>
    tables.reduce<Promise<number>>(async (acc, t) => (await acc) + (await syncTenantTable(s, d, t, tenantId)), Promise.resolve(0));
  const onTarget = <T>(fn: (d: Queryable) => Promise<T>) => dst.transaction(async (d) => (await utc(d), fn(d)));

  let switched = false;
  let freezeMs = 0;
  let passes = 0;
  const rows: Record<string, number> = {};
  try {
    for (;;) {
      const changed = await src.transaction(async (s) => (await utc(s), onTarget((d) => syncAll(s, d))), { readOnly: true });
      passes++;
      progress(passes === 1 ? 'copied' : 'caught-up', { pass: passes, changed });
      if (changed <= (opts.catchUpThreshold ?? 100) || passes >= (opts.maxCatchUpPasses ?? 5)) break;
    }

    await src.transaction(async (s) => {
      await utc(s);
      await s.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(opts.freezeTimeoutMs ?? 5_000))}`);
      await s.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [tenantLockKey(tenantId)]);
      const frozenAt = Date.now();
      progress('frozen', {});
      await onTarget(async (d) => {
        const changed = await syncAll(s, d);
        for (const t of tables) {
          const [a, b] = [await tableDigest(s, t, tenantId), await tableDigest(d, t, tenantId)];
          if (a.rows !== b.rows || a.digest !== b.digest) {
            throw new TenantMoveError(
              `verification failed for table ${t.name}: source ${a.rows} rows, target ${b.rows} rows (digests differ: ${a.digest !== b.digest})`,
            );
          }
          rows[t.name] = a.rows;
        }
        await d.query('DELETE FROM umcp_tenant_fence WHERE tenant_id = $1', [tenantId]);
        progress('verified', { changed, rows });
      });
      await s.query(
        `INSERT INTO umcp_tenant_fence (tenant_id, moved_to) VALUES ($1, $2)
         ON CONFLICT (tenant_id) DO UPDATE SET moved_to = EXCLUDED.moved_to, fenced_at = now()`,
        [tenantId, toShard],
      );
      freezeMs = Date.now() - frozenAt;
    });
    switched = true;
    progress('fenced', { freezeMs });

    await map.control.query(`UPDATE umcp_tenant_shards SET shard_id = $2, state = 'active', epoch = epoch + 1, updated_at = now() WHERE tenant_id = $1`, [
      tenantId,
      toShard,
    ]);
    map.invalidate(tenantId);
    await opts.onSwitched?.(tenantId, toShard);
    progress('switched', { from, to: toShard });
  } catch (err) {
    if (!switched) await rollBack(opts, tables, from).catch(() => {});
    throw err instanceof TenantMoveError
      ? err
      : new TenantMoveError(
          switched
            ? `tenant ${tenantId} is fenced on ${from} and served from ${toShard}, but the shard map update failed; run the move again to finish it`
            : `moving tenant ${tenantId} to ${toShard} failed; it stays on ${from}`,
          { cause: err },
        );
  }

  const resolved = await router.forTenant(tenantId);
  if (resolved.shard !== toShard) throw new TenantMoveError(`after the switch tenant ${tenantId} still resolves to shard ${resolved.shard}`);
  await router.read(tenantId, async () => undefined);
  let purged = 0;
  if (opts.purgeSource ?? true) {
    purged = await src.transaction(async (s) => {
      let n = 0;
      for (const t of tables) n += await deleteTenantRows(s, t, tenantId);
      return n;
    });
  }
  progress('done', { purged });
  return { tenantId, from, to: toShard, rows, catchUpPasses: passes, freezeMs, totalMs: Date.now() - t0, purged };
}

async function rollBack(opts: MoveTenantOptions, tables: readonly TenantTable[], from: string): Promise<void> {
  const map = opts.router.shardMap;
  const dst = (await opts.router.forShard(opts.toShard)).writer;
  await dst.transaction(async (d) => {
    for (const t of tables) await deleteTenantRows(d, t, opts.tenantId);
  });
  await map.control.query(`UPDATE umcp_tenant_shards SET state = 'active', updated_at = now() WHERE tenant_id = $1 AND shard_id = $2`, [opts.tenantId, from]);
  map.invalidate(opts.tenantId);
}

/** A previous move fenced the source but did not update the map: finish that switch. Returns the source. */
async function finishInterruptedSwitch(opts: MoveTenantOptions): Promise<string | null> {
  const map = opts.router.shardMap;
  const p = await map.control.transaction((q) => map.readPlacement(q, opts.tenantId));
  if (p.state !== 'moving') return null;
  const { rows } = await (
    await opts.router.forShard(p.shardId)
  ).writer.query<{ moved_to: string }>('SELECT moved_to FROM umcp_tenant_fence WHERE tenant_id = $1', [opts.tenantId]);
  if (rows[0]?.moved_to !== opts.toShard) return null;
  await map.control.query(`UPDATE umcp_tenant_shards SET shard_id = $2, state = 'active', epoch = epoch + 1, updated_at = now() WHERE tenant_id = $1`, [
    opts.tenantId,
    opts.toShard,
  ]);
  map.invalidate(opts.tenantId);
  await opts.onSwitched?.(opts.tenantId, opts.toShard);
  return p.shardId;
}
