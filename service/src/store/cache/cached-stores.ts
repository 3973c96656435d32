/**
 * Cache decorators for the hot lookups: API key verification and tenant config. They wrap any
 * ApiKeyStore / TenantStore and invalidate on every change made through them; the invalidation reaches
 * every gateway instance over pub/sub, so a revoked key or disabled tenant stops working everywhere
 * within the broadcast delay (milliseconds), not the cache TTL.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Principal } from '../../domain/principal.js';
import type { ApiKeyRecord, ApiKeyStore, KeyRejection, Tenant, TenantStore } from '../ports.js';
import type { TieredCache } from './tiered-cache.js';

/** Cache namespaces (bump the suffix when the cached shape changes, so old entries are never read). */
export const CACHE_NS = { apiKeys: 'apikey.v1', tenants: 'tenant.v1', tenantNames: 'tenant-name.v1' } as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const PrincipalSchema = z.object({
  tenantId: z.string(),
  tenantName: z.string(),
  subject: z.string(),
  kind: z.enum(['api-key', 'oauth', 'anonymous']),
  toolsets: z.array(z.string()),
  scopes: z.array(z.string()),
});

const TenantSchema = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(['active', 'disabled']),
  toolsets: z.array(z.string()),
  homeRegion: z.string().nullable(),
  createdAt: z.coerce.date(),
});

// Built once: a zod schema built per lookup (`.nullable()` on every call) cost more than the lookup itself.
const NullablePrincipal = PrincipalSchema.nullable();
const NullableTenant = TenantSchema.nullable();
const KeyRejectionSchema: z.ZodType<KeyRejection> = z.union([
  z.object({ reason: z.enum(['unknown', 'revoked']) }),
  z.object({ reason: z.literal('tenant-disabled'), tenant: z.string() }),
]);

/** Options of the cached stores. */
export interface CachedStoreOptions {
  /** Redis lifetime of a failed lookup (unknown key), ms. @defaultValue 5000 */
  readonly negativeTtlMs?: number;
}

/** ApiKeyStore whose verify() is cached by the key's SHA-256 (the plain key is never stored). */
export class CachedApiKeyStore implements ApiKeyStore {
  constructor(
    private readonly inner: ApiKeyStore,
    private readonly cache: TieredCache,
    private readonly opts: CachedStoreOptions = {},
  ) {}

  create(tenantId: string, name: string, scopes?: readonly string[]): Promise<{ key: string; record: ApiKeyRecord }> {
    return this.inner.create(tenantId, name, scopes);
  }

  async verify(plainKey: string): Promise<Principal | null> {
    const id = createHash('sha256').update(plainKey).digest('hex');
    // Unknown keys are cached briefly only, so a key created right after a failed try works soon.
    return this.cache.get(CACHE_NS.apiKeys, id, () => this.inner.verify(plainKey), {
      schema: NullablePrincipal,
      ttlFor: (p) => (p === null ? (this.opts.negativeTtlMs ?? 5_000) : undefined),
    });
  }

  /** Cached like a failed verify (same namespace, so a revoke or a tenant change drops it too). */
  explainRejection(plainKey: string): Promise<KeyRejection> {
    const id = `${createHash('sha256').update(plainKey).digest('hex')}:why`;
    return this.cache.get(CACHE_NS.apiKeys, id, () => this.inner.explainRejection(plainKey), {
      schema: KeyRejectionSchema,
      ttlFor: () => this.opts.negativeTtlMs ?? 5_000,
    });
  }

  list(tenantId: string): Promise<ApiKeyRecord[]> {
    return this.inner.list(tenantId);
  }

  async revoke(tenantId: string, keyId: string): Promise<void> {
    await this.inner.revoke(tenantId, keyId);
    // The cache is keyed by the key's hash, which the revoker does not know: drop every cached key.
    await this.cache.invalidateNamespace(CACHE_NS.apiKeys);
  }
}

/** TenantStore whose get/getByName are cached; changes invalidate the tenant and every cached principal. */
export class CachedTenantStore implements TenantStore {
  constructor(
    private readonly inner: TenantStore,
    private readonly cache: TieredCache,
  ) {}

  create(input: { name: string; toolsets?: readonly string[] }): Promise<Tenant> {
    return this.changed(this.inner.create(input));
  }

  ensure(input: { name: string; toolsets?: readonly string[] }): Promise<Tenant> {
    return this.changed(this.inner.ensure(input));
  }

  get(id: string): Promise<Tenant | null> {
    return this.cache.get(CACHE_NS.tenants, id, () => this.inner.get(id), { schema: NullableTenant });
  }

  getByName(name: string): Promise<Tenant | null> {
    return this.cache.get(CACHE_NS.tenantNames, name, () => this.inner.getByName(name), { schema: NullableTenant });
  }

  /** By id (a uuid) or by name, like the PostgreSQL store's find. */
  find(idOrName: string): Promise<Tenant | null> {
    return UUID.test(idOrName) ? this.get(idOrName) : this.getByName(idOrName);
  }

  list(): Promise<Tenant[]> {
    return this.inner.list();
  }

  setStatus(id: string, status: Tenant['status']): Promise<Tenant> {
    return this.changed(this.inner.setStatus(id, status), true);
  }

  setToolsets(id: string, toolsets: readonly string[]): Promise<Tenant> {
    return this.changed(this.inner.setToolsets(id, toolsets), true);
  }

  private async changed(p: Promise<Tenant>, principals = false): Promise<Tenant> {
    const t = await p;
    await this.cache.invalidate(CACHE_NS.tenants, t.id);
    await this.cache.invalidate(CACHE_NS.tenantNames, t.name);
    // Principals carry the tenant's status and toolsets.
    if (principals) await this.cache.invalidateNamespace(CACHE_NS.apiKeys);
    return t;
  }
}
