/**
 * A KMS on 127.0.0.1 speaking the real KMS wire protocol: `TrentService.Encrypt` / `Decrypt` over awsJson1_1
 * (`X-Amz-Target`), SigV4 verified with static credentials, so the AWS SDK's requests really reach it. It
 * holds per-key AES-256-GCM material, authenticates the EncryptionContext and answers errors in KMS's shapes
 * (AccessDeniedException, DisabledException, IncorrectKeyException, InvalidCiphertextException,
 * NotFoundException, ...). Used by the KMS key provider tests and by the runtime contract test (the
 * stand-in behind SECRETS_KMS_ENDPOINT).
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Static credentials a FakeKms accepts (SigV4). */
export interface FakeKmsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Where the fake KMS lives: requests must be signed for this region; ARNs name this account. */
export interface FakeKmsOptions {
  readonly region: string;
  readonly account: string;
  readonly credentials: FakeKmsCredentials;
}

export interface FakeKey {
  readonly id: string;
  readonly arn: string;
  readonly material: Buffer;
  enabled: boolean;
}

export interface FakeCall {
  readonly op: string;
  readonly keyId: string | undefined;
  readonly context: Record<string, string> | undefined;
  readonly accessKeyId: string | undefined;
  readonly status: number;
}

const MAGIC = Buffer.from('FKMS');

export class FakeKms {
  readonly calls: FakeCall[] = [];
  /** Every plaintext a caller asked to encrypt (the data keys): the log check looks for them. */
  readonly plaintexts: Buffer[] = [];
  readonly denied = new Set<string>();
  private readonly keys = new Map<string, FakeKey>();
  private readonly aliases = new Map<string, string>();
  /** Key ids of imported ARNs -> internal ids. */
  private readonly arnIds = new Map<string, string>();
  private failures: { code: string; status: number; left: number } | undefined;
  private server!: Server;
  url = '';

  constructor(readonly options: FakeKmsOptions) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  createKey(alias?: string): string {
    const id = randomUUID();
    const arn = `arn:aws:kms:${this.options.region}:${this.options.account}:key/${id}`;
    this.keys.set(id, { id, arn, material: randomBytes(32), enabled: true });
    if (alias) this.aliases.set(alias, id);
    return arn;
  }

  /**
   * Holds a key under an ARN chosen by the caller (e.g. the one a stack's manifests name); the ARN must be in
   * this server's region and account. Key material is fresh; ciphertexts name the key by an internal id.
   */
  importKey(arn: string): string {
    const m = /^arn:aws:kms:([^:]+):(\d{12}):key\/(.+)$/.exec(arn);
    if (!m || m[1] !== this.options.region || m[2] !== this.options.account) {
      throw new Error(`FakeKms: ${arn} is not a key ARN in ${this.options.region}/${this.options.account}`);
    }
    const id = randomUUID();
    this.keys.set(id, { id, arn, material: randomBytes(32), enabled: true });
    this.arnIds.set(m[3]!, id);
    return arn;
  }

  setEnabled(arn: string, enabled: boolean): void {
    const id = arn.split('/').pop()!;
    this.keys.get(this.arnIds.get(id) ?? id)!.enabled = enabled;
  }

  /** The next `count` requests fail with a server-side error (the SDK retries those). */
  failNext(count: number, code = 'KMSInternalException', status = 500): void {
    this.failures = { code, status, left: count };
  }

  count(op: 'Encrypt' | 'Decrypt', status = 200): number {
    return this.calls.filter((c) => c.op === op && c.status === status).length;
  }

