/**
 * Counts the Redis commands and round trips an in-process service issues under one key prefix, for tests that
 * pin a request's Redis cost. It wraps ioredis's public `Redis.prototype.sendCommand` (every command of every
 * client in this process passes through it, including each command of a MULTI or pipeline), keeps the
 * commands that name a key or channel under the prefix, and groups them into round trips: the commands a
 * process writes within one turn of the event loop (before any reply can be read) travel together, so a new
 * round trip starts with the first command of a turn. MULTI/EXEC themselves name no key and are not counted;
 * their queued commands are, in the one round trip they share. Lua scripts count as one command.
 */
import { Redis } from 'ioredis';

/** One recorded command. */
export interface RecordedCommand {
  readonly name: string;
  readonly key: string;
  /** Index of the round trip it travelled in (counting from 0 at the last reset). */
  readonly trip: number;
}

/** A running counter; `stop()` restores ioredis. */
export interface RedisRoundTripCounter {
  /** Commands since the last reset. */
  readonly commands: readonly RecordedCommand[];
  /** Round trips since the last reset. */
  readonly roundTrips: number;
  /** Starts counting afresh. */
  reset(): void;
  /** A short table of the commands per round trip, for failure messages and notes. */
  describe(): string;
  stop(): void;
}

type SendCommand = (this: Redis, command: { name: string; args: unknown[] }, stream?: unknown) => unknown;

/** Starts counting commands naming a key or channel that starts with `prefix`. */
export function countRedisRoundTrips(prefix: string): RedisRoundTripCounter {
  const proto = Redis.prototype as unknown as { sendCommand: SendCommand };
  const original = proto.sendCommand;
  let commands: RecordedCommand[] = [];
  let trips = 0;
  let open = false;
  let epoch = 0;
  proto.sendCommand = function (this: Redis, command, stream) {
    // ioredis passes a command through sendCommand again when it flushes its offline queue: count it once.
    const tagged = command as { name: string; args: unknown[]; __counted?: boolean };
    const key =
      tagged.args.find((a): a is string => typeof a === 'string' && a.startsWith(prefix)) ??
      (Buffer.isBuffer(tagged.args[0]) && tagged.args[0].toString().startsWith(prefix) ? tagged.args[0].toString() : undefined);
    if (key !== undefined && !tagged.__counted) {
      tagged.__counted = true;
      if (!open) {
        open = true;
        trips++;
        const mine = epoch;
        setImmediate(() => {
          if (mine === epoch) open = false;
        });
      }
      commands.push({ name: command.name, key: key.slice(prefix.length), trip: trips - 1 });
    }
    return original.call(this, command, stream);
  };
  return {
    get commands() {
      return commands;
    },
    get roundTrips() {
      return trips;
    },
    reset() {
      commands = [];
      trips = 0;
      open = false;
      epoch++;
    },
    describe() {
      const lines: string[] = [];
      for (let t = 0; t < trips; t++) {
        lines.push(
          `  ${t + 1}: ${commands
            .filter((c) => c.trip === t)
            .map((c) => `${c.name} ${c.key.replace(/[0-9a-f]{64}/, '<sid>').replace(/:[A-Za-z0-9_-]{22}(?=$|:)/, ':<stream>')}`)
            .join(', ')}`,
        );
      }
      return `${trips} round trips, ${commands.length} commands\n${lines.join('\n')}`;
    },
    stop() {
      proto.sendCommand = original;
    },
  };
}
