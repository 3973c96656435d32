/**
 * `npm run admin -- upstreams tokens ...` and the per-user flags of `upstreams add|update`: a thin client
 * of /admin/v1/tenants/:tenant/upstreams/:name/tokens.
 *
 *   upstreams add <tenant> --name <ns> --url <url> --auth per-user-oauth [--user-oauth-client-id id
 *       [--user-oauth-client-secret s]] [--user-oauth-scope s] [--user-oauth-issuer url]
 *   upstreams add <tenant> --name <ns> --url <url> --auth token-exchange --token-exchange-endpoint url
 *       --token-exchange-client-id id [--token-exchange-client-secret s] [--token-exchange-audience a] [--token-exchange-scope s]
 *   upstreams tokens list <tenant> <name>              the users with a token (never the tokens)
 *   upstreams tokens revoke <tenant> <name> [<user>]   one user's token, or every user's (also at the AS)
 */
import { printer, type CommandRunner, type CliValues } from './admin-client.js';

/** Options parseArgs must know for these flags and verbs. */
export const UPSTREAM_TOKENS_CLI_OPTIONS = {
  auth: { type: 'string' },
  'user-oauth-client-id': { type: 'string' },
  'user-oauth-client-secret': { type: 'string' },
  'user-oauth-scope': { type: 'string' },
  'user-oauth-issuer': { type: 'string' },
  'token-exchange-endpoint': { type: 'string' },
  'token-exchange-client-id': { type: 'string' },
  'token-exchange-client-secret': { type: 'string' },
  'token-exchange-audience': { type: 'string' },
  'token-exchange-scope': { type: 'string' },
} as const;

/** Usage lines (appended to the CLI's usage). */
export const UPSTREAM_TOKENS_USAGE = `  upstreams add|update ... --auth per-user-oauth [--user-oauth-client-id id [--user-oauth-client-secret s]]
        [--user-oauth-scope s] [--user-oauth-issuer url]     each user's own OAuth token (docs/per-user-credentials.md)
  upstreams add|update ... --auth token-exchange --token-exchange-endpoint url --token-exchange-client-id id
        [--token-exchange-client-secret s] [--token-exchange-audience a] [--token-exchange-scope s]   RFC 8693
  upstreams tokens list <tenant> <name>            users holding a token for a per-user upstream
  upstreams tokens revoke <tenant> <name> [<user>] revoke one user's token (or every user's), also at the AS`;

/** The `auth` field and the per-user credentials of an add/update body, from the flags. */
export function userAuthBody(v: CliValues, usage: (m: string) => Error): { auth?: string; credentials?: Record<string, unknown> } {
  const s = (k: string) => v[k] as string | undefined;
  const userOAuth = {
    ...(s('user-oauth-client-id') !== undefined && { clientId: s('user-oauth-client-id') }),
    ...(s('user-oauth-client-secret') !== undefined && { clientSecret: s('user-oauth-client-secret') }),
    ...(s('user-oauth-scope') !== undefined && { scope: s('user-oauth-scope') }),
    ...(s('user-oauth-issuer') !== undefined && { issuer: s('user-oauth-issuer') }),
  };
  const exchange = {
    ...(s('token-exchange-endpoint') !== undefined && { tokenEndpoint: s('token-exchange-endpoint') }),
    ...(s('token-exchange-client-id') !== undefined && { clientId: s('token-exchange-client-id') }),
    ...(s('token-exchange-client-secret') !== undefined && { clientSecret: s('token-exchange-client-secret') }),
    ...(s('token-exchange-audience') !== undefined && { audience: s('token-exchange-audience') }),
    ...(s('token-exchange-scope') !== undefined && { scope: s('token-exchange-scope') }),
  };
  const auth = s('auth');
  if (auth !== undefined && !['shared', 'per-user-oauth', 'token-exchange'].includes(auth))
    throw usage('--auth must be shared, per-user-oauth or token-exchange');
  if (Object.keys(userOAuth).length && auth !== 'per-user-oauth') throw usage('--user-oauth-* flags need --auth per-user-oauth');
  if (Object.keys(exchange).length && auth !== 'token-exchange') throw usage('--token-exchange-* flags need --auth token-exchange');
  const credentials = {
    ...(Object.keys(userOAuth).length && { userOAuth }),
    ...(Object.keys(exchange).length && { tokenExchange: exchange }),
  };
  return { ...(auth !== undefined && { auth }), ...(Object.keys(credentials).length && { credentials }) };
}

/** Runs an `upstreams tokens ...` command; returns false when `positionals` is not one. */
export const runUpstreamTokensCommand: CommandRunner = async (api, positionals, values, out, usage) => {
  const [group, sub, verb, ...args] = positionals;
  if (group !== 'upstreams' || sub !== 'tokens') return false;
  const print = printer(values.json, out);
  const path = (t: string, n: string) => `/tenants/${encodeURIComponent(t)}/upstreams/${encodeURIComponent(n)}/tokens`;
  if (verb === 'list') {
    if (args.length !== 2) throw usage('expected upstreams tokens list <tenant> <name>');
    const r = (await api.call('GET', path(args[0]!, args[1]!))) as {
      tokens: { user: string; expiresAt: string | null; scope: string | null; updatedAt: string }[];
    };
    print(r, () =>
      r.tokens.length
        ? r.tokens.forEach((t) => out(`${t.user}\texpires=${t.expiresAt ?? 'never'}\tscope=${t.scope ?? ''}\tupdated=${t.updatedAt}`))
        : out('no user tokens'),
    );
    return true;
  }
  if (verb === 'revoke') {
    if (args.length !== 2 && args.length !== 3) throw usage('expected upstreams tokens revoke <tenant> <name> [<user>]');
    const r = (await api.call('DELETE', `${path(args[0]!, args[1]!)}${args[2] !== undefined ? `/${encodeURIComponent(args[2])}` : ''}`)) as {
      revoked: string[];
    };
    print(r, () => out(`revoked ${r.revoked.length} user token(s)${r.revoked.length ? `: ${r.revoked.join(', ')}` : ''}`));
    return true;
  }
  throw usage('expected upstreams tokens list|revoke <tenant> <name> [<user>]');
};
