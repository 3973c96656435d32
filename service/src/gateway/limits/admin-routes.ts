/**
 * Admin API routes of the limits, mounted by service/src/http/admin.ts under /admin/v1:
 *
 *   GET    /tenants/:t/limits                 -> {limits}
 *   PUT    /tenants/:t/limits/:name           {appliesTo?, tool?, key?, user?, server?, per?, rate|quota, action?} -> 201|200 {limit}
 *   GET    /tenants/:t/limits/:idOrName       -> {limit}
 *   DELETE /tenants/:t/limits/:idOrName       -> 204
 *   GET    /tenants/:t/limits/usage           -> {usage}   (live counters of the current windows)
 *
 * Invalid input answers 400 naming the field and what to write instead; an unknown limit 404. Every change
 * is audited (`limit.set`, `limit.delete`).
 */
import type { AdminRoute } from '../admin-routes.js';
import { invalidLimitName, LimitBody, limitJson, limitWrite } from './limit-rules.js';
import type { LimitService } from './limit-service.js';

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
const fail = (status: number, code: string, message: string) => json(status, { error: { code, message } });

/** The limits' admin routes. */
export function limitsAdminRoute(limits: LimitService): AdminRoute {
  return async (ctx) => {
    const [a, t, sub, name, ...rest] = ctx.segments;
    if (a !== 'tenants' || t === undefined || sub !== 'limits') return undefined;
    if (rest.length) return fail(404, 'not_found', `no admin route /${ctx.segments.join('/')}`);
    const method = ctx.request.method;
    const tenant = await ctx.tenantOf(t);
    if (name === undefined) {
      if (method !== 'GET')
        return fail(405, 'method_not_allowed', `${method} not allowed on /tenants/:tenant/limits (PUT /tenants/:tenant/limits/:name sets one)`);
      return json(200, { limits: (await limits.list(tenant.id)).map(limitJson) });
    }
    const ref = decodeURIComponent(name);
    if (ref === 'usage') {
      if (method !== 'GET') return fail(405, 'method_not_allowed', 'use GET /tenants/:tenant/limits/usage');
      return json(200, { usage: await limits.usage(tenant.id) });
    }
    if (method === 'PUT') {
      const invalid = invalidLimitName(ref);
      if (invalid) return fail(400, 'bad_request', invalid);
      const input = await ctx.body(ctx.request, LimitBody);
      const { limit, created } = await limits.put(limitWrite(tenant.id, ref, input));
      await ctx.audit({
        tenantId: tenant.id,
        action: 'limit.set',
        target: limit.name,
        detail: {
          id: limit.id,
          appliesTo: limit.appliesTo,
          match: limit.match,
          per: limit.per,
          kind: limit.kind,
          max: limit.max,
          windowSeconds: limit.windowSeconds,
          action: limit.action,
          created,
        },
      });
      return json(created ? 201 : 200, { limit: limitJson(limit) });
    }
    if (method === 'GET') {
      const limit = (await limits.list(tenant.id)).find((l) => l.id === ref || l.name === ref);
      return limit ? json(200, { limit: limitJson(limit) }) : fail(404, 'not_found', `limit "${ref}" not found`);
    }
    if (method === 'DELETE') {
      const removed = await limits.remove(tenant.id, ref);
      await ctx.audit({ tenantId: tenant.id, action: 'limit.delete', target: removed.name, detail: { id: removed.id } });
      return new Response(null, { status: 204 });
    }
    return fail(405, 'method_not_allowed', `${method} not allowed on /tenants/:tenant/limits/:name (GET shows, PUT sets, DELETE removes)`);
  };
}
