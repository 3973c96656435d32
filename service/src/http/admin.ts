/**
 * Admin API under /admin/v1 (JSON; `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time).
 *
 *   POST   /tenants                     {name, toolsets?, createKey?=true, keyName?} -> 201 {tenant, key?, apiKey?}
 *   GET    /tenants                     -> {tenants}
 *   GET    /tenants/:t                  -> {tenant}               (:t = tenant id or name)
 *   PATCH  /tenants/:t                  {toolsets} -> {tenant}
 *   POST   /tenants/:t/disable|enable   -> {tenant}
 *   POST   /tenants/:t/keys             {name?, scopes?} -> 201 {key, apiKey}   (scopes: server:<name> | tool:<glob>)
 *   GET    /tenants/:t/keys             -> {keys}
 *   DELETE /tenants/:t/keys/:keyId      -> 204
 *   GET    /audit?tenant=&limit=        -> {entries}
 *
 * Errors: `{error: {code, message, issues?}}` with 400 (validation), 401, 404, 405, 409. Every change is
 * written to the audit log (actor `admin`).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Logger } from '../log/logger.js';
import {
  ConflictError,
  NotFoundError,
  type ApiKeyRecord,
  type ApiKeyStore,
  type AuditEntry,
  type AuditLog,
  type Tenant,
  type TenantStore,
  type VirtualServerStore,
} from '../store/ports.js';
import { parseScopes, scopeError } from '../domain/virtual-server.js';
import { TENANT_NAME } from '../store/pg/pg-tenant-store.js';
import type { PgTenantStore } from '../store/pg/pg-tenant-store.js';
import type { AdminRoute } from '../gateway/admin-routes.js';
import { apiError, json } from './respond.js';

/** Dependencies of the admin API. */
export interface AdminDeps {
  adminToken: string;
  tenants: TenantStore & Pick<PgTenantStore, 'find'>;
  apiKeys: ApiKeyStore;
  audit: AuditLog;
  logger: Logger;
  /** Called after a change that must stop cached credentials at once on this replica. */
  onCredentialsChanged(): void;
  /** Largest accepted JSON body, bytes. */
  maxBodyBytes: number;
  /** Throws (with a message naming them) when toolset names are unknown. */
  validateToolsets(names: readonly string[]): void;
  /** Throws a ConflictError (409) when the tenant's upstreams expose names the new toolsets would add. */
  checkToolsetNames?(tenant: { id: string; toolsets: readonly string[] }, names: readonly string[]): Promise<void>;
  /** A tenant's virtual servers: a key's `server:<name>` scope must name one. @defaultValue none (server scopes refused) */
  virtualServers?: Pick<VirtualServerStore, 'list'>;
  /** Extra routes (the federation's upstream and secrets routes); each answers or returns undefined. */
  extensions?: readonly AdminRoute[];
}

const ToolsetName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'a toolset name (lower-case letters, digits, - and _)');
const Toolsets = z.array(ToolsetName).max(64);
const KeyName = z.string().trim().min(1).max(100);

const CreateTenantBody = z.strictObject({
  name: z.string().regex(TENANT_NAME, 'a tenant name: 1-63 lower-case letters, digits, - or _, starting with a letter or digit'),
  toolsets: Toolsets.optional(),
  createKey: z.boolean().default(true),
  keyName: KeyName.default('default'),
});
const PatchTenantBody = z.strictObject({ toolsets: Toolsets });
const CreateKeyBody = z.strictObject({
  name: KeyName.default('default'),
  scopes: z
    .array(z.string().superRefine((s, ctx) => void (scopeError(s) && ctx.addIssue({ code: 'custom', message: scopeError(s)! }))))
    .max(64)
    .optional(),
});
const AuditQuery = z.object({ tenant: z.string().min(1).optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) });

class BadRequest extends Error {
  constructor(
    message: string,
    readonly issues: string[] = [],
  ) {
    super(message);
  }
}

