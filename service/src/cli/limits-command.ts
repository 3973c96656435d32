/**
 * `npm run admin -- limits ...`: a tenant's rate limits and daily quotas (docs/limits.md), through the
 * admin API. The API validates (400 naming the field); the CLI only shapes flags into the request body.
 */
import { commaList, positionalArgs, printer, type CommandRunner, type CliValues } from './admin-client.js';

/** Options these verbs add to the CLI's parseArgs table. */
export const LIMITS_CLI_OPTIONS = {
  tool: { type: 'string' },
  key: { type: 'string' },
  user: { type: 'string' },
  server: { type: 'string' },
  per: { type: 'string' },
  rate: { type: 'string' },
  quota: { type: 'string' },
  on: { type: 'string' },
  action: { type: 'string' },
} as const;

/** Usage lines of the limits verbs. */
export const LIMITS_USAGE = `  limits set <tenant> <name> (--rate N/<window> | --quota N/day) [--tool <glob>] [--key <keyId>] [--user <sub>]
             [--server <name>] [--per key,user,server,tool] [--on calls|requests] [--action reject|log]
                                           create or replace a limit (e.g. --tool 'search__*' --per user --rate 10/60s)
  limits list <tenant>                     list a tenant's limits
  limits delete <tenant> <id|name>         delete a limit
  limits usage <tenant>                    current counters of the tenant's limits`;

interface LimitJson {
  id: string;
  name: string;
  appliesTo: string;
  match: Record<string, string>;
  per: string[];
  action: string;
  summary: string;
}
interface UsageJson {
  limit: string;
  max: number;
  bucket: Record<string, string>;
  used: number;
  resetsInSeconds: number;
}

const str = (v: CliValues[string]) => (typeof v === 'string' ? v : undefined);

/** One line per limit: name, id, what it counts, how much, selectors, split, action. */
export function limitLine(l: LimitJson): string {
  const match = Object.entries(l.match).map(([k, v]) => `${k}=${v}`);
  return `${l.name}\t${l.id}\t${l.appliesTo}\t${l.summary}\t${match.join(' ') || 'any'}\t${l.per.length ? `per ${l.per.join(',')}` : 'shared'}\t${l.action}`;
}

/** Runs a `limits` verb; returns false when the command is not one. */
export const runLimitsCommand: CommandRunner = async (api, positionals, values, out, usage) => {
  const [group, verb, ...args] = positionals;
  if (group !== 'limits') return false;
  const print = printer(values['json'], out);
  const need = positionalArgs(args, usage);
  switch (verb) {
    case 'set': {
      const [t, name] = need(2, 'limits set <tenant> <name> (--rate N/<window> | --quota N/day) [options]');
      const per = commaList(values['per']);
      const body = {
        ...(str(values['on']) && { appliesTo: str(values['on']) }),
        ...(str(values['tool']) && { tool: str(values['tool']) }),
        ...(str(values['key']) && { key: str(values['key']) }),
        ...(str(values['user']) && { user: str(values['user']) }),
        ...(str(values['server']) && { server: str(values['server']) }),
        ...(per && { per }),
        ...(str(values['rate']) && { rate: str(values['rate']) }),
        ...(str(values['quota']) && { quota: str(values['quota']) }),
        ...(str(values['action']) && { action: str(values['action']) }),
      };
      if (!('rate' in body) && !('quota' in body)) throw usage('limits set needs --rate N/<window> (e.g. 10/60s) or --quota N/day (e.g. 1000/day)');
      const r = (await api.call('PUT', `/tenants/${t}/limits/${name}`, body)) as { limit: LimitJson };
      print(r, () => out(`limit ${r.limit.name} set (${r.limit.id}): ${r.limit.summary} ${r.limit.appliesTo}, action ${r.limit.action}`));
      return true;
    }
    case 'list': {
      const [t] = need(1, 'limits list <tenant>');
      const r = (await api.call('GET', `/tenants/${t}/limits`)) as { limits: LimitJson[] };
      print(r, () => (r.limits.length ? r.limits.forEach((l) => out(limitLine(l))) : out('no limits')));
      return true;
    }
    case 'delete': {
      const [t, ref] = need(2, 'limits delete <tenant> <id|name>');
      await api.call('DELETE', `/tenants/${t}/limits/${ref}`);
      print({ deleted: decodeURIComponent(ref!) }, () => out(`deleted limit ${decodeURIComponent(ref!)}`));
      return true;
    }
    case 'usage': {
      const [t] = need(1, 'limits usage <tenant>');
      const r = (await api.call('GET', `/tenants/${t}/limits/usage`)) as { usage: UsageJson[] };
      print(r, () =>
        r.usage.length
          ? r.usage.forEach((u) => {
              const bucket = Object.entries(u.bucket).map(([k, v]) => `${k}=${v}`);
              out(`${u.limit}\t${bucket.join(' ') || 'all'}\t${u.used}/${u.max}\tresets in ${u.resetsInSeconds} s`);
            })
          : out('no counters in the current windows'),
      );
      return true;
    }
    default:
      throw usage(`unknown limits verb "${verb ?? ''}" (set, list, delete, usage)`);
  }
};
