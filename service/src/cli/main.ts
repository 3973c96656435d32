/**
 * `npm run admin -- <command>`: the admin CLI, a thin client of the admin API. Reads ADMIN_URL and
 * ADMIN_TOKEN from the environment (as printed by `npm start`). Exit codes: 0 ok, 1 API/connection error,
 * 2 usage error.
 */
import { parseArgs } from 'node:util';
import { AdminApiError, AdminClient, commaList, positionalArgs, printer, type CommandRunner } from './admin-client.js';
import { runUpstreamCommand, UPSTREAM_CLI_OPTIONS, UPSTREAM_USAGE } from './upstreams-command.js';
import { runUpstreamTokensCommand, UPSTREAM_TOKENS_CLI_OPTIONS, UPSTREAM_TOKENS_USAGE } from './upstream-tokens-command.js';
import { runShardCommand, SHARD_CLI_OPTIONS, SHARD_USAGE } from './shards-command.js';
import { DLQ_CLI_OPTIONS, DLQ_USAGE, runDlqCommand } from './dlq-command.js';
import { runTasksCommand, TASKS_CLI_OPTIONS, TASKS_USAGE } from './tasks-command.js';
import { LIMITS_CLI_OPTIONS, LIMITS_USAGE, runLimitsCommand } from './limits-command.js';
import { runServerCommand, SERVER_CLI_OPTIONS, SERVER_USAGE } from './servers-command.js';

const USAGE = `Usage: npm run admin -- <command> [options]

Commands:
  tenants create <name> [--toolsets a,b]   create a tenant and its first API key (prints API_KEY=...)
  tenants list                             list tenants
  tenants show <tenant>                    show one tenant
  tenants disable <tenant>                 refuse the tenant's requests
  tenants enable <tenant>                  accept them again
  keys create <tenant> [--name n] [--scope server:<name>|tool:<name>]...
                                           create an API key (prints API_KEY=...); scopes narrow what it sees
  keys list <tenant>                       list a tenant's keys (never the secrets)
  keys revoke <tenant> <keyId>             revoke a key
  audit [--tenant t] [--limit n]           recent audit log entries
${UPSTREAM_USAGE}
${UPSTREAM_TOKENS_USAGE}
${SHARD_USAGE}
${DLQ_USAGE}
${TASKS_USAGE}
${LIMITS_USAGE}
${SERVER_USAGE}

<tenant> is a tenant name or id. Options: --json (machine-readable output), --help.
Environment: ADMIN_URL (e.g. http://127.0.0.1:8080), ADMIN_TOKEN.`;

class UsageError extends Error {}

interface TenantJson {
  id: string;
  name: string;
  status: string;
  toolsets: string[];
  createdAt: string;
}
interface KeyJson {
  id: string;
  prefix: string;
  name: string;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
  scopes?: string[];
}
interface AuditJson {
  at: string;
  actor: string;
  action: string;
  target?: string;
  outcome: string;
  tenantId: string | null;
  durationMs?: number;
}

const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const tenantLine = (t: TenantJson) => `${t.name}\t${t.id}\t${t.status}\t${t.toolsets.join(',') || '-'}`;
const keyLine = (k: KeyJson) =>
  `${k.id}\tumcp_${k.prefix}_…\t${k.name}\t${k.revokedAt ? `revoked ${k.revokedAt}` : 'active'}\tlast used ${k.lastUsedAt ?? 'never'}${k.scopes?.length ? `\tscopes ${k.scopes.join(' ')}` : ''}`;

/** The verbs of each command group that takes one (`tenants` -> create, list, ...), as the usage text lists them. */
function groupVerbs(usage: string): Map<string, string[]> {
  const verbs = new Map<string, string[]>();
  for (const m of usage.matchAll(/^ {2}([a-z]+) ([a-z][a-z-]*)(?:\|([a-z|-]+))?\b/gm)) {
    const list = verbs.get(m[1]!) ?? [];
    for (const v of [m[2]!, ...(m[3]?.split('|') ?? [])]) if (!list.includes(v)) list.push(v);
    verbs.set(m[1]!, list);
  }
  return verbs;
}

