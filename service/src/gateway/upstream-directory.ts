/**
 * A tenant's upstream registrations as the request path needs them: read through the shared tiered
 * cache (LRU -> Redis -> PostgreSQL), credentials decrypted in process only. Invalidation goes through
 * the cache's pub/sub bus, so every replica sees a registration change at once.
 */
import { z } from 'zod';
import type { TieredCache } from '../store/cache/tiered-cache.js';
import type { PgUpstreamStore, UpstreamRecord } from '../store/pg/upstream-store.js';
import type { SecretBox } from './crypto/secret-box.js';
import { CredentialsInput, UpstreamOptions, type ResolvedUpstream } from './upstream-config.js';

/** Cache namespace of the registrations (key: tenant id). */
export const UPSTREAMS_NS = 'upstreams';

const Cached = z.array(
  z.object({
    id: z.string(),
    tenantId: z.string(),
    namespace: z.string(),
    url: z.string(),
    transport: z.enum(['streamable-http', 'sse']),
    root: z.boolean(),
    version: z.number(),
    options: z.record(z.string(), z.unknown()),
    /** base64 ciphertext */
    credentials: z.string().nullable(),
  }),
);
type Cached = z.infer<typeof Cached>;

const toCached = (r: UpstreamRecord): Cached[number] => ({
  id: r.id,
  tenantId: r.tenantId,
  namespace: r.namespace,
  url: r.url,
  transport: r.transport,
  root: r.root,
  version: r.version,
  options: r.options,
  credentials: r.credentials ? r.credentials.toString('base64') : null,
});

/** Reads registrations through the cache and decrypts credentials. */
export class UpstreamDirectory {
  private readonly decrypted = new Map<string, ResolvedUpstream>();

  constructor(
    private readonly store: PgUpstreamStore,
    private readonly cache: TieredCache,
    private readonly box: SecretBox | undefined,
    private readonly ttlMs = 300_000,
  ) {}

  /** Every upstream of the tenant, ready to connect. */
  async list(tenantId: string): Promise<ResolvedUpstream[]> {
    const rows = await this.cache.get(UPSTREAMS_NS, tenantId, async () => (await this.store.list(tenantId)).map(toCached), {
      schema: Cached,
      ttlMs: this.ttlMs,
    });
    return Promise.all(rows.map((r) => this.resolve(r)));
  }

  /** Drops the tenant's cached registrations on every replica. */
  async invalidate(tenantId: string): Promise<void> {
    await this.cache.invalidate(UPSTREAMS_NS, tenantId);
  }

  private async resolve(r: Cached[number]): Promise<ResolvedUpstream> {
    const memoKey = `${r.id}@${r.version}`;
    const hit = this.decrypted.get(memoKey);
    if (hit) return hit;
    let credentials;
    if (r.credentials) {
      if (!this.box) throw new Error(`upstream "${r.namespace}" has encrypted credentials but neither SECRETS_KMS_KEY_ID nor SECRETS_MASTER_KEY is configured`);
      credentials = CredentialsInput.parse(JSON.parse(await this.box.open(r.tenantId, r.id, Buffer.from(r.credentials, 'base64'))));
    }
    const resolved: ResolvedUpstream = {
      id: r.id,
      tenantId: r.tenantId,
      namespace: r.namespace,
      url: r.url,
      transport: r.transport,
      root: r.root,
      version: r.version,
      options: UpstreamOptions.parse(r.options),
      credentials,
    };
    if (this.decrypted.size > 5_000) this.decrypted.clear();
    this.decrypted.set(memoKey, resolved);
    return resolved;
  }
}
