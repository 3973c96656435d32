/**
 * `npm run admin -- dlq list|show|replay|purge`: the dead-letter queue of the task worker tier
 * (service/src/tasks/admin-routes.ts). Replay and purge take one task id, `--all`, or a filter
 * (`--tenant`, `--tool`); a replayed task keeps its id, so the client polling it sees it complete.
 */
import { printer, type CommandRunner } from './admin-client.js';

/** Options these verbs add to the CLI's parseArgs table. */
export const DLQ_CLI_OPTIONS = {
  all: { type: 'boolean' },
  tool: { type: 'string' },
} as const;

/** Usage lines of the dlq verbs. */
export const DLQ_USAGE = `  dlq list [--tenant t] [--tool n]        dead-lettered task jobs (task id, tool, attempts, last error)
  dlq show <taskId>                        one dead letter with its error history and the task record
  dlq replay <taskId> | --all | --tenant t [--tool n]   back onto the queue under the same task id
  dlq purge <taskId> | --all | --tenant t [--tool n]    delete dead letters`;

interface Letter {
  taskId: string;
  tenantId: string;
  tool: string;
  attempts: number;
  failedAt: string;
  errors: { attempt: number; message: string }[];
}

/** Runs a `dlq` verb; returns false when the command is not one. */
export const runDlqCommand: CommandRunner = async (api, positionals, values, out, usage) => {
  const [group, verb, ...args] = positionals;
  if (group !== 'dlq') return false;
  const print = printer(values.json, out);
  const filter = {
    ...(typeof values['tenant'] === 'string' && { tenant: values['tenant'] }),
    ...(typeof values['tool'] === 'string' && { tool: values['tool'] }),
  };
  const line = (l: Letter) => `${l.taskId}\t${l.tool}\t${l.attempts} attempts\t${l.failedAt}\t${l.errors.at(-1)?.message ?? '-'}`;
  switch (verb) {
    case 'list': {
      if (args.length) throw usage('dlq list takes no arguments (use --tenant, --tool)');
      const q = new URLSearchParams(filter);
      const r = (await api.call('GET', `/dlq${q.size ? `?${q}` : ''}`)) as { deadLetters: Letter[] };
      print(r, () => (r.deadLetters.length ? r.deadLetters.forEach((l) => out(line(l))) : out('dead-letter queue is empty')));
      return true;
    }
    case 'show': {
      if (args.length !== 1) throw usage('expected dlq show <taskId>');
      const r = (await api.call('GET', `/dlq/${encodeURIComponent(args[0]!)}`)) as { deadLetter: Letter; task: { status: string } | null };
      print(r, () => {
        out(line(r.deadLetter));
        for (const e of r.deadLetter.errors) out(`  attempt ${e.attempt}: ${e.message}`);
        out(`task status: ${r.task?.status ?? 'expired'}`);
      });
      return true;
    }
    case 'replay':
    case 'purge': {
      if (args.length > 1) throw usage(`expected dlq ${verb} <taskId> or --all or a filter`);
      const body = args[0] ? { taskId: args[0] } : values['all'] ? { all: true, ...filter } : filter;
      if (!args[0] && !values['all'] && Object.keys(filter).length === 0) throw usage(`dlq ${verb} needs a task id, --all, or --tenant/--tool`);
      const r = (await api.call('POST', `/dlq/${verb}`, body)) as { replayed?: string[]; purged?: string[] };
      const ids = r.replayed ?? r.purged ?? [];
      print(r, () => out(`${verb === 'replay' ? 'replayed' : 'purged'} ${ids.length}${ids.length ? `: ${ids.join(' ')}` : ''}`));
      return true;
    }
    default:
      throw usage(`unknown dlq verb "${verb ?? ''}" (list, show, replay, purge)`);
  }
};
