/**
 * The four secrets every region of an environment must share: the Aurora master password (the global
 * database has one), the ElastiCache AUTH token (the global datastore has one), the admin API key and the
 * service's REQUEST_STATE_KEYS (a Multi Round-Trip request may come back through another region).
 * The primary (or a single-region stack) generates each one the operator did not set in config, with
 * @pulumi/random and the character rules of the service that consumes it, and exports them as secret stack
 * outputs; its secondary reads them through its StackReference (PEER_OUTPUTS), so nobody invents or copies a
 * secret. A value set in config wins (rotation: set it on the primary and run the deploy again).
 * Leaves out: the operator's external credentials (kubeconfig, alert webhook URL, Cloudflare token), which
 * no program can invent, and the KMS key of upstream credentials (secrets-key.ts).
 */
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';

/** Names of the shared secrets: config keys (`unified-mcp:<name>`) and stack output names alike. */
export const SHARED_SECRETS = ['dbPassword', 'redisAuthToken', 'adminApiKey', 'requestStateKeys'] as const;
export type SharedSecretName = (typeof SHARED_SECRETS)[number];
export type SharedSecretValues = Record<SharedSecretName, pulumi.Output<string>>;

/**
 * How each generated value is made. Changing one of these replaces the generated value on the next deploy
 * (a rotation), so change them only on purpose.
 */
export const GENERATED_SECRET_SPECS = {
  /**
   * Aurora master password: printable ASCII without `/`, `"`, `@` or space (CreateDBCluster), at most 41
   * characters on every Aurora engine. It goes into DATABASE_URL URL-encoded and into RDS Proxy's JSON secret.
   */
  dbPassword: { length: 40, special: true, overrideSpecial: '!#$%&*()-_=+[]{}<>:?', minUpper: 2, minLower: 2, minNumeric: 2, minSpecial: 2 },
  /**
   * ElastiCache AUTH token: 16-128 printable characters whose only special characters are `! & # $ ^ < > -`
   * (so never `@`, `"` or `/`).
   */
  redisAuthToken: { length: 64, special: true, overrideSpecial: '!&#$^<>-', minUpper: 2, minLower: 2, minNumeric: 2, minSpecial: 0 },
  /** ADMIN_TOKEN of the service (at least 16 characters), sent as a bearer token: letters and digits only. */
  adminApiKey: { length: 48, special: false, minUpper: 2, minLower: 2, minNumeric: 2 },
} as const satisfies Record<Exclude<SharedSecretName, 'requestStateKeys'>, random.RandomPasswordArgs>;

/** REQUEST_STATE_KEYS generated as one `kid:base64secret` entry (service/src/mcp/config.ts: secret >= 32 bytes). */
export const GENERATED_REQUEST_STATE_KEY = { kid: 'g1', bytes: 32 } as const;

/** Child resource name of the generated `secret` of the platform `name` (the mocks derive values from it). */
export function generatedSecretName(name: string, secret: SharedSecretName): string {
  return `${name}-${secret.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Arguments of {@link SharedSecrets}. */
export interface SharedSecretsArgs {
  /** Values set in stack config (each one wins over generation). @defaultValue {} */
  readonly configured?: Partial<SharedSecretValues>;
  /**
   * The primary's values, read through the secondary's StackReference. When given nothing is generated; a
   * value also set in this stack's config must equal the primary's (else the regions would disagree).
   */
  readonly fromPrimary?: SharedSecretValues;
  /** The primary's stack name, for messages. @defaultValue "the primary" */
  readonly primaryName?: string;
  /** The stack name, for the fix in messages. @defaultValue pulumi.getStack() */
  readonly stack?: string;
}

/**
 * The effective shared secrets of one regional stack, each an Output marked secret: config, else the
 * primary's (secondary), else generated here (primary or single region).
 */
export class SharedSecrets extends pulumi.ComponentResource {
  readonly values: SharedSecretValues;
  /** Which secrets this stack generated (the rest came from config or the primary). */
  readonly generated: readonly SharedSecretName[];

  constructor(name: string, args: SharedSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('unified-mcp:secrets:SharedSecrets', name, {}, opts);
    const configured = args.configured ?? {};
    const generated: SharedSecretName[] = [];
    const pick = (key: SharedSecretName, generate: () => pulumi.Output<string>): pulumi.Output<string> => {
      const own = configured[key];
      const primary = args.fromPrimary?.[key];
      if (primary && own) {
        const stack = args.stack ?? pulumi.getStack();
        return pulumi.secret(
          pulumi.all([own, primary]).apply(([a, b]) => {
            // Never echo either value: only which key disagrees and how to fix it.
            if (a !== b) {
              throw new pulumi.ResourceError(
                `unified-mcp:${key} is set on stack "${stack}" and differs from ${args.primaryName ?? 'the primary'}'s: ` +
                  `a secondary uses its primary's value; remove it (\`pulumi config rm unified-mcp:${key} --stack ${stack}\`) and set it on the primary to rotate`,
                this,
              );
            }
            return a;
          }),
        );
      }
      if (own) return pulumi.secret(own);
      if (primary) return pulumi.secret(primary);
      generated.push(key);
      return pulumi.secret(generate());
    };
    const password = (key: keyof typeof GENERATED_SECRET_SPECS) =>
      new random.RandomPassword(generatedSecretName(name, key), { ...GENERATED_SECRET_SPECS[key] }, { parent: this }).result;
    this.values = {
      dbPassword: pick('dbPassword', () => password('dbPassword')),
      redisAuthToken: pick('redisAuthToken', () => password('redisAuthToken')),
      adminApiKey: pick('adminApiKey', () => password('adminApiKey')),
      requestStateKeys: pick('requestStateKeys', () => {
        const bytes = new random.RandomBytes(generatedSecretName(name, 'requestStateKeys'), { length: GENERATED_REQUEST_STATE_KEY.bytes }, { parent: this });
        return pulumi.interpolate`${GENERATED_REQUEST_STATE_KEY.kid}:${bytes.base64}`;
      }),
    };
    this.generated = generated;
    this.registerOutputs({});
  }
}
