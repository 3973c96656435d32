/**
 * `npm run admin -- upstreams <verb> ...` and `keys rotate-master`: the federation's CLI verbs, a thin
 * client of /admin/v1/tenants/:tenant/upstreams and /admin/v1/secrets/rotate-master.
 *
 *   upstreams add <tenant> --name <namespace> --url <url> [--root] [--header 'K: V']... [--bearer <token>]
 *       [--oauth-client-id id --oauth-client-secret s [--oauth-scope s] [--oauth-issuer url]] [--transport streamable-http|sse]
 *       [--timeout-ms n] [--connect-timeout-ms n] [--list-timeout-ms n] [--allow a,b] [--deny a,b]
 *       [--max-concurrency n] [--long-running a,b]
 *   upstreams list <tenant> | show <tenant> <name> | remove <tenant> <name> | test <tenant> <name>
 *   upstreams update <tenant> <name> [same options as add; --no-root, --clear-credentials]
 *   keys rotate-master
 */
import { commaList, positionalArgs, printer, type CommandRunner, type CliValues } from './admin-client.js';
import { userAuthBody } from './upstream-tokens-command.js';

/** Options parseArgs must know for these verbs (merged into the CLI's option table). */
export const UPSTREAM_CLI_OPTIONS = {
  url: { type: 'string' },
  root: { type: 'boolean' },
  'no-root': { type: 'boolean' },
  header: { type: 'string', multiple: true },
  bearer: { type: 'string' },
  'oauth-client-id': { type: 'string' },
  'oauth-client-secret': { type: 'string' },
  'oauth-scope': { type: 'string' },
  'oauth-issuer': { type: 'string' },
  transport: { type: 'string' },
  'timeout-ms': { type: 'string' },
  'connect-timeout-ms': { type: 'string' },
  'list-timeout-ms': { type: 'string' },
  allow: { type: 'string' },
  deny: { type: 'string' },
  'max-concurrency': { type: 'string' },
  'long-running': { type: 'string' },
  'clear-credentials': { type: 'boolean' },
  protocol: { type: 'string' },
} as const;

/** Usage lines of these verbs (appended to the CLI's usage). */
export const UPSTREAM_USAGE = `  upstreams add <tenant> --name <ns> --url <url> [--root] [--header 'K: V']... [--bearer <token>]
        [--oauth-client-id id --oauth-client-secret s [--oauth-scope s] [--oauth-issuer url]] [--transport streamable-http|sse]
        [--timeout-ms n] [--connect-timeout-ms n] [--list-timeout-ms n] [--allow a,b] [--deny a,b]
        [--max-concurrency n] [--long-running a,b] [--protocol auto|modern|legacy]   register an upstream
  upstreams list <tenant>                  list a tenant's upstreams (never credentials)
  upstreams show <tenant> <name>           one upstream with this replica's health
  upstreams update <tenant> <name> [opts]  change it (--no-root, --clear-credentials too)
  upstreams remove <tenant> <name>         unregister it
  upstreams test <tenant> <name>           connect, list, show protocol generation and counts
  keys rotate-master                       re-wrap every tenant data key under the current master key (KMS or local)`;

interface UpstreamJson {
  namespace: string;
  url: string;
  transport: string;
  root: boolean;
  auth: { kind: string };
  version: number;
  health?: { state: string; era?: string; lastError?: string };
}

const int = (s: unknown, name: string, usage: (m: string) => Error) => {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n)) throw usage(`--${name} must be an integer`);
  return n;
};

/** Builds the JSON body of add/update from the flags. */
function bodyFrom(v: CliValues, usage: (m: string) => Error): Record<string, unknown> {
  const headers: Record<string, string> = {};
  for (const h of (v.header as string[] | undefined) ?? []) {
    const i = h.indexOf(':');
    if (i <= 0) throw usage(`--header must look like 'Name: value' (got "${h}")`);
    headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
  }
  const oauthId = v['oauth-client-id'] as string | undefined;
  const oauthSecret = v['oauth-client-secret'] as string | undefined;
  if ((oauthId === undefined) !== (oauthSecret === undefined)) throw usage('--oauth-client-id and --oauth-client-secret go together');
  if (oauthId === undefined && (v['oauth-scope'] !== undefined || v['oauth-issuer'] !== undefined))
    throw usage('--oauth-scope and --oauth-issuer need --oauth-client-id and --oauth-client-secret');
  const credentials = {
    ...(Object.keys(headers).length && { headers }),
    ...(v.bearer !== undefined && { bearer: v.bearer }),
    ...(oauthId && {
      oauth: {
        clientId: oauthId,
        clientSecret: oauthSecret,
        ...(v['oauth-scope'] !== undefined && { scope: v['oauth-scope'] }),
        ...(v['oauth-issuer'] !== undefined && { issuer: v['oauth-issuer'] }),
      },
    }),
  };
  const timeouts = {
    ...(v['timeout-ms'] !== undefined && { callMs: int(v['timeout-ms'], 'timeout-ms', usage) }),
    ...(v['connect-timeout-ms'] !== undefined && { connectMs: int(v['connect-timeout-ms'], 'connect-timeout-ms', usage) }),
    ...(v['list-timeout-ms'] !== undefined && { listMs: int(v['list-timeout-ms'], 'list-timeout-ms', usage) }),
  };
  if (v.root && v['no-root']) throw usage('--root and --no-root contradict each other');
  const perUser = userAuthBody(v, usage);
  Object.assign(credentials, perUser.credentials);
  return {
    ...(perUser.auth !== undefined && { auth: perUser.auth }),
    ...(v.url !== undefined && { url: v.url }),
    ...(v.transport !== undefined && { transport: v.transport }),
    ...(v.root && { root: true }),
    ...(v['no-root'] && { root: false }),
    ...(Object.keys(credentials).length && { credentials }),
    ...(v['clear-credentials'] && { credentials: null }),
    ...(Object.keys(timeouts).length && { timeouts }),
    ...(v.allow !== undefined && { allowTools: commaList(v.allow) }),
    ...(v.deny !== undefined && { denyTools: commaList(v.deny) }),
    ...(v['max-concurrency'] !== undefined && { maxConcurrency: int(v['max-concurrency'], 'max-concurrency', usage) }),
    ...(v['long-running'] !== undefined && { longRunning: commaList(v['long-running']) }),
    ...(v.protocol !== undefined && { protocol: v.protocol }),
  };
}

