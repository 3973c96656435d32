/**
 * Copies one tenant's rows of one table from a source to a target database by row diff: rows are
 * compared by key and md5 of their jsonb form; changed/new rows are upserted, rows gone on the source are
 * deleted on the target. Values travel as jsonb text, so timestamps, numerics and bytea keep full precision.
 */
import { z } from 'zod';
import { TenantMoveError } from './errors.js';
import type { Queryable } from './role-pool.js';

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/** A tenant-scoped table: its tenant column and primary key columns (keys must be unique across shards). */
export const TenantTable = z.object({
  name: z.string().regex(IDENT, 'a lowercase SQL identifier'),
  tenantColumn: z.string().regex(IDENT, 'a lowercase SQL identifier'),
  key: z.array(z.string().regex(IDENT, 'a lowercase SQL identifier')).min(1),
});
/** A tenant-scoped table description. */
export type TenantTable = z.infer<typeof TenantTable>;

const id = (s: string) => `"${s}"`;
const keyExpr = (t: TenantTable) => `jsonb_build_array(${t.key.map(id).join(', ')})::text`;
const rowHash = 'md5(to_jsonb(t)::text)';

/** Makes jsonb output independent of each server's TimeZone setting. */
export async function utc(q: Queryable): Promise<void> {
  await q.query(`SET LOCAL TimeZone = 'UTC'`);
}

async function hashes(q: Queryable, t: TenantTable, tenantId: string): Promise<Map<string, string>> {
  const { rows } = await q.query<{ k: string; h: string }>(`SELECT ${keyExpr(t)} AS k, ${rowHash} AS h FROM ${id(t.name)} t WHERE ${id(t.tenantColumn)} = $1`, [
    tenantId,
  ]);
  return new Map(rows.map((r) => [r.k, r.h]));
}

/**
 * Makes the target's rows of the tenant equal to the source's. Both Queryables should run with `utc()`.
 * Returns how many rows were written or deleted on the target.
 */
export async function syncTenantTable(src: Queryable, dst: Queryable, t: TenantTable, tenantId: string, batchSize = 500): Promise<number> {
  const [s, d] = await Promise.all([hashes(src, t, tenantId), hashes(dst, t, tenantId)]);
  const changed = [...s].filter(([k, h]) => d.get(k) !== h).map(([k]) => k);
  const gone = [...d.keys()].filter((k) => !s.has(k));
  const { rows: cols } = await dst.query<{ c: string }>(
    `SELECT column_name AS c FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER' ORDER BY ordinal_position`,
    [t.name],
  );
  const updatable = cols.map((c) => c.c).filter((c) => !t.key.includes(c));
  const onConflict = updatable.length
    ? `DO UPDATE SET ${updatable.map((c) => `${id(c)} = EXCLUDED.${id(c)}`).join(', ')} WHERE ${id(t.name)}.${id(t.tenantColumn)} = EXCLUDED.${id(t.tenantColumn)}`
    : 'DO NOTHING';
  // Deletes first: a row replaced under a new key (e.g. an upstream removed and registered again under
  // the same namespace) would otherwise collide with its old copy on a secondary unique constraint.
  for (let i = 0; i < gone.length; i += batchSize) {
    await dst.query(`DELETE FROM ${id(t.name)} WHERE ${id(t.tenantColumn)} = $1 AND ${keyExpr(t)} = ANY($2::text[])`, [tenantId, gone.slice(i, i + batchSize)]);
  }
  for (let i = 0; i < changed.length; i += batchSize) {
    const keys = changed.slice(i, i + batchSize);
    const { rows } = await src.query<{ j: string | null; n: number }>(
      `SELECT json_agg(t)::text AS j, count(*)::int AS n FROM ${id(t.name)} t WHERE ${id(t.tenantColumn)} = $1 AND ${keyExpr(t)} = ANY($2::text[])`,
      [tenantId, keys],
    );
    const batch = rows[0];
    if (!batch?.j) continue; // deleted on the source meanwhile; the next pass removes them
    const res = await dst.query(
      `INSERT INTO ${id(t.name)} OVERRIDING SYSTEM VALUE SELECT * FROM jsonb_populate_recordset(NULL::${id(t.name)}, $1::jsonb)
       ON CONFLICT (${t.key.map(id).join(', ')}) ${onConflict}`,
      [batch.j],
    );
    if (res.rowCount !== batch.n && updatable.length) {
      throw new TenantMoveError(
        `table ${t.name}: ${batch.n - (res.rowCount ?? 0)} row key(s) of tenant ${tenantId} already belong to another tenant on the target shard; keys of tenant-scoped tables must be unique across shards`,
      );
    }
  }
  return changed.length + gone.length;
}

/** Row count and an order-independent digest of the tenant's rows of one table. */
export async function tableDigest(q: Queryable, t: TenantTable, tenantId: string): Promise<{ rows: number; digest: string }> {
  const { rows } = await q.query<{ n: number; h: string }>(
    `SELECT count(*)::int AS n, coalesce(md5(string_agg(${rowHash}, '' ORDER BY ${rowHash})), '') AS h
     FROM ${id(t.name)} t WHERE ${id(t.tenantColumn)} = $1`,
    [tenantId],
  );
  return { rows: rows[0]?.n ?? 0, digest: rows[0]?.h ?? '' };
}

/** Deletes the tenant's rows of one table. */
export async function deleteTenantRows(q: Queryable, t: TenantTable, tenantId: string): Promise<number> {
  const res = await q.query(`DELETE FROM ${id(t.name)} WHERE ${id(t.tenantColumn)} = $1`, [tenantId]);
  return res.rowCount ?? 0;
}
