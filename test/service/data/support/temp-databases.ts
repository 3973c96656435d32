/**
 * Test helper: throwaway databases `<prefix>_<random>_<name>` (default prefix `umcp_f`) on the shared test PostgreSQL, dropped by drop().
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { provisionTestServices } from '../../../support/provision.js';

/** Created databases by name, with their URLs. */
export interface TempDatabases {
  readonly urls: Record<string, string>;
  drop(): Promise<void>;
}

/** Creates one database per name, named `<prefix>_<random>_<name>`. */
export async function createTempDatabases(names: readonly string[], prefix = 'umcp_f'): Promise<TempDatabases> {
  const { databaseUrl } = await provisionTestServices();
  const tag = randomBytes(4).toString('hex');
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  const created: string[] = [];
  const urls: Record<string, string> = {};
  try {
    for (const n of names) {
      const db = `${prefix}_${tag}_${n}`;
      await admin.query(`CREATE DATABASE ${db}`);
      created.push(db);
      const u = new URL(databaseUrl);
      u.pathname = `/${db}`;
      urls[n] = u.toString();
    }
  } finally {
    await admin.end();
  }
  return {
    urls,
    drop: async () => {
      const c = new pg.Client({ connectionString: databaseUrl });
      await c.connect();
      try {
        for (const db of created) await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
