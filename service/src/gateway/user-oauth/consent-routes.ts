/**
 * The HTTP face of per-user upstream credentials, served outside /mcp (the http layer hands over every
 * /oauth/* request):
 *
 *   GET    /oauth/upstreams/:ns/connect?state=...  the link of the elicitation: 302 to the upstream's AS
 *   GET    /oauth/upstreams/callback               the AS's redirect: code exchanged, "connected" page
 *   GET    /oauth/client-metadata.json             the gateway's Client ID Metadata Document
 *   GET    /oauth/upstreams/:ns/token              (as the user) {connected, expiresAt, scope}
 *   DELETE /oauth/upstreams/:ns/token              (as the user) revokes the user's token: 204
 *
 * Browser steps answer with a small HTML page (errors: 4xx/5xx with the reason, never a token); the two
 * user routes take the same Authorization as /mcp and answer JSON.
 */
import type { Principal } from '../../domain/principal.js';
import type { AuditEntry } from '../../store/ports.js';
import type { UpstreamDirectory } from '../upstream-directory.js';
import { clientMetadataDocument, ConsentError, CLIENT_METADATA_PATH, CONSENT_CALLBACK_PATH } from './auth-server-client.js';
import type { ConsentFlow } from './consent-flow.js';
import type { UserOAuthMetrics } from './user-oauth-metrics.js';
import type { UserTokenVault } from './user-token-vault.js';

/** The caller of a user route, as the http layer authenticated it (or why not). */
export type AuthenticateCaller = () => Promise<Principal | { error: string; description: string }>;

/** What the routes need. */
export interface ConsentRoutesDeps {
  readonly flow: ConsentFlow;
  readonly vault: UserTokenVault;
  readonly directory: UpstreamDirectory;
  readonly publicUrl?: string;
  readonly audit?: (entry: AuditEntry) => Promise<void>;
  readonly onError?: (err: unknown, where: string) => void;
  readonly metrics?: UserOAuthMetrics;
}

const CONNECT = /^\/oauth\/upstreams\/([^/]+)\/connect$/;
const TOKEN = /^\/oauth\/upstreams\/([^/]+)\/token$/;

/** A path segment decoded, or undefined when it is not valid percent-encoding. */
const segment = (s: string): string | undefined => {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
};

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A small self-contained page (no scripts, no external resources). */
function page(status: number, title: string, body: string): Response {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escape(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em}h1{font-size:1.4em}</style></head>
<body><h1>${escape(title)}</h1><p>${escape(body)}</p></body></html>`;
  return new Response(html, {
    status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
    },
  });
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });

/** The /oauth/* handler: a Response when it owns the path, undefined otherwise. */
export function consentRoutes(deps: ConsentRoutesDeps) {
  const baseOf = (request: Request) => (deps.publicUrl ?? new URL(request.url).origin).replace(/\/+$/, '');
  const failPage = (err: unknown, where: string): Response => {
    deps.metrics?.consent(err instanceof ConsentError ? err.code : 'error');
    if (err instanceof ConsentError) return page(err.status, 'Not connected', `${err.message} (${err.code}).`);
    deps.onError?.(err, where);
    return page(500, 'Not connected', 'The gateway could not complete the connection (internal error). Call the tool again for a new link.');
  };

  return async (request: Request, path: string, authenticate: AuthenticateCaller): Promise<Response | undefined> => {
    const method = request.method;
    const url = new URL(request.url);
    if (path === CLIENT_METADATA_PATH) {
      if (method !== 'GET') return json(405, { error: { code: 'method_not_allowed', message: 'use GET' } });
      return json(200, clientMetadataDocument(baseOf(request)));
    }
    if (path === CONSENT_CALLBACK_PATH) {
      if (method !== 'GET') return page(405, 'Not connected', 'The callback takes GET.');
      try {
        const done = await deps.flow.callback(url.searchParams);
        deps.metrics?.consent('connected');
        await deps.audit?.({ tenantId: done.tenantId, actor: done.subject, action: 'upstream.user-token.connect', target: done.namespace, outcome: 'ok' });
        return page(200, 'Connected', `Your account is connected to "${done.namespace}". Return to your client and retry the call.`);
      } catch (err) {
        return failPage(err, 'consent callback');
      }
    }
    const connect = CONNECT.exec(path);
    if (connect) {
      if (method !== 'GET') return page(405, 'Not connected', 'The connect link takes GET.');
      try {
        const ns = segment(connect[1]!);
        if (ns === undefined) throw new ConsentError('invalid_request', 'the link names no valid upstream');
        const to = await deps.flow.connect(ns, url.searchParams.get('state'));
        return new Response(null, { status: 302, headers: { location: to.href, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' } });
      } catch (err) {
        return failPage(err, 'consent connect');
      }
    }
    const token = TOKEN.exec(path);
    if (token) {
      const caller = await authenticate();
      if ('error' in caller) return json(401, { error: { code: 'unauthorized', message: caller.description } });
      if (caller.kind === 'anonymous')
        return json(401, { error: { code: 'unauthorized', message: 'authenticate with your API key or OAuth token: per-user tokens belong to a user' } });
      const ns = segment(token[1]!);
      if (ns === undefined) return json(400, { error: { code: 'bad_request', message: 'invalid upstream name in the path' } });
      const up = (await deps.directory.list(caller.tenantId)).find((u) => u.namespace === ns && u.options.auth === 'per-user-oauth');
      if (!up) return json(404, { error: { code: 'not_found', message: `no per-user OAuth upstream "${ns}" in this tenant` } });
      if (method === 'GET') {
        const set = await deps.vault.get(up, caller.subject);
        return json(200, {
          upstream: ns,
          connected: set !== undefined,
          ...(set?.expiresAt && { expiresAt: new Date(set.expiresAt).toISOString() }),
          ...(set?.scope && { scope: set.scope }),
        });
      }
      if (method !== 'DELETE') return json(405, { error: { code: 'method_not_allowed', message: 'use GET or DELETE' } });
      const removed = await deps.vault.revoke(up, caller.subject);
      await deps.audit?.({
        tenantId: caller.tenantId,
        actor: caller.subject,
        action: 'upstream.user-token.revoke',
        target: ns,
        outcome: removed.length ? 'ok' : 'error',
      });
      if (!removed.length) return json(404, { error: { code: 'not_found', message: `you have no token for upstream "${ns}"` } });
      return new Response(null, { status: 204 });
    }
    return undefined;
  };
}
