/**
 * Errors of the routing layer (pools, replicas, shards, moves). Matched by `instanceof`, never by message.
 * Messages name the shard and role so an operator can tell which database is the problem.
 */

/** No pooled connection became free (or could be opened) within the acquire timeout. Retryable. */
export class PoolAcquireTimeoutError extends Error {
  constructor(
    readonly shard: string,
    readonly role: string,
    readonly timeoutMs: number,
    readonly stats: { total: number; idle: number; waiting: number },
    options?: { cause?: unknown },
  ) {
    super(
      `shard ${shard} ${role} pool: no connection within ${timeoutMs} ms ` +
        `(${stats.total} open, ${stats.idle} idle, ${stats.waiting} waiting); raise the pool size or find the slow queries`,
      options,
    );
    this.name = 'PoolAcquireTimeoutError';
  }
}

/** The server cancelled a statement after the statement (or lock) timeout. */
export class StatementTimeoutError extends Error {
  constructor(
    readonly shard: string,
    readonly role: string,
    readonly timeoutMs: number,
    options?: { cause?: unknown },
  ) {
    super(`shard ${shard} ${role}: statement cancelled after the ${timeoutMs} ms statement/lock timeout`, options);
    this.name = 'StatementTimeoutError';
  }
}

/** A tenant-scoped query reached a shard the tenant has moved away from; the router retries on `movedTo`. */
export class TenantMovedError extends Error {
  constructor(
    readonly tenantId: string,
    readonly fromShard: string,
    readonly movedTo: string,
  ) {
    super(`tenant ${tenantId} has moved from shard ${fromShard} to ${movedTo}`);
    this.name = 'TenantMovedError';
  }
}

/** The shard map has no such shard, or no shard can take a new tenant. */
export class ShardNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShardNotFoundError';
  }
}

/** A tenant move was refused or aborted; the tenant stays (or is put back) on its source shard. */
export class TenantMoveError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TenantMoveError';
  }
}
