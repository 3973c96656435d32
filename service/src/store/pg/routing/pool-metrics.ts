/**
 * Pool gauges (open, idle, waiting connections) and replication lag, labelled by shard and role, read at
 * scrape time from every registered pool. One instance per prom-client Registry.
 */
import { Gauge, type Registry } from 'prom-client';
import { METRICS } from '../../../../../contract/index.js';
import type { RolePool } from './role-pool.js';

/** Holds the pools and replica lags to report; register pools as shards are opened. */
export class PoolMetrics {
  private readonly pools = new Set<RolePool>();
  private readonly lags = new Map<string, number>();
  private static readonly byRegistry = new WeakMap<Registry, PoolMetrics>();

  /** The one PoolMetrics of `registry` (gauges are registered once per registry). */
  static for(registry: Registry): PoolMetrics {
    let m = PoolMetrics.byRegistry.get(registry);
    if (!m) {
      m = new PoolMetrics(registry);
      PoolMetrics.byRegistry.set(registry, m);
    }
    return m;
  }

  private constructor(registry: Registry) {
    const pools = this.pools;
    const gauge = (name: string, help: string, read: (p: RolePool) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['shard', 'role'],
        registers: [registry],
        collect() {
          this.reset();
          for (const p of pools) this.inc({ shard: p.shard, role: p.role }, read(p));
        },
      });
    gauge(METRICS.pgPoolTotal, 'PostgreSQL pool connections (open)', (p) => p.stats().total);
    gauge(METRICS.pgPoolIdle, 'PostgreSQL pool connections (idle)', (p) => p.stats().idle);
    gauge(METRICS.pgPoolWaiting, 'Queries waiting for a PostgreSQL connection', (p) => p.stats().waiting);
    const lags = this.lags;
    new Gauge({
      name: METRICS.replicationLag,
      help: 'Replay lag of each read replica in seconds (0 when it has replayed everything it received)',
      labelNames: ['shard', 'replica'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [k, v] of lags) {
          const [shard, replica] = k.split('\u0000') as [string, string];
          this.set({ shard, replica }, v);
        }
      },
    });
  }

  /** Starts reporting `pool`. */
  add(pool: RolePool): void {
    this.pools.add(pool);
  }

  /** Stops reporting `pool` (after close). */
  remove(pool: RolePool): void {
    this.pools.delete(pool);
  }

  /** Records the last measured lag of replica `replica` (its index) of `shard`. */
  setLag(shard: string, replica: string, seconds: number): void {
    this.lags.set(`${shard}\u0000${replica}`, seconds);
  }
}
