/**
 * Admin API routes of per-user upstream credentials, mounted by service/src/http/admin.ts under /admin/v1:
 *
 *   GET    /tenants/:t/upstreams/:name/tokens         -> {tokens: [{user, expiresAt, scope, connectedAt, updatedAt}]}
 *   DELETE /tenants/:t/upstreams/:name/tokens         -> {revoked: [user...]}   (every user's)
 *   DELETE /tenants/:t/upstreams/:name/tokens/:user   -> {revoked: [user]}      (404 when the user has none)
 *
 * Tokens are never returned; revocations are audited (users named, tokens not) and also sent to the
 * authorization server when it advertises a revocation endpoint.
 */
import { NotFoundError } from '../store/ports.js';
import type { AdminRoute } from './admin-routes.js';
import { Namespace } from './upstream-config.js';
import type { UpstreamDirectory } from './upstream-directory.js';
import type { UserTokenVault } from './user-oauth/user-token-vault.js';

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
const fail = (status: number, code: string, message: string) => json(status, { error: { code, message } });

/** The per-user token routes; `vault` undefined answers 400 (no key provider or Redis). */
export function userTokenAdminRoute(vault: () => UserTokenVault | undefined, directory: UpstreamDirectory): AdminRoute {
  return async (ctx) => {
    const [a, t, sub, name, verb, user, ...rest] = ctx.segments;
    if (a !== 'tenants' || t === undefined || sub !== 'upstreams' || name === undefined || verb !== 'tokens' || rest.length) return undefined;
    const method = ctx.request.method;
    const tenant = await ctx.tenantOf(t);
    const ns = Namespace.safeParse(decodeURIComponent(name));
    if (!ns.success) return fail(400, 'bad_request', `invalid upstream name: ${ns.error.issues[0]?.message ?? 'bad namespace'}`);
    const up = (await directory.list(tenant.id)).find((u) => u.namespace === ns.data);
    if (!up) throw new NotFoundError(`upstream "${ns.data}" not found`);
    if (up.options.auth !== 'per-user-oauth') return fail(400, 'auth-mode', `upstream "${ns.data}" is not registered with auth "per-user-oauth"`);
    const v = vault();
    if (!v) return fail(400, 'no-master-key', 'per-user tokens need SECRETS_KMS_KEY_ID or SECRETS_MASTER_KEY on the gateway');
    const subject = user === undefined ? undefined : decodeURIComponent(user);
    if (method === 'GET') {
      if (subject !== undefined) return fail(405, 'method_not_allowed', 'GET /tenants/:tenant/upstreams/:name/tokens lists every user');
      return json(200, { tokens: await v.list(up) });
    }
    if (method !== 'DELETE') return fail(405, 'method_not_allowed', `${method} not allowed on /tenants/:tenant/upstreams/:name/tokens`);
    const revoked = await v.revoke(up, subject);
    await ctx.audit({
      tenantId: tenant.id,
      action: 'upstream.user-token.revoke',
      target: ns.data,
      detail: { users: revoked, ...(subject === undefined && { all: true }) },
    });
    if (subject !== undefined && revoked.length === 0) return fail(404, 'not_found', `user "${subject}" has no token for upstream "${ns.data}"`);
    return json(200, { revoked });
  };
}
