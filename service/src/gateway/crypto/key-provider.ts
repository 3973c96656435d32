/**
 * Key providers wrap and unwrap per-tenant data keys (envelope encryption). The local provider keeps the
 * master key in process memory (SECRETS_MASTER_KEY); a production deployment plugs in a KMS-backed
 * provider implementing the same interface (wrap = KMS Encrypt, unwrap = KMS Decrypt with the key id
 * stored next to the wrapped key), so the master key never leaves the KMS.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** Wraps data keys under a master key and unwraps them again. */
export interface KeyProvider {
  /** Id of the master key new wraps use (stored with each wrapped key). */
  readonly currentKeyId: string;
  /** Encrypts a data key under the current master key; `context` is bound as additional data. */
  wrap(dataKey: Buffer, context: string): Promise<{ wrappedKey: Buffer; masterKeyId: string }>;
  /** Decrypts a data key wrapped under master key `masterKeyId` (current or a retired one still configured). */
  unwrap(wrappedKey: Buffer, masterKeyId: string, context: string): Promise<Buffer>;
}

/** A master key the provider cannot use (not configured, or the ciphertext does not authenticate). */
export class KeyUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyUnavailableError';
  }
}

const FORMAT = 1;

/** Id of a raw master key: the first 16 hex digits of its SHA-256 (safe to store and log). */
export function masterKeyId(key: Buffer): string {
  return `local:${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

/** AES-256-GCM: format(1) | iv(12) | tag(16) | ciphertext, with `aad` authenticated. */
export function sealAesGcm(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([FORMAT]), iv, cipher.getAuthTag(), ct]);
}

/** Inverse of sealAesGcm; throws KeyUnavailableError when the data does not authenticate. */
export function openAesGcm(key: Buffer, sealed: Buffer, aad: string): Buffer {
  if (sealed.length < 29 || sealed[0] !== FORMAT) throw new KeyUnavailableError('ciphertext has an unknown format');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(1, 13));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(sealed.subarray(13, 29));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(29)), decipher.final()]);
  } catch {
    throw new KeyUnavailableError('ciphertext does not authenticate under this key (wrong key or tampered data)');
  }
}

/**
 * The default provider: master keys from configuration (base64, 32 bytes). The first is current; the
 * others are retired keys still accepted for unwrapping until `keys rotate-master` has re-wrapped
 * every data key.
 */
export class LocalKeyProvider implements KeyProvider {
  readonly currentKeyId: string;
  private readonly keys = new Map<string, Buffer>();

  /** @param current base64 master key; @param previous retired base64 master keys */
  constructor(current: string, previous: readonly string[] = []) {
    for (const b64 of [current, ...previous]) {
      const key = Buffer.from(b64, 'base64');
      if (key.length !== 32) throw new KeyUnavailableError('a master key must be base64 of exactly 32 bytes');
      this.keys.set(masterKeyId(key), key);
    }
    this.currentKeyId = masterKeyId(Buffer.from(current, 'base64'));
  }

  async wrap(dataKey: Buffer, context: string): Promise<{ wrappedKey: Buffer; masterKeyId: string }> {
    return { wrappedKey: sealAesGcm(this.keys.get(this.currentKeyId)!, dataKey, `dk:${context}`), masterKeyId: this.currentKeyId };
  }

  async unwrap(wrappedKey: Buffer, keyId: string, context: string): Promise<Buffer> {
    const key = this.keys.get(keyId);
    if (!key) throw new KeyUnavailableError(`master key ${keyId} is not configured (set it in SECRETS_PREVIOUS_MASTER_KEYS until rotation is done)`);
    return openAesGcm(key, wrappedKey, `dk:${context}`);
  }
}