const tenantJson = (t: Tenant) => ({
  id: t.id,
  name: t.name,
  status: t.status,
  toolsets: t.toolsets,
  homeRegion: t.homeRegion,
  createdAt: t.createdAt.toISOString(),
});
const keyJson = (k: ApiKeyRecord) => ({
  id: k.id,
  tenantId: k.tenantId,
  prefix: k.prefix,
  name: k.name,
  createdAt: k.createdAt.toISOString(),
  revokedAt: k.revokedAt?.toISOString() ?? null,
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
  scopes: k.scopes,
});

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Builds the admin request handler; `path` is the part after /admin/v1. */
export function createAdminHandler(deps: AdminDeps): (request: Request, path: string, requestId: string) => Promise<Response> {
  const expected = digest(deps.adminToken);

  /** Undefined when the request carries the admin token, else the 401 message saying what was wrong. */
  const refusal = (request: Request): string | undefined => {
    const header = request.headers.get('authorization');
    if (!header) return 'admin token required: send Authorization: Bearer <ADMIN_TOKEN>';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) return 'malformed Authorization header: expected "Bearer <ADMIN_TOKEN>"';
    // Comparing fixed-length digests keeps the comparison constant-time regardless of the token's length.
    if (!timingSafeEqual(digest(m[1]!), expected)) return "wrong admin token: the Bearer token does not match this server's ADMIN_TOKEN";
    return undefined;
  };

  const body = async <T extends z.ZodType>(request: Request, schema: T): Promise<z.output<T>> => {
    const type = request.headers.get('content-type') ?? '';
    const text = await request.text();
    if (Buffer.byteLength(text) > deps.maxBodyBytes) throw new BadRequest('request body too large');
    let raw: unknown = {};
    if (text.trim()) {
      if (!/^application\/json\b/i.test(type)) throw new BadRequest('Content-Type must be application/json');
      try {
        raw = JSON.parse(text);
      } catch {
        throw new BadRequest('request body is not valid JSON');
      }
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      throw new BadRequest(
        'invalid request body',
        parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`),
      );
    }
    const toolsets = (parsed.data as { toolsets?: string[] }).toolsets;
    if (toolsets) {
      try {
        deps.validateToolsets(toolsets);
      } catch (err) {
        throw new BadRequest('invalid request body', [`toolsets: ${(err as Error).message}`]);
      }
    }
    return parsed.data;
  };

  const tenantOf = async (ref: string) => {
    const tenant = await deps.tenants.find(decodeURIComponent(ref));
    if (!tenant) throw new NotFoundError(`tenant "${decodeURIComponent(ref)}" not found`);
    return tenant;
  };

  return async (request, path, requestId) => {
    const refused = refusal(request);
    if (refused) {
      // Logged, not audited: unauthenticated callers must not be able to fill the audit table.
      deps.logger.warn({ path, method: request.method, reason: refused.slice(0, refused.indexOf(':')) }, 'admin request without a valid admin token');
      return apiError(401, 'unauthorized', refused);
    }
    const started = Date.now();
    const segments = path.split('/').filter(Boolean);
    const method = request.method;
    const audit = (entry: Omit<AuditEntry, 'actor' | 'requestId' | 'durationMs' | 'outcome'> & { outcome?: AuditEntry['outcome'] }) =>
      deps.audit.record({ outcome: 'ok', ...entry, actor: 'admin', requestId, durationMs: Date.now() - started });
    try {
      for (const route of deps.extensions ?? []) {
        const answer = await route({ request, segments, tenantOf, body, audit: (e) => audit(e) });
        if (answer) return answer;
      }
      const [a, t, sub, keyId, ...rest] = segments;
      if (rest.length) return apiError(404, 'not_found', `no admin route ${path}`);
      if (a === 'tenants' && t === undefined) {
        if (method === 'GET') return json(200, { tenants: (await deps.tenants.list()).map(tenantJson) });
        if (method === 'POST') {
          const input = await body(request, CreateTenantBody);
          const tenant = await deps.tenants.create({ name: input.name, toolsets: input.toolsets ?? [] });
          const created = input.createKey ? await deps.apiKeys.create(tenant.id, input.keyName) : undefined;
          await audit({ tenantId: tenant.id, action: 'tenant.create', target: tenant.name, detail: { toolsets: tenant.toolsets } });
          if (created) await audit({ tenantId: tenant.id, action: 'key.create', target: created.record.id });
          return json(201, { tenant: tenantJson(tenant), ...(created && { key: keyJson(created.record), apiKey: created.key }) });
        }
        return apiError(405, 'method_not_allowed', `${method} not allowed on /tenants`);
      }
      if (a === 'tenants' && t !== undefined) {
        const tenant = await tenantOf(t);
        if (sub === undefined) {
          if (method === 'GET') return json(200, { tenant: tenantJson(tenant) });
          if (method === 'PATCH') {
            const input = await body(request, PatchTenantBody);
            await deps.checkToolsetNames?.(tenant, input.toolsets);
            const updated = await deps.tenants.setToolsets(tenant.id, input.toolsets);
            deps.onCredentialsChanged();
            await audit({ tenantId: tenant.id, action: 'tenant.update', target: tenant.name, detail: { toolsets: input.toolsets } });
            return json(200, { tenant: tenantJson(updated) });
          }
          return apiError(405, 'method_not_allowed', `${method} not allowed on /tenants/:tenant`);
        }
        if ((sub === 'disable' || sub === 'enable') && keyId === undefined) {
          if (method !== 'POST') return apiError(405, 'method_not_allowed', `use POST /tenants/:tenant/${sub}`);
          const updated = await deps.tenants.setStatus(tenant.id, sub === 'disable' ? 'disabled' : 'active');
          deps.onCredentialsChanged();
          await audit({ tenantId: tenant.id, action: `tenant.${sub}`, target: tenant.name });
          return json(200, { tenant: tenantJson(updated) });
        }
        if (sub === 'keys' && keyId === undefined) {
          if (method === 'GET') return json(200, { keys: (await deps.apiKeys.list(tenant.id)).map(keyJson) });
          if (method === 'POST') {
            const input = await body(request, CreateKeyBody);
            const scopes = [...new Set(input.scopes ?? [])];
            // A server scope names one of the tenant's virtual servers (a typo would lock the key out).
            const servers = parseScopes(scopes).servers;
            if (servers.length) {
              const known = new Set((await deps.virtualServers?.list(tenant.id))?.map((s) => s.name) ?? []);
              const unknown = servers.filter((s) => !known.has(s));
              if (unknown.length)
                throw new BadRequest(
                  'invalid request body',
                  unknown.map((s) => `scopes: tenant ${tenant.name} has no virtual server "${s}"`),
                );
            }
            const created = await deps.apiKeys.create(tenant.id, input.name, scopes);
            await audit({ tenantId: tenant.id, action: 'key.create', target: created.record.id, ...(scopes.length && { detail: { scopes } }) });
            return json(201, { key: keyJson(created.record), apiKey: created.key });
          }
          return apiError(405, 'method_not_allowed', `${method} not allowed on /tenants/:tenant/keys`);
        }
        if (sub === 'keys' && keyId !== undefined) {
          if (method !== 'DELETE') return apiError(405, 'method_not_allowed', 'use DELETE /tenants/:tenant/keys/:keyId to revoke');
          await deps.apiKeys.revoke(tenant.id, decodeURIComponent(keyId));
          deps.onCredentialsChanged();
          await audit({ tenantId: tenant.id, action: 'key.revoke', target: keyId });
          return new Response(null, { status: 204 });
        }
      }
      if (a === 'audit' && t === undefined) {
        if (method !== 'GET') return apiError(405, 'method_not_allowed', 'use GET /audit');
        const q = AuditQuery.safeParse(Object.fromEntries(new URL(request.url).searchParams));
        if (!q.success)
          throw new BadRequest(
            'invalid query',
            q.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
          );
        const tenantId = q.data.tenant === undefined ? undefined : (await tenantOf(q.data.tenant)).id;
        const entries = await deps.audit.list({ limit: q.data.limit, ...(tenantId && { tenantId }) });
        return json(200, { entries: entries.map((e) => ({ ...e, at: e.at.toISOString() })) });
      }
      return apiError(404, 'not_found', `no admin route ${method} ${path}`);
    } catch (err) {
      if (err instanceof BadRequest) return apiError(400, 'bad_request', err.message, err.issues.length ? err.issues : undefined);
      if (err instanceof NotFoundError) return apiError(404, 'not_found', err.message);
      if (err instanceof ConflictError) {
        await audit({ tenantId: null, action: `${method} ${path}`, outcome: 'error', detail: { error: 'conflict' } });
        return apiError(409, 'conflict', err.message);
      }
      throw err;
    }
  };
}
