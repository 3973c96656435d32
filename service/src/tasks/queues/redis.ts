/**
 * Redis pieces every queue backend shares: the connection options BullMQ needs, the cancel channel
 * (gateways publish a cancelled task id, every worker hears it) and the per-task run lease that guards
 * at-least-once backends (RabbitMQ, SQS) against running one task on two workers at once.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

/** Opens a connection whose commands wait through a Redis restart instead of failing (workers need this). */
export function queueConnection(url: string, name: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: null, connectionName: name, retryStrategy: (n) => Math.min(n * 100, 2_000) });
  redis.on('error', () => undefined); // reconnects on its own; health is reported through /readyz
  return redis;
}

/** Publishes cancelled task ids on the cancel channel. */
export class CancelPublisher {
  private readonly redis: Redis;

  constructor(
    redisUrl: string,
    private readonly channel: string,
  ) {
    this.redis = queueConnection(redisUrl, 'umcp-task-cancel');
  }

  async publish(taskId: string): Promise<void> {
    await this.redis.publish(this.channel, taskId);
  }

  close(): void {
    this.redis.disconnect();
  }
}

// KEYS[1] = lease key; ARGV = token, ttl ms. Extends or releases only a lease this holder owns.
const EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** A held run lease; renews itself until released. */
export interface RunLease {
  release(): Promise<void>;
}

/**
 * Per-task run leases in Redis (`<keyPrefix>tasks:lease:<taskId>`, PX = lockMs, renewed every lockMs/3).
 * A worker that dies stops renewing, so its lease lapses after lockMs and a redelivery can take over.
 */
export class RunLeases {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly lockMs: number,
  ) {}

  private key(taskId: string): string {
    return `${this.keyPrefix}tasks:lease:${taskId}`;
  }

  /** Takes the task's lease; undefined while another worker holds it. */
  async acquire(taskId: string): Promise<RunLease | undefined> {
    const token = randomUUID();
    const key = this.key(taskId);
    if ((await this.redis.set(key, token, 'PX', this.lockMs, 'NX')) !== 'OK') return undefined;
    const timer = setInterval(() => void this.redis.eval(EXTEND, 1, key, token, String(this.lockMs)).catch(() => undefined), Math.max(100, this.lockMs / 3));
    timer.unref();
    return {
      release: async () => {
        clearInterval(timer);
        await this.redis.eval(RELEASE, 1, key, token).catch(() => undefined);
      },
    };
  }

  /** Whether a worker holds the task's lease now. */
  async held(taskId: string): Promise<boolean> {
    return (await this.redis.exists(this.key(taskId))) === 1;
  }
}
