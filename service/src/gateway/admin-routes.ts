/**
 * Admin API routes of the federation layer, mounted by service/src/http/admin.ts under /admin/v1:
 *
 *   GET    /tenants/:t/upstreams                -> {upstreams}          (with this replica's health)
 *   POST   /tenants/:t/upstreams                {name, url, ...} -> 201 {upstream}
 *   GET    /tenants/:t/upstreams/:name          -> {upstream}
 *   PATCH  /tenants/:t/upstreams/:name          {url?, credentials?, ...} -> {upstream}
 *   DELETE /tenants/:t/upstreams/:name          -> 204
 *   POST   /tenants/:t/upstreams/:name/test     -> {test}               (connects and lists)
 *   POST   /secrets/rotate-master               -> {rewrapped, remaining, masterKeyId}
 *
 * Validation failures (zod, SSRF rule, missing master key) answer 400 with the rule in `code`; a taken
 * namespace or a root-mount clash 409. Credentials are accepted, never returned, never audited.
 */
import type { z } from 'zod';
import type { Tenant } from '../store/ports.js';
import { CreateUpstreamBody, Namespace, UpdateUpstreamBody } from './upstream-config.js';
import { UpstreamValidationError, type UpstreamRegistry } from './upstream-registry.js';
import type { SecretBox } from './crypto/secret-box.js';
import { KeyUnavailableError } from './crypto/key-provider.js';

/** What admin.ts hands to an extension route. */
export interface AdminRouteContext {
  readonly request: Request;
  /** Path segments after /admin/v1. */
  readonly segments: readonly string[];
  /** Resolves a tenant by id or name; throws NotFoundError. */
  tenantOf(ref: string): Promise<Tenant>;
  /** Reads and validates the JSON body; throws the admin API's 400 error. */
  body<T extends z.ZodType>(request: Request, schema: T): Promise<z.output<T>>;
  /** Records an admin action in the audit log. */
  audit(entry: { tenantId: string | null; action: string; target?: string; detail?: Record<string, unknown> }): Promise<void>;
}

/** An extension route: a Response when it owns the path, undefined otherwise. */
export type AdminRoute = (ctx: AdminRouteContext) => Promise<Response | undefined>;

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
/** The URL without query or fragment (they may carry tokens; the audit log must not). */
const withoutQuery = (url: string) => url.replace(/[?#].*$/, '');
const fail = (status: number, code: string, message: string) => json(status, { error: { code, message } });

/** The federation's admin routes. */
export function upstreamAdminRoute(registry: UpstreamRegistry, secrets: () => SecretBox | undefined): AdminRoute {
  return async (ctx) => {
    const [a, t, sub, name, verb, ...rest] = ctx.segments;
    const method = ctx.request.method;
    if (a === 'secrets' && t === 'rotate-master' && sub === undefined) {
      if (method !== 'POST') return fail(405, 'method_not_allowed', 'use POST /secrets/rotate-master');
      const box = secrets();
      if (!box) return fail(400, 'no-master-key', 'neither SECRETS_KMS_KEY_ID nor SECRETS_MASTER_KEY is configured on this gateway');
      const result = await box.rotateMaster().catch((err: unknown) => {
        if (err instanceof KeyUnavailableError) return err;
        throw err;
      });
      if (result instanceof KeyUnavailableError) return fail(503, 'key-unavailable', result.message);
      await ctx.audit({
        tenantId: null,
        action: 'secrets.rotate-master',
        target: result.masterKeyId,
        detail: { rewrapped: result.rewrapped, remaining: result.remaining },
      });
      return json(200, result);
    }
    if (a !== 'tenants' || t === undefined || sub !== 'upstreams' || rest.length) return undefined;
    const tenant = await ctx.tenantOf(t);
    try {
      if (name === undefined) {
        if (method === 'GET') return json(200, { upstreams: await registry.list(tenant.id) });
        if (method !== 'POST') return fail(405, 'method_not_allowed', `${method} not allowed on /tenants/:tenant/upstreams`);
        const input = await ctx.body(ctx.request, CreateUpstreamBody);
        const upstream = await registry.add(tenant, input);
        await ctx.audit({
          tenantId: tenant.id,
          action: 'upstream.create',
          target: upstream.namespace,
          detail: { url: withoutQuery(upstream.url), root: upstream.root, auth: upstream.auth.kind },
        });
        return json(201, { upstream });
      }
      const ns = Namespace.safeParse(decodeURIComponent(name));
      if (!ns.success) return fail(400, 'bad_request', `invalid upstream name: ${ns.error.issues[0]?.message ?? 'bad namespace'}`);
      if (verb === 'test') {
        if (method !== 'POST') return fail(405, 'method_not_allowed', 'use POST /tenants/:tenant/upstreams/:name/test');
        return json(200, { test: await registry.test(tenant.id, ns.data) });
      }
      if (verb !== undefined) return fail(404, 'not_found', `no admin route ${ctx.segments.join('/')}`);
      if (method === 'GET') return json(200, { upstream: await registry.show(tenant.id, ns.data) });
      if (method === 'PATCH') {
        const patch = await ctx.body(ctx.request, UpdateUpstreamBody);
        const upstream = await registry.update(tenant, ns.data, patch);
        await ctx.audit({ tenantId: tenant.id, action: 'upstream.update', target: ns.data, detail: { fields: Object.keys(patch) } });
        return json(200, { upstream });
      }
      if (method === 'DELETE') {
        await registry.remove(tenant.id, ns.data);
        await ctx.audit({ tenantId: tenant.id, action: 'upstream.remove', target: ns.data });
        return new Response(null, { status: 204 });
      }
      return fail(405, 'method_not_allowed', `${method} not allowed on /tenants/:tenant/upstreams/:name`);
    } catch (err) {
      if (err instanceof UpstreamValidationError) return fail(400, err.rule ?? 'bad_request', err.message);
      // The master key (local or KMS) cannot open or wrap the tenant's data key: the operator's to fix.
      if (err instanceof KeyUnavailableError) return fail(503, 'key-unavailable', err.message);
      throw err;
    }
  };
}