const line = (u: UpstreamJson) =>
  `${u.namespace}\t${u.url}\t${u.transport}${u.root ? '\troot' : ''}\tauth=${u.auth.kind}\tv${u.version}${u.health ? `\t${u.health.state}${u.health.era ? `/${u.health.era}` : ''}` : ''}`;

/**
 * Runs an `upstreams ...` or `keys rotate-master` command; returns false when `positionals` is not one.
 * @param usage builds the CLI's usage error (exit code 2)
 */
export const runUpstreamCommand: CommandRunner = async (api, positionals, values, out, usage) => {
  const [group, verb, ...args] = positionals;
  const print = printer(values.json, out);
  if (group === 'keys' && verb === 'rotate-master') {
    if (args.length) throw usage('keys rotate-master takes no arguments');
    const r = (await api.call('POST', '/secrets/rotate-master')) as { rewrapped: number; remaining: number; masterKeyId: string };
    print(r, () => out(`re-wrapped ${r.rewrapped} data key(s) under ${r.masterKeyId}; ${r.remaining} remaining`));
    return true;
  }
  if (group !== 'upstreams') return false;
  const need = positionalArgs(args, usage, 'upstreams ');
  switch (verb) {
    case 'add': {
      const [t] = need(1, 'add <tenant> --name <namespace> --url <url>');
      if (!values.name || !values.url) throw usage('upstreams add needs --name <namespace> and --url <url>');
      if (values['clear-credentials'] || values['no-root']) throw usage('--clear-credentials and --no-root are for update');
      const r = (await api.call('POST', `/tenants/${t}/upstreams`, { name: values.name, ...bodyFrom(values, usage) })) as { upstream: UpstreamJson };
      print(r, () => out(`registered upstream ${r.upstream.namespace}: ${line(r.upstream)}`));
      return true;
    }
    case 'list': {
      const [t] = need(1, 'list <tenant>');
      const r = (await api.call('GET', `/tenants/${t}/upstreams`)) as { upstreams: UpstreamJson[] };
      print(r, () => (r.upstreams.length ? r.upstreams.forEach((u) => out(line(u))) : out('no upstreams')));
      return true;
    }
    case 'show': {
      const [t, n] = need(2, 'show <tenant> <name>');
      const r = (await api.call('GET', `/tenants/${t}/upstreams/${n}`)) as { upstream: UpstreamJson };
      print(r, () => out(JSON.stringify(r.upstream, null, 2)));
      return true;
    }
    case 'update': {
      const [t, n] = need(2, 'update <tenant> <name> [options]');
      const body = bodyFrom(values, usage);
      if (!Object.keys(body).length) throw usage('upstreams update needs at least one option to change');
      const r = (await api.call('PATCH', `/tenants/${t}/upstreams/${n}`, body)) as { upstream: UpstreamJson };
      print(r, () => out(`updated upstream ${r.upstream.namespace}: ${line(r.upstream)}`));
      return true;
    }
    case 'remove': {
      const [t, n] = need(2, 'remove <tenant> <name>');
      await api.call('DELETE', `/tenants/${t}/upstreams/${n}`);
      print({ removed: decodeURIComponent(n!) }, () => out(`removed upstream ${decodeURIComponent(n!)}`));
      return true;
    }
    case 'test': {
      const [t, n] = need(2, 'test <tenant> <name>');
      const r = (await api.call('POST', `/tenants/${t}/upstreams/${n}/test`)) as {
        test: {
          ok: boolean;
          era?: string;
          protocolVersion?: string;
          counts?: Record<string, number>;
          latencyMs: number;
          error?: string;
          serverInfo?: { name: string; version: string };
        };
      };
      print(r, () => {
        const x = r.test;
        if (!x.ok) return out(`FAILED after ${x.latencyMs} ms: ${x.error}`);
        const gen = x.era === 'modern' ? 'stateless (2026-07-28)' : 'sessionful (2025-era)';
        out(`ok in ${x.latencyMs} ms: ${x.serverInfo ? `${x.serverInfo.name} ${x.serverInfo.version}, ` : ''}protocol ${x.protocolVersion ?? '?'} ${gen}`);
        out(
          `tools ${x.counts?.tools ?? 0}, resources ${x.counts?.resources ?? 0}, templates ${x.counts?.resourceTemplates ?? 0}, prompts ${x.counts?.prompts ?? 0}`,
        );
      });
      if (!r.test.ok) process.exitCode = 1;
      return true;
    }
    default:
      throw usage(`unknown command "upstreams ${verb ?? ''}" (add, list, show, update, remove, test)`);
  }
};
