/**
 * Read-your-writes bookkeeping: the WAL position (LSN) of the last write per consistency key (a tenant or
 * a session, per shard). A read for that key may use a replica only once the replica has replayed it.
 * The Redis tracker shares positions between gateway instances (a write on one, a read on another); the
 * memory tracker is for the single-process default.
 */
import type { Redis } from 'ioredis';

/** Parses a pg_lsn text (`16/B374D848`) into a comparable number. */
export function parseLsn(text: string): bigint {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text.trim());
  if (!m) throw new Error(`not a pg_lsn: ${JSON.stringify(text)}`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

/** Formats a number from parseLsn back into pg_lsn text. */
export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** Where the last writes of each key are; keys already include the shard. */
export interface LsnTracker {
  /** Records `lsn` for every key, keeping the highest one seen. */
  note(keys: readonly string[], lsn: bigint): Promise<void>;
  /** The highest pending LSN over `keys`, or null when none wrote recently. */
  pending(keys: readonly string[]): Promise<bigint | null>;
}

/** In-process tracker; entries expire after `ttlMs` (by then any healthy replica has caught up). */
export class MemoryLsnTracker implements LsnTracker {
  private readonly entries = new Map<string, { lsn: bigint; expires: number }>();
  constructor(private readonly ttlMs = 30_000) {}

  async note(keys: readonly string[], lsn: bigint): Promise<void> {
    const expires = Date.now() + this.ttlMs;
    for (const k of keys) {
      const cur = this.entries.get(k);
      this.entries.set(k, { lsn: cur && cur.lsn > lsn ? cur.lsn : lsn, expires });
    }
    if (this.entries.size > 100_000) this.sweep();
  }

  async pending(keys: readonly string[]): Promise<bigint | null> {
    const now = Date.now();
    let max: bigint | null = null;
    for (const k of keys) {
      const e = this.entries.get(k);
      if (!e) continue;
      if (e.expires <= now) {
        this.entries.delete(k);
        continue;
      }
      if (max === null || e.lsn > max) max = e.lsn;
    }
    return max;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [k, e] of this.entries) if (e.expires <= now) this.entries.delete(k);
  }
}

// Keeps the maximum: LSNs are fixed-width hex here, so string comparison equals numeric comparison.
const SET_MAX = `
local cur = redis.call('GET', KEYS[1])
if (not cur) or cur < ARGV[1] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`;

/** Shared tracker in the state Redis: `<prefix>lsn:<key>` holds the LSN as 16 hex digits. */
export class RedisLsnTracker implements LsnTracker {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'umcp:',
    private readonly ttlMs = 30_000,
  ) {}

  async note(keys: readonly string[], lsn: bigint): Promise<void> {
    const hex = lsn.toString(16).padStart(16, '0');
    const p = this.redis.pipeline();
    for (const k of keys) p.eval(SET_MAX, 1, `${this.prefix}lsn:${k}`, hex, String(this.ttlMs));
    const res = await p.exec();
    const failed = res?.find(([err]) => err);
    if (failed) throw failed[0];
  }

  async pending(keys: readonly string[]): Promise<bigint | null> {
    if (keys.length === 0) return null;
    const values = await this.redis.mget(...keys.map((k) => `${this.prefix}lsn:${k}`));
    let max: bigint | null = null;
    for (const v of values) {
      if (!v) continue;
      const n = BigInt(`0x${v}`);
      if (max === null || n > max) max = n;
    }
    return max;
  }
}