async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      toolsets: { type: 'string' },
      name: { type: 'string' },
      tenant: { type: 'string' },
      limit: { type: 'string' },
      ...UPSTREAM_CLI_OPTIONS,
      ...UPSTREAM_TOKENS_CLI_OPTIONS,
      ...SHARD_CLI_OPTIONS,
      ...DLQ_CLI_OPTIONS,
      ...TASKS_CLI_OPTIONS,
      ...LIMITS_CLI_OPTIONS,
      ...SERVER_CLI_OPTIONS,
    },
  });
  if (values.help || positionals.length === 0) {
    out(USAGE);
    if (!values.help) throw new UsageError('no command given');
    return;
  }
  const verbs = groupVerbs(USAGE).get(positionals[0]!);
  if (verbs && positionals.length === 1) throw new UsageError(`${positionals[0]} needs a verb: ${verbs.join(', ')}`);
  const url = process.env.ADMIN_URL;
  const token = process.env.ADMIN_TOKEN;
  if (!url || !token) throw new UsageError('set ADMIN_URL and ADMIN_TOKEN (npm start prints both)');
  const api = new AdminClient(url, token);
  // `upstreams tokens` before `upstreams`: the first group that owns the command runs it.
  const groups: CommandRunner[] = [
    runUpstreamTokensCommand,
    runUpstreamCommand,
    runShardCommand,
    runDlqCommand,
    runTasksCommand,
    runLimitsCommand,
    runServerCommand,
  ];
  for (const run of groups) if (await run(api, positionals, values, out, (m) => new UsageError(m))) return;
  const [group, verb, ...args] = positionals;
  const need = positionalArgs(args, (m) => new UsageError(m));
  const print = printer(values.json, out);

  switch (`${group} ${verb ?? ''}`.trim()) {
    case 'tenants create': {
      const [name] = need(1, 'tenants create <name>');
      const toolsets = commaList(values.toolsets);
      const r = (await api.call('POST', '/tenants', { name: decodeURIComponent(name!), ...(toolsets && { toolsets }) })) as {
        tenant: TenantJson;
        apiKey: string;
      };
      return print(r, () => {
        out(`created tenant ${r.tenant.name} (${r.tenant.id}), toolsets: ${r.tenant.toolsets.join(',') || '-'}`);
        out(`API_KEY=${r.apiKey}`);
        out('(the key is shown only now; store it safely)');
      });
    }
    case 'tenants list': {
      need(0, 'tenants list');
      const r = (await api.call('GET', '/tenants')) as { tenants: TenantJson[] };
      return print(r, () => (r.tenants.length ? r.tenants.forEach((t) => out(tenantLine(t))) : out('no tenants')));
    }
    case 'tenants show': {
      const [t] = need(1, 'tenants show <tenant>');
      const r = (await api.call('GET', `/tenants/${t}`)) as { tenant: TenantJson };
      return print(r, () => out(tenantLine(r.tenant)));
    }
    case 'tenants disable':
    case 'tenants enable': {
      const [t] = need(1, `tenants ${verb} <tenant>`);
      const r = (await api.call('POST', `/tenants/${t}/${verb}`)) as { tenant: TenantJson };
      return print(r, () => out(`tenant ${r.tenant.name} is now ${r.tenant.status}`));
    }
    case 'keys create': {
      const [t] = need(1, 'keys create <tenant> [--name n] [--scope server:<name>|tool:<name>]...');
      const scopes = values.scope;
      const r = (await api.call('POST', `/tenants/${t}/keys`, { ...(values.name && { name: values.name }), ...(scopes?.length && { scopes }) })) as {
        key: KeyJson;
        apiKey: string;
      };
      return print(r, () => {
        out(`created key ${r.key.id} (${r.key.name})`);
        if (r.key.scopes?.length) out(`scopes: ${r.key.scopes.join(' ')}`);
        out(`API_KEY=${r.apiKey}`);
      });
    }
    case 'keys list': {
      const [t] = need(1, 'keys list <tenant>');
      const r = (await api.call('GET', `/tenants/${t}/keys`)) as { keys: KeyJson[] };
      return print(r, () => (r.keys.length ? r.keys.forEach((k) => out(keyLine(k))) : out('no keys')));
    }
    case 'keys revoke': {
      const [t, keyId] = need(2, 'keys revoke <tenant> <keyId>');
      await api.call('DELETE', `/tenants/${t}/keys/${keyId}`);
      return print({ revoked: decodeURIComponent(keyId!) }, () => out(`revoked key ${decodeURIComponent(keyId!)}`));
    }
    case 'audit': {
      if (verb !== undefined) throw new UsageError('audit takes no arguments (use --tenant, --limit)');
      const q = new URLSearchParams();
      if (values.tenant) q.set('tenant', values.tenant);
      if (values.limit) q.set('limit', values.limit);
      const r = (await api.call('GET', `/audit${q.size ? `?${q}` : ''}`)) as { entries: AuditJson[] };
      return print(r, () =>
        r.entries.forEach((e) =>
          out(`${e.at}\t${e.actor}\t${e.action}\t${e.target ?? '-'}\t${e.outcome}${e.durationMs !== undefined ? `\t${e.durationMs}ms` : ''}`),
        ),
      );
    }
    default:
      throw new UsageError(`unknown command "${positionals.join(' ')}"`);
  }
}

run(process.argv.slice(2)).then(
  // A command may have set process.exitCode (e.g. a failed `upstreams test`): exit() keeps it.
  () => process.exit(),
  (err: unknown) => {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`error: ${(err as Error).message}\nRun "npm run admin -- --help" for usage.\n`);
      process.exit(2);
    }
    if (err instanceof AdminApiError) {
      process.stderr.write(`error: ${err.message}${err.status ? ` (HTTP ${err.status})` : ''}\n${err.issues.map((i) => `  - ${i}\n`).join('')}`);
      process.exit(1);
    }
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
