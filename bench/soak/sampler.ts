/**
 * Once a second: per gateway its RSS and open sockets (/proc), heap used and event-loop lag p99 (its
 * /metrics: prom-client's default metrics, whose lag histogram restarts at every scrape, so each sample
 * covers the last second); the clients connected to Redis (INFO clients) and to PostgreSQL
 * (pg_stat_activity), both without the sampler's own connection.
 */
import pg from 'pg';
import { Redis } from 'ioredis';
import { rssOf, socketsOf } from '../../test/e2e/load/http-load.js';

/** One second's figures. */
export interface Sample {
  /** Seconds since the soak started. */
  t: number;
  phase: 'baseline' | 'load' | 'after';
  gateways: { rssMb: number; heapMb: number; lagMs: number; sockets: number }[];
  redisClients: number;
  pgConnections: number;
}

/** A /proc reading of a gateway; one that is gone fails the second's sample (a gap), as a NaN would poison the maxima. */
function present(value: number, what: string, pid: number): number {
  if (Number.isNaN(value)) throw new Error(`no ${what} for process ${pid}`);
  return value;
}

async function scrape(url: string): Promise<{ heapMb: number; lagMs: number }> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(2_000) })).text();
  const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { heapMb: value('nodejs_heap_size_used_bytes') / 1048576, lagMs: value('nodejs_eventloop_lag_p99_seconds') * 1000 };
}

/** Samples every second until stop(). */
export async function startSampler(opts: {
  gateways: { pid: number; url: string }[];
  redisUrl: string;
  postgresUrl: string;
  phase: () => Sample['phase'];
  started: number;
}): Promise<{ samples: Sample[]; stop(): Promise<void> }> {
  const redis = new Redis(opts.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectionName: 'umcp-soak-sampler' });
  await redis.connect();
  const db = new pg.Client({ connectionString: opts.postgresUrl });
  await db.connect();
  const samples: Sample[] = [];
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      const gateways = await Promise.all(
        opts.gateways.map(async (g) => {
          const m = await scrape(g.url).catch(() => ({ heapMb: NaN, lagMs: NaN }));
          return {
            rssMb: present(rssOf(g.pid), 'RSS', g.pid) / 1024 / 1024,
            heapMb: m.heapMb,
            lagMs: m.lagMs,
            sockets: present(socketsOf(g.pid), 'sockets', g.pid),
          };
        }),
      );
      const info = await redis.info('clients');
      const redisClients = Number(/connected_clients:(\d+)/.exec(info)?.[1] ?? NaN) - 1;
      const { rows } = await db.query<{ n: string }>(
        "SELECT count(*)::text AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
      );
      samples.push({ t: Math.round((Date.now() - opts.started) / 100) / 10, phase: opts.phase(), gateways, redisClients, pgConnections: Number(rows[0]!.n) });
    } catch {
      // a missed second is visible as a gap; the run goes on
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), 1_000);
  return {
    samples,
    async stop() {
      clearInterval(timer);
      redis.disconnect();
      await db.end().catch(() => undefined);
    },
  };
}
