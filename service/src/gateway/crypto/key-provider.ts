/**
 * Key providers wrap and unwrap per-tenant data keys (envelope encryption). The local provider keeps the
 * master key in process memory (SECRETS_MASTER_KEY); production uses KmsKeyProvider (kms-key-provider.ts:
 * wrap = KMS Encrypt, unwrap = KMS Decrypt with the key id stored next to the wrapped key), so the master
 * key never leaves the KMS. CompositeKeyProvider lets a deployment move from one to the other: new wraps
 * use the current provider, older wraps are unwrapped by the provider whose scheme their id names
 * (`local:<hash>`, `kms:<key ARN>`) until `keys rotate-master` has re-wrapped them.
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
  /** True when this provider can unwrap keys wrapped under `masterKeyId`. @defaultValue same scheme prefix as currentKeyId */
  handles?(masterKeyId: string): boolean;
  /**
   * Settles `currentKeyId` (a KMS alias resolves to its key ARN). SecretBox awaits it before comparing
   * stored key ids with the current one (rotation). Optional: providers whose id is known up front omit it.
   */
  ready?(): Promise<void>;
}

/**
 * A master key the provider cannot use: not configured, access denied, disabled or deleted, or the
 * ciphertext does not authenticate under it (wrong key, wrong context, tampered). `code` is the KMS
 * error code when the KMS refused.
 */
export class KeyUnavailableError extends Error {
  readonly code: string | undefined;
  constructor(message: string, opts: { code?: string } = {}) {
    super(message);
    this.name = 'KeyUnavailableError';
    this.code = opts.code;
  }
}

/** The scheme of a master key id: `local` of `local:0123abcd…`, `kms` of `kms:arn:aws:kms:…`. */
export function keyScheme(masterKeyId: string): string {
  const i = masterKeyId.indexOf(':');
  return i < 0 ? '' : masterKeyId.slice(0, i);
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

  handles(keyId: string): boolean {
    return keyScheme(keyId) === 'local';
  }

  /** Ids of every configured master key (current first); safe to log. */
  keyIds(): string[] {
    return [...this.keys.keys()];
  }

  async unwrap(wrappedKey: Buffer, keyId: string, context: string): Promise<Buffer> {
    const key = this.keys.get(keyId);
    if (!key) throw new KeyUnavailableError(`master key ${keyId} is not configured (set it in SECRETS_PREVIOUS_MASTER_KEYS until rotation is done)`);
    return openAesGcm(key, wrappedKey, `dk:${context}`);
  }
}

/**
 * One current provider for new wraps plus retired ones for unwrapping, chosen by the scheme of the stored
 * key id: e.g. KMS current and the local master key still configured while `keys rotate-master` moves the
 * data keys wrapped before the switch. The current provider is asked first.
 */
export class CompositeKeyProvider implements KeyProvider {
  constructor(
    private readonly current: KeyProvider,
    private readonly retired: readonly KeyProvider[],
  ) {}

  get currentKeyId(): string {
    return this.current.currentKeyId;
  }

  async ready(): Promise<void> {
    await this.current.ready?.();
  }

  wrap(dataKey: Buffer, context: string): Promise<{ wrappedKey: Buffer; masterKeyId: string }> {
    return this.current.wrap(dataKey, context);
  }

  handles(masterKeyId: string): boolean {
    return [this.current, ...this.retired].some((p) => handledBy(p, masterKeyId));
  }

  unwrap(wrappedKey: Buffer, masterKeyId: string, context: string): Promise<Buffer> {
    const provider = [this.current, ...this.retired].find((p) => handledBy(p, masterKeyId));
    if (!provider) {
      const scheme = keyScheme(masterKeyId);
      const hint =
        scheme === 'local' ? 'set SECRETS_MASTER_KEY or SECRETS_PREVIOUS_MASTER_KEYS' : scheme === 'kms' ? 'set SECRETS_KMS_KEY_ID' : 'unknown key scheme';
      return Promise.reject(new KeyUnavailableError(`no key provider configured for master key ${masterKeyId} (${hint} until rotation is done)`));
    }
    return provider.unwrap(wrappedKey, masterKeyId, context);
  }
}

function handledBy(p: KeyProvider, masterKeyId: string): boolean {
  return p.handles ? p.handles(masterKeyId) : keyScheme(p.currentKeyId) === keyScheme(masterKeyId);
}
