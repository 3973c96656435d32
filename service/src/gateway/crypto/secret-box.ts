/**
 * Envelope encryption of upstream credentials: each tenant has one random AES-256 data key, stored only
 * wrapped by the key provider's master key; credentials are AES-256-GCM sealed under it with the
 * tenant and upstream ids as additional data, so a ciphertext copied to another row does not open.
 * Unwrapped data keys are cached in process for a short while (bounded map).
 */
import { randomBytes } from 'node:crypto';
import type { PgUpstreamStore } from '../../store/pg/upstream-store.js';
import { openAesGcm, sealAesGcm, type KeyProvider } from './key-provider.js';

/** Seals and opens credentials per tenant. */
export class SecretBox {
  private readonly cache = new Map<string, { key: Buffer; at: number }>();

  constructor(
    private readonly store: PgUpstreamStore,
    private readonly provider: KeyProvider,
    private readonly cacheMs = 60_000,
  ) {}

  /** Encrypts `plaintext` for (tenant, upstream). */
  async seal(tenantId: string, upstreamId: string, plaintext: string): Promise<Buffer> {
    const key = await this.dataKey(tenantId, true);
    return sealAesGcm(key, Buffer.from(plaintext, 'utf8'), `cred:${tenantId}:${upstreamId}`);
  }

  /** Decrypts what seal produced. */
  async open(tenantId: string, upstreamId: string, sealed: Buffer): Promise<string> {
    const key = await this.dataKey(tenantId, false);
    return openAesGcm(key, sealed, `cred:${tenantId}:${upstreamId}`).toString('utf8');
  }

  /**
   * Re-wraps every data key not yet under the provider's current master key (stored master_key_id differs
   * from currentKeyId: an older local key, the local key after a move to KMS, or an older KMS key).
   * Idempotent; returns how many keys were re-wrapped and how many remain (keys written concurrently are
   * retried next run).
   */
  async rotateMaster(): Promise<{ rewrapped: number; remaining: number; masterKeyId: string }> {
    // "Remaining" compares stored ids with currentKeyId: settle it first (a KMS alias -> its key ARN).
    await this.provider.ready?.();
    let rewrapped = 0;
    for (;;) {
      const batch = await this.store.dataKeysNotWrappedBy(this.provider.currentKeyId);
      if (batch.length === 0) break;
      let progressed = false;
      for (const old of batch) {
        const raw = await this.provider.unwrap(old.wrappedKey, old.masterKeyId, old.tenantId);
        const next = await this.provider.wrap(raw, old.tenantId);
        if (await this.store.rewrapDataKey(old, { tenantId: old.tenantId, ...next })) {
          rewrapped++;
          progressed = true;
        }
      }
      if (!progressed) break;
    }
    this.cache.clear();
    const remaining = (await this.store.dataKeysNotWrappedBy(this.provider.currentKeyId)).length;
    return { rewrapped, remaining, masterKeyId: this.provider.currentKeyId };
  }

  private async dataKey(tenantId: string, create: boolean): Promise<Buffer> {
    const hit = this.cache.get(tenantId);
    if (hit && Date.now() - hit.at < this.cacheMs) return hit.key;
    let stored = await this.store.getDataKey(tenantId);
    if (!stored) {
      if (!create) throw new Error(`tenant ${tenantId} has no data key`);
      const wrapped = await this.provider.wrap(randomBytes(32), tenantId);
      stored = await this.store.putDataKeyIfAbsent({ tenantId, ...wrapped });
    }
    const key = await this.provider.unwrap(stored.wrappedKey, stored.masterKeyId, tenantId);
    if (this.cache.size >= 10_000) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(tenantId, { key, at: Date.now() });
    return key;
  }
}
