/**
 * The dead-letter side of a broker whose DLQ is a plain queue (RabbitMQ, SQS): nothing can be looked up
 * by id, so every operation reads the whole DLQ once (`scan`), keeps the latest letter per task, and tells
 * the broker which tasks' messages to remove. Listing, lookup, replay and purge are the same on both
 * brokers; only the scan and the send are theirs.
 */
import { matchesFilter, type DeadLetter, type DeadLetterFilter, type TaskJobData } from '../task-queue.js';

/**
 * Reads the whole DLQ, calls `pick` with the letters (latest per task, oldest first), removes the messages
 * of the task ids it returns and leaves the rest in the DLQ; resolves with those ids.
 */
export type DeadLetterScan = (pick: (letters: DeadLetter[]) => Promise<string[]>) => Promise<string[]>;

/** The latest letter of each task among `letters`, oldest failure first. */
export function latestPerTask(letters: Iterable<DeadLetter>): DeadLetter[] {
  const latest = new Map<string, DeadLetter>();
  for (const letter of letters) {
    const seen = latest.get(letter.taskId);
    if (!seen || seen.failedAt <= letter.failedAt) latest.set(letter.taskId, letter);
  }
  return [...latest.values()].sort((a, b) => a.failedAt.localeCompare(b.failedAt));
}

/** listDead / getDead / replay / purge of the TaskQueue port over a broker's `scan` and `requeue`. */
export class ScannedDeadLetters {
  constructor(
    private readonly scan: DeadLetterScan,
    /** Puts a job back on the task queue as its first attempt. */
    private readonly requeue: (data: TaskJobData) => Promise<void>,
  ) {}

  async list(filter: DeadLetterFilter = {}, limit = 1_000): Promise<DeadLetter[]> {
    let out: DeadLetter[] = [];
    await this.scan(async (letters) => {
      out = letters.filter((d) => matchesFilter(d, filter)).slice(0, limit);
      return [];
    });
    return out;
  }

  async get(taskId: string): Promise<DeadLetter | undefined> {
    return (await this.list({ taskId }, 1))[0];
  }

  async replay(taskId: string): Promise<boolean> {
    const replayed = await this.scan(async (letters) => {
      const letter = letters.find((l) => l.taskId === taskId);
      if (!letter) return [];
      const { tenantId, tool, policy, follow } = letter;
      // Sent (and confirmed) before the dead letter is removed: a crash in between duplicates, never loses.
      await this.requeue({ taskId, tenantId, tool, policy, ...(follow && { follow }) });
      return [taskId];
    });
    return replayed.length > 0;
  }

  purge(filter: DeadLetterFilter = {}): Promise<string[]> {
    return this.scan(async (letters) => letters.filter((d) => matchesFilter(d, filter)).map((d) => d.taskId));
  }
}
