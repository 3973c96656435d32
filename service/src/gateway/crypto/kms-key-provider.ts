/**
 * The production key provider: tenant data keys are wrapped by an AWS KMS key, so the master key never
 * leaves the KMS. wrap = KMS Encrypt of the 32-byte data key with the tenant as encryption context;
 * unwrap = KMS Decrypt with the same context and KeyId = the key that wrapped it (the stored id), so a
 * data key wrapped under an older key still opens while the role may use that key, and KMS refuses a
 * wrapped key presented for another tenant or under another key.
 *
 * Stored key ids are `kms:<key ARN>` (the ARN KMS answers with, also when SECRETS_KMS_KEY_ID is an alias).
 * Rotation: KMS automatic rotation keeps the ARN (nothing to re-wrap); a new key in SECRETS_KMS_KEY_ID
 * makes new wraps use it and `keys rotate-master` re-wraps every data key still under another id.
 *
 * Needs only kms:Encrypt and kms:Decrypt: an alias is resolved to its key ARN by the answer of an Encrypt
 * (the first wrap, or a probe Encrypt of random bytes when rotation asks first), not by DescribeKey.
 * Errors that mean "this key cannot be used" (access denied, not found, disabled, wrong ciphertext or
 * context) become KeyUnavailableError with the KMS code; throttling and network errors are retried by the
 * SDK and then thrown as plain errors. Neither plaintext nor ciphertext is ever logged.
 */
