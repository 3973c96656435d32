/**
 * `npm run admin -- tasks redrive [--region r] [--older-than d]`: re-enqueues every accepted, unfinished
 * task whose job is missing from the queue (after a region failover, a lost Redis, a purged broker;
 * docs/operations.md). PostgreSQL is the system of record; the job is rebuilt from the task record.
 */
import { parseDuration } from '../tasks/duration.js';
import { printer, type CommandRunner } from './admin-client.js';

/** Options these verbs add to the CLI's parseArgs table. */
export const TASKS_CLI_OPTIONS = {
  region: { type: 'string' },
  'older-than': { type: 'string' },
} as const;

/** Usage lines of the tasks verbs. */
export const TASKS_USAGE = `  tasks redrive [--region r] [--older-than d]   re-enqueue unfinished tasks whose job is missing from the queue
                                           (--region: tasks accepted there; --older-than: unchanged for d, e.g. 5m; default 1m)`;

/** Runs a `tasks` verb; returns false when the command is not one. */
export const runTasksCommand: CommandRunner = async (api, positionals, values, out, usage) => {
  const [group, verb, ...args] = positionals;
  if (group !== 'tasks') return false;
  if (verb !== 'redrive') throw usage(`unknown tasks verb "${verb ?? ''}" (redrive)`);
  if (args.length) throw usage('tasks redrive takes no arguments (use --region, --older-than)');
  const region = values['region'];
  const olderThan = values['older-than'];
  if (typeof olderThan === 'string' && parseDuration(olderThan) === undefined) {
    throw usage(`--older-than: expected a duration such as 90s, 5m, 2h or 1d (got ${JSON.stringify(olderThan)})`);
  }
  const body = { ...(typeof region === 'string' && { region }), ...(typeof olderThan === 'string' && { olderThan }) };
  const r = (await api.call('POST', '/tasks/redrive', body)) as { redriven: string[]; skipped: number; regionsWithUnfinished?: string[] };
  printer(values['json'], out)(r, () => {
    out(`redriven ${r.redriven.length}${r.redriven.length ? `: ${r.redriven.join(' ')}` : ''} (skipped ${r.skipped}: still queued or running)`);
    const others = r.regionsWithUnfinished;
    if (others && typeof region === 'string')
      out(
        `no unfinished task was accepted in region ${region}; ${others.length ? `unfinished tasks were accepted in: ${others.join(', ')}` : 'no region has unfinished tasks'} (is the region name right?)`,
      );
  });
  return true;
};
