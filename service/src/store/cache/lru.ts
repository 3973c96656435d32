/**
 * A small in-process LRU with a per-entry expiry: a Map keeps insertion order, and a hit re-inserts the
 * entry so the oldest one is first to go.
 */

/** Bounded, expiring, least-recently-used map. */
export class Lru<V> {
  private readonly map = new Map<string, { value: V; expires: number }>();

  constructor(readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be an integer >= 1, got ${maxEntries}`);
  }

  /** The live value, or undefined (missing or expired). */
  get(key: string): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    this.map.delete(key);
    if (e.expires <= Date.now()) return undefined;
    this.map.set(key, e);
    return e.value;
  }

  /** Stores `value` for `ttlMs`, evicting the least recently used entry when full. */
  set(key: string, value: V, ttlMs: number): void {
    this.map.delete(key);
    this.map.set(key, { value, expires: Date.now() + ttlMs });
    while (this.map.size > this.maxEntries) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
    }
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  /** Deletes every key starting with `prefix`. */
  deletePrefix(prefix: string): void {
    for (const k of this.map.keys()) if (k.startsWith(prefix)) this.map.delete(k);
  }

  clear(): void {
    this.map.clear();
  }

  get size(): number {
    return this.map.size;
  }
}
