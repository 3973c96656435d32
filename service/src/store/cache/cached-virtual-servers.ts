/**
 * VirtualServerStore whose `list` (read on every request served through a virtual server or by a scoped
 * key) is cached in the tiered cache; create and delete invalidate the tenant's entry, and the
 * invalidation reaches every replica over pub/sub (milliseconds; the LRU TTL bounds a lost broadcast).
 */
import { z } from 'zod';
import type { VirtualServer } from '../../domain/virtual-server.js';
import type { VirtualServerInput, VirtualServerStore } from '../ports.js';
import type { TieredCache } from './tiered-cache.js';

/** Cache namespace of a tenant's virtual servers (bump the suffix when the shape changes). */
export const VIRTUAL_SERVERS_NS = 'vservers.v1';

const ServerList = z.array(
  z.object({
    tenantId: z.string(),
    name: z.string(),
    include: z.array(z.string()),
    exclude: z.array(z.string()),
    renames: z.array(z.object({ from: z.string(), to: z.string() })),
    descriptions: z.record(z.string(), z.string()),
    toolListing: z.enum(['all', 'search']),
    createdAt: z.coerce.date(),
    updatedAt: z.coerce.date(),
  }),
);

/** Cache-aside decorator of a VirtualServerStore. */
export class CachedVirtualServerStore implements VirtualServerStore {
  constructor(
    private readonly inner: VirtualServerStore,
    private readonly cache: TieredCache,
  ) {}

  async create(tenantId: string, input: VirtualServerInput): Promise<VirtualServer> {
    const created = await this.inner.create(tenantId, input);
    await this.cache.invalidate(VIRTUAL_SERVERS_NS, tenantId);
    return created;
  }

  list(tenantId: string): Promise<VirtualServer[]> {
    return this.cache.get(VIRTUAL_SERVERS_NS, tenantId, () => this.inner.list(tenantId), { schema: ServerList });
  }

  async delete(tenantId: string, name: string): Promise<void> {
    try {
      await this.inner.delete(tenantId, name);
    } finally {
      await this.cache.invalidate(VIRTUAL_SERVERS_NS, tenantId);
    }
  }
}