import { randomBytes } from 'node:crypto';
import { DecryptCommand, EncryptCommand, KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms';
import type { Logger } from '../../log/logger.js';
import { KeyUnavailableError, keyScheme, type KeyProvider } from './key-provider.js';

/** Prefix of the stored id of a KMS-wrapped data key. */
export const KMS_KEY_ID_PREFIX = 'kms:';

const KMS_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:(key|alias)\/[\w/-]+$/;
const KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[\w-]+$/;

/** Region of a KMS key or alias ARN, undefined for a bare key id or alias name. */
export function kmsArnRegion(keyId: string): string | undefined {
  return KMS_ARN.exec(keyId)?.[1];
}

/** The encryption context a tenant's data key is wrapped with (authenticated by KMS, visible in CloudTrail). */
export function dataKeyEncryptionContext(tenantId: string): Record<string, string> {
  return { purpose: 'umcp-tenant-data-key', tenant: tenantId };
}

/** KMS error codes that mean the key cannot be used for this ciphertext, with what to do about it. */
const UNAVAILABLE: Record<string, string> = {
  AccessDeniedException: 'access denied: the role needs kms:Encrypt and kms:Decrypt on this key (IAM policy and key policy)',
  UnrecognizedClientException: 'the AWS credentials are not valid',
  InvalidSignatureException: 'the AWS credentials are not valid (signature rejected)',
  CredentialsProviderError: 'no AWS credentials found (environment, profile, web identity or Pod Identity)',
  NotFoundException: 'the key or alias does not exist in this account and region',
  InvalidArnException: 'the key id is not a valid KMS key ARN',
  DisabledException: 'the key is disabled (enable it, or re-wrap under another key before disabling)',
  KMSInvalidStateException: 'the key is not usable in its current state (pending deletion or import)',
  KeyUnavailableException: "the key's key store is unavailable",
  InvalidKeyUsageException: 'the key is not a symmetric ENCRYPT_DECRYPT key',
  InvalidCiphertextException: 'the wrapped key does not authenticate (wrong encryption context, i.e. another tenant, or tampered data)',
  IncorrectKeyException: 'the wrapped key was not produced by the key its stored id names',
};

/** Options of KmsKeyProvider. */
export interface KmsKeyProviderOptions {
  /** SECRETS_KMS_KEY_ID: key id, key ARN, alias name (`alias/…`) or alias ARN. */
  readonly keyId: string;
  /** AWS_REGION; a key or alias ARN's own region wins (KMS is called in the key's region). */
  readonly region?: string;
  /** SECRETS_KMS_ENDPOINT: a VPC endpoint or a test server. @defaultValue the public KMS endpoint of the region */
  readonly endpoint?: string;
  /** @defaultValue the AWS SDK default chain (environment, profile, web identity, Pod Identity / IRSA) */
  readonly credentials?: KMSClientConfig['credentials'];
  /** Per-attempt timeout of a KMS request, ms (the SDK makes up to 3 attempts). @defaultValue 5000 */
  readonly requestTimeoutMs?: number;
  readonly logger?: Pick<Logger, 'info' | 'warn'>;
  /** Injectable client (tests); region, endpoint, credentials and timeout are then ignored. */
  readonly client?: KMSClient;
}

/** Wraps data keys with AWS KMS Encrypt and unwraps them with Decrypt. */
export class KmsKeyProvider implements KeyProvider {
  /** Region KMS is called in (undefined only with an injected client). */
  readonly region: string | undefined;
  private readonly configuredKeyId: string;
  private readonly client: KMSClient;
  private readonly logger: Pick<Logger, 'info' | 'warn'> | undefined;
  /** The key ARN KMS answered with (known up front when SECRETS_KMS_KEY_ID is a key ARN). */
  private keyArn: string | undefined;
  private resolving: Promise<void> | undefined;

  constructor(opts: KmsKeyProviderOptions) {
    this.configuredKeyId = opts.keyId.trim();
    if (!this.configuredKeyId) throw new Error('KmsKeyProvider: keyId is empty');
    const region = kmsArnRegion(this.configuredKeyId) ?? opts.region;
    if (!region && !opts.client) throw new Error(`KmsKeyProvider: no region for KMS key ${this.configuredKeyId}: set AWS_REGION or use a key ARN`);
    this.region = region;
    if (KEY_ARN.test(this.configuredKeyId)) this.keyArn = this.configuredKeyId;
    this.logger = opts.logger;
    this.client =
      opts.client ??
      new KMSClient({
        region,
        ...(opts.endpoint && { endpoint: opts.endpoint }),
        ...(opts.credentials && { credentials: opts.credentials }),
        maxAttempts: 3,
        requestHandler: { connectionTimeout: 2_000, requestTimeout: opts.requestTimeoutMs ?? 5_000 },
      });
  }

  /** `kms:<key ARN>` once known, `kms:<configured id>` before an alias has been resolved (see ready()). */
  get currentKeyId(): string {
    return `${KMS_KEY_ID_PREFIX}${this.keyArn ?? this.configuredKeyId}`;
  }

  handles(masterKeyId: string): boolean {
    return keyScheme(masterKeyId) === 'kms';
  }

  /** Resolves an alias or bare key id to the key ARN with one probe Encrypt (random bytes, probe context). */
  async ready(): Promise<void> {
    if (this.keyArn) return;
    this.resolving ??= (async () => {
      const out = await this.send('Encrypt', this.configuredKeyId, undefined, () =>
        this.client.send(new EncryptCommand({ KeyId: this.configuredKeyId, Plaintext: randomBytes(16), EncryptionContext: { purpose: 'umcp-key-probe' } })),
      );
      this.learn(out.KeyId);
    })().finally(() => {
      this.resolving = undefined;
    });
    await this.resolving;
  }

  async wrap(dataKey: Buffer, context: string): Promise<{ wrappedKey: Buffer; masterKeyId: string }> {
    const keyId = this.keyArn ?? this.configuredKeyId;
    const out = await this.send('Encrypt', keyId, context, () =>
      this.client.send(new EncryptCommand({ KeyId: keyId, Plaintext: dataKey, EncryptionContext: dataKeyEncryptionContext(context) })),
    );
    if (!out.CiphertextBlob?.length) throw new Error(`KMS Encrypt with key ${keyId} returned no ciphertext`);
    const arn = this.learn(out.KeyId);
    return { wrappedKey: Buffer.from(out.CiphertextBlob), masterKeyId: `${KMS_KEY_ID_PREFIX}${arn}` };
  }

  async unwrap(wrappedKey: Buffer, masterKeyId: string, context: string): Promise<Buffer> {
    if (!this.handles(masterKeyId)) throw new KeyUnavailableError(`master key ${masterKeyId} is not a KMS key`);
    const keyId = masterKeyId.slice(KMS_KEY_ID_PREFIX.length);
    const region = kmsArnRegion(keyId);
    if (region && this.region && region !== this.region) {
      throw new KeyUnavailableError(`KMS key ${keyId} is in region ${region}, but this provider calls KMS in ${this.region} (SECRETS_KMS_KEY_ID / AWS_REGION)`);
    }
    const out = await this.send('Decrypt', keyId, context, () =>
      this.client.send(new DecryptCommand({ CiphertextBlob: wrappedKey, KeyId: keyId, EncryptionContext: dataKeyEncryptionContext(context) })),
    );
    if (!out.Plaintext) throw new KeyUnavailableError(`KMS Decrypt with key ${keyId} returned no plaintext`);
    const key = Buffer.from(out.Plaintext);
    out.Plaintext.fill(0);
    if (key.length !== 32) throw new KeyUnavailableError(`KMS Decrypt with key ${keyId} returned ${key.length} bytes, not a 32-byte data key`);
    return key;
  }

  /** Closes the client's sockets. */
  close(): void {
    this.client.destroy();
  }

  /** Records the key ARN KMS answered with; returns it. */
  private learn(arn: string | undefined): string {
    if (!arn) throw new Error(`KMS answered without a key id for ${this.configuredKeyId}`);
    if (arn !== this.keyArn) {
      if (this.keyArn)
        this.logger?.warn(
          { configured: this.configuredKeyId, was: this.keyArn, now: arn },
          'KMS: the configured alias now names another key; new wraps use it',
        );
      else this.logger?.info({ configured: this.configuredKeyId, keyArn: arn }, 'KMS: data keys are wrapped under this key');
      this.keyArn = arn;
    }
    return arn;
  }

  /** Runs one KMS call; refusals become KeyUnavailableError, anything else a plain error (both logged without data). */
  private async send<T>(op: 'Encrypt' | 'Decrypt', keyId: string, tenantId: string | undefined, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      const e = err as { name?: string; message?: string; $metadata?: { requestId?: string; httpStatusCode?: number } };
      const code = e.name ?? 'Error';
      const requestId = e.$metadata?.requestId;
      const detail = (e.message ?? '').slice(0, 300);
      const where = `KMS ${op} with key ${keyId}${tenantId ? ` for tenant ${tenantId}` : ''}`;
      const hint = UNAVAILABLE[code];
      this.logger?.warn({ op, keyId, tenantId, code, requestId, status: e.$metadata?.httpStatusCode }, hint ? 'KMS refused the key' : 'KMS request failed');
      if (hint)
        throw new KeyUnavailableError(`${where} refused: ${code}: ${hint}${detail ? ` (${detail})` : ''}${requestId ? ` [request ${requestId}]` : ''}`, {
          code,
        });
      throw new Error(`${where} failed: ${code}${detail ? `: ${detail}` : ''}${requestId ? ` [request ${requestId}]` : ''}`);
    }
  }
}
