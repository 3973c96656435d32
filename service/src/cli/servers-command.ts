/**
 * `npm run admin -- servers <verb> ...`: virtual servers (issue 20), a thin client of
 * /admin/v1/tenants/:tenant/servers.
 *
 *   servers create <tenant> <name> --include <glob>[,<glob>...] [--exclude <glob>,...] [--rename from=to]...
 *       [--description tool=text]... [--tool-listing all|search]
 *   servers list <tenant> | show <tenant> <name> | delete <tenant> <name>
 *
 * `keys create <tenant> [--scope server:<name>|tool:<name>]...` (cli/main.ts) takes this module's --scope.
 */
import { commaList, positionalArgs, printer, type CommandRunner } from './admin-client.js';

/** Options parseArgs must know for these verbs (merged into the CLI's option table). */
export const SERVER_CLI_OPTIONS = {
  include: { type: 'string' },
  exclude: { type: 'string' },
  rename: { type: 'string', multiple: true },
  description: { type: 'string', multiple: true },
  'tool-listing': { type: 'string' },
  scope: { type: 'string', multiple: true },
} as const;

/** Usage lines of these verbs (appended to the CLI's usage). */
export const SERVER_USAGE = `  servers create <tenant> <name> --include <glob>[,<glob>...] [--exclude <glob>,...] [--rename from=to]...
        [--description tool=text]... [--tool-listing all|search]   define a virtual server, served at /mcp/<name>
  servers list <tenant>                    list a tenant's virtual servers
  servers show <tenant> <name>             one virtual server
  servers delete <tenant> <name>           delete it (its sessions and scoped keys then see nothing)`;

interface ServerJson {
  name: string;
  include: string[];
  exclude: string[];
  renames: { from: string; to: string }[];
  descriptions: Record<string, string>;
  toolListing: string;
  createdAt: string;
}

/** `a=b` pairs of a repeatable option. */
function pairs(list: unknown, option: string, usage: (m: string) => Error): [string, string][] {
  return ((list as string[] | undefined) ?? []).map((p) => {
    const i = p.indexOf('=');
    if (i <= 0 || i === p.length - 1) throw usage(`--${option} must look like ${option === 'rename' ? 'from=to' : 'tool=text'} (got "${p}")`);
    return [p.slice(0, i).trim(), p.slice(i + 1).trim()];
  });
}

const serverLines = (s: ServerJson, out: (line: string) => void) => {
  out(`${s.name}\tinclude ${s.include.join(',')}\texclude ${s.exclude.join(',') || '-'}\ttools ${s.toolListing}`);
  for (const r of s.renames) out(`  rename ${r.from} -> ${r.to}`);
  for (const [tool, text] of Object.entries(s.descriptions)) out(`  description ${tool}: ${text}`);
};

/** Runs a `servers` verb; false when `positionals` is not one. */
export const runServerCommand: CommandRunner = async (api, positionals, values, out, usage) => {
  const [group, verb, ...args] = positionals;
  if (group !== 'servers') return false;
  const print = printer(values.json === true, out);
  const need = positionalArgs(args, usage);
  switch (verb) {
    case 'create': {
      const [t] = need(2, 'servers create <tenant> <name> --include <glob>[,<glob>...]');
      const include = commaList(values.include);
      if (!include?.length) throw usage('servers create needs --include <glob>[,<glob>...]');
      const body = {
        name: args[1],
        include,
        ...(values.exclude !== undefined && { exclude: commaList(values.exclude) }),
        ...(values.rename !== undefined && { renames: pairs(values.rename, 'rename', usage).map(([from, to]) => ({ from, to })) }),
        ...(values.description !== undefined && { descriptions: Object.fromEntries(pairs(values.description, 'description', usage)) }),
        ...(values['tool-listing'] !== undefined && { toolListing: values['tool-listing'] }),
      };
      const r = (await api.call('POST', `/tenants/${t}/servers`, body)) as { server: ServerJson };
      print(r, () => {
        out(`created virtual server ${r.server.name}, served at /mcp/${r.server.name}`);
        serverLines(r.server, out);
      });
      return true;
    }
    case 'list': {
      const [t] = need(1, 'servers list <tenant>');
      const r = (await api.call('GET', `/tenants/${t}/servers`)) as { servers: ServerJson[] };
      print(r, () => (r.servers.length ? r.servers.forEach((s) => serverLines(s, out)) : out('no virtual servers')));
      return true;
    }
    case 'show': {
      const [t, name] = need(2, 'servers show <tenant> <name>');
      const r = (await api.call('GET', `/tenants/${t}/servers/${name}`)) as { server: ServerJson };
      print(r, () => serverLines(r.server, out));
      return true;
    }
    case 'delete': {
      const [t, name] = need(2, 'servers delete <tenant> <name>');
      await api.call('DELETE', `/tenants/${t}/servers/${name}`);
      print({ deleted: args[1] }, () => out(`deleted virtual server ${args[1]}`));
      return true;
    }
    default:
      throw usage(`unknown command "servers ${verb ?? ''}" (create, list, show, delete)`);
  }
};