  private resolve(keyId: string | undefined): FakeKey | undefined {
    if (!keyId) return undefined;
    const alias = /^arn:aws:kms:([^:]+):(\d{12}):(alias\/.+)$/.exec(keyId);
    if (alias) return alias[1] === this.options.region && alias[2] === this.options.account ? this.keys.get(this.aliases.get(alias[3]!) ?? '') : undefined;
    if (keyId.startsWith('alias/')) return this.keys.get(this.aliases.get(keyId) ?? '');
    const arn = /^arn:aws:kms:([^:]+):(\d{12}):key\/(.+)$/.exec(keyId);
    if (arn) return arn[1] === this.options.region && arn[2] === this.options.account ? this.keys.get(this.arnIds.get(arn[3]!) ?? arn[3]!) : undefined;
    return this.keys.get(keyId);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const target = String(req.headers['x-amz-target'] ?? '');
    const op = target.startsWith('TrentService.') ? target.slice('TrentService.'.length) : target;
    let input: { KeyId?: string; Plaintext?: string; CiphertextBlob?: string; EncryptionContext?: Record<string, string> } = {};
    const send = (status: number, out: unknown, accessKeyId?: string) => {
      this.calls.push({ op, keyId: input.KeyId, context: input.EncryptionContext, accessKeyId, status });
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() }).end(JSON.stringify(out));
    };
    const fail = (code: string, message: string, status = 400, accessKeyId?: string) => send(status, { __type: code, message }, accessKeyId);

    if (req.method !== 'POST' || req.url !== '/' || req.headers['content-type'] !== 'application/x-amz-json-1.1')
      return fail('UnknownOperationException', 'expected POST / with application/x-amz-json-1.1');
    try {
      input = JSON.parse(body.toString('utf8'));
    } catch {
      return fail('SerializationException', 'body is not JSON');
    }
    const auth = verifySigV4(req, body, this.options.credentials, this.options.region);
    if (!auth.ok) return fail(auth.code, auth.message, 400, auth.accessKeyId);
    if (this.failures && this.failures.left > 0) {
      this.failures.left--;
      return fail(this.failures.code, 'simulated failure', this.failures.status, auth.accessKeyId);
    }
    const aad = Buffer.from(JSON.stringify(Object.entries(input.EncryptionContext ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))));

    if (op === 'Encrypt') {
      const key = this.resolve(input.KeyId);
      if (!key) return fail('NotFoundException', `Key '${input.KeyId}' does not exist`, 400, auth.accessKeyId);
      if (this.denied.has(key.arn))
        return fail(
          'AccessDeniedException',
          `User: arn:aws:sts::${this.options.account}:assumed-role/umcp-gateway is not authorized to perform: kms:Encrypt on resource: ${key.arn}`,
          400,
          auth.accessKeyId,
        );
      if (!key.enabled) return fail('DisabledException', `${key.arn} is disabled.`, 400, auth.accessKeyId);
      const plaintext = Buffer.from(input.Plaintext ?? '', 'base64');
      if (plaintext.length < 1 || plaintext.length > 4096) return fail('ValidationException', 'Plaintext must be 1..4096 bytes', 400, auth.accessKeyId);
      this.plaintexts.push(plaintext);
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key.material, iv).setAAD(aad);
      const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      const blob = Buffer.concat([MAGIC, Buffer.from(key.id, 'ascii'), iv, cipher.getAuthTag(), ct]);
      return send(200, { CiphertextBlob: blob.toString('base64'), KeyId: key.arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' }, auth.accessKeyId);
    }
    if (op === 'Decrypt') {
      const blob = Buffer.from(input.CiphertextBlob ?? '', 'base64');
      if (blob.length < 4 + 36 + 12 + 16 + 1 || !blob.subarray(0, 4).equals(MAGIC)) return fail('InvalidCiphertextException', '', 400, auth.accessKeyId);
      const key = this.keys.get(blob.subarray(4, 40).toString('ascii'));
      if (!key) return fail('InvalidCiphertextException', '', 400, auth.accessKeyId);
      if (input.KeyId !== undefined) {
        const named = this.resolve(input.KeyId);
        if (!named) return fail('NotFoundException', `Key '${input.KeyId}' does not exist`, 400, auth.accessKeyId);
        if (named.id !== key.id)
          return fail('IncorrectKeyException', 'The key ID in the request does not identify a KMS key that can perform this operation.', 400, auth.accessKeyId);
      }
      if (this.denied.has(key.arn))
        return fail('AccessDeniedException', `not authorized to perform: kms:Decrypt on resource: ${key.arn}`, 400, auth.accessKeyId);
      if (!key.enabled) return fail('DisabledException', `${key.arn} is disabled.`, 400, auth.accessKeyId);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key.material, blob.subarray(40, 52)).setAAD(aad);
        decipher.setAuthTag(blob.subarray(52, 68));
        const plaintext = Buffer.concat([decipher.update(blob.subarray(68)), decipher.final()]);
        return send(200, { KeyId: key.arn, Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' }, auth.accessKeyId);
      } catch {
        return fail('InvalidCiphertextException', '', 400, auth.accessKeyId);
      }
    }
    return fail('UnknownOperationException', `unsupported target ${target}`, 400, auth.accessKeyId);
  }
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** Verifies an AWS Signature Version 4 header for service `kms` in `expectedRegion`, as KMS does. */
function verifySigV4(
  req: IncomingMessage,
  body: Buffer,
  creds: FakeKmsCredentials,
  expectedRegion: string,
): { ok: true; accessKeyId: string } | { ok: false; code: string; message: string; accessKeyId?: string } {
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
    String(req.headers.authorization ?? ''),
  );
  if (!m) return { ok: false, code: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
  const [, accessKeyId, date, region, service, signedHeaders, signature] = m as unknown as string[];
  if (accessKeyId !== creds.accessKeyId)
    return { ok: false, code: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.', accessKeyId: accessKeyId! };
  if (region !== expectedRegion || service !== 'kms')
    return {
      ok: false,
      code: 'InvalidSignatureException',
      message: `Credential should be scoped to a valid region and service kms (got ${region}/${service})`,
      accessKeyId,
    };
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const headers = signedHeaders!.split(';');
  if (!headers.includes('host') || !headers.includes('x-amz-date') || !amzDate.startsWith(date!))
    return { ok: false, code: 'IncompleteSignatureException', message: 'host and x-amz-date must be signed', accessKeyId };
  const canonicalHeaders = headers
    .map(
      (h) =>
        `${h}:${String(req.headers[h] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const payloadHash = String(req.headers['x-amz-content-sha256'] ?? sha256(body));
  const canonicalRequest = [req.method, '/', '', canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, date!), region!), service!), 'aws4_request');
  const expected = createHmac('sha256', signingKey).update(stringToSign).digest();
  if (!timingSafeEqual(expected, Buffer.from(signature!, 'hex'))) {
    return {
      ok: false,
      code: 'InvalidSignatureException',
      message: 'The request signature we calculated does not match the signature you provided.',
      accessKeyId,
    };
  }
  return { ok: true, accessKeyId };
}
