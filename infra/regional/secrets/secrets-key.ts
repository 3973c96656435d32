import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

/** Arguments of {@link SecretsKey}. */
export interface SecretsKeyArgs {
  /** Alias without the `alias/` prefix, e.g. `umcp-prod-eu-west-1-secrets`. */
  readonly aliasName: string;
  /** Keep the key on `pulumi destroy` (Pulumi protect): without it no stored credential opens. @defaultValue true */
  readonly protect?: boolean;
  /** Waiting period of a scheduled deletion, days (7-30). @defaultValue 30 */
  readonly deletionWindowInDays?: number;
  /** @defaultValue {} */
  readonly tags?: Record<string, string>;
}

/** Rejects contradictory args; returns the message or undefined. */
export function checkSecretsKeyArgs(args: SecretsKeyArgs): string | undefined {
  if (!/^[A-Za-z0-9/_-]{1,250}$/.test(args.aliasName)) return `alias "${args.aliasName}" may only hold letters, digits, / _ - (1-250 characters)`;
  if (args.aliasName.startsWith('aws/')) return 'aliases starting with aws/ are reserved for AWS managed keys';
  const days = args.deletionWindowInDays ?? 30;
  if (!Number.isInteger(days) || days < 7 || days > 30) return `deletionWindowInDays must be 7-30, got ${days}`;
  return undefined;
}

/**
 * The customer-managed KMS key of credential envelope encryption (docs/federation.md, Security): it wraps
 * the per-tenant data keys of upstream credentials (the service's KmsKeyProvider, SECRETS_KMS_KEY_ID), so
 * the master key never leaves KMS. Symmetric, automatic yearly rotation (the ARN stays, nothing to
 * re-wrap), 30-day deletion window, alias `alias/<aliasName>`. The workloads get kms:Encrypt and
 * kms:Decrypt on this key only ({@link SecretsKey.wrapUnwrapStatement}).
 */
export class SecretsKey extends pulumi.ComponentResource {
  readonly keyArn: pulumi.Output<string>;
  readonly keyId: pulumi.Output<string>;
  /** `alias/<aliasName>` */
  readonly aliasName: string;

  constructor(name: string, args: SecretsKeyArgs, opts?: pulumi.ComponentResourceOptions) {
    super('unified-mcp:secrets:SecretsKey', name, {}, opts);
    const problem = checkSecretsKeyArgs(args);
    if (problem) throw new pulumi.ResourceError(problem, this);
    this.aliasName = `alias/${args.aliasName}`;
    const key = new aws.kms.Key(
      `${name}-kms`,
      {
        description: `Envelope encryption of upstream credentials (tenant data keys), ${args.aliasName}`,
        keyUsage: 'ENCRYPT_DECRYPT',
        customerMasterKeySpec: 'SYMMETRIC_DEFAULT',
        enableKeyRotation: true,
        deletionWindowInDays: args.deletionWindowInDays ?? 30,
        tags: args.tags ?? {},
      },
      { parent: this, protect: args.protect ?? true },
    );
    new aws.kms.Alias(`${name}-kms`, { name: this.aliasName, targetKeyId: key.keyId }, { parent: this });
    this.keyArn = key.arn;
    this.keyId = key.keyId;
    this.registerOutputs({ keyArn: this.keyArn, aliasName: this.aliasName });
  }

  /** IAM statement of a workload that wraps and unwraps data keys: kms:Encrypt and kms:Decrypt on this key only. */
  wrapUnwrapStatement(): { Action: string[]; Resource: pulumi.Output<string> } {
    return { Action: ['kms:Encrypt', 'kms:Decrypt'], Resource: this.keyArn };
  }
}
