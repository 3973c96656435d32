/**
 * The key provider a process's configuration asks for (gateway and worker build it the same way):
 *
 * - SECRETS_KMS_KEY_ID set: KMS wraps every new data key. A local master key still configured
 *   (SECRETS_MASTER_KEY / SECRETS_PREVIOUS_MASTER_KEYS) only unwraps the data keys wrapped before the move
 *   to KMS, until `keys rotate-master` has re-wrapped them; then drop it.
 * - else SECRETS_MASTER_KEY: the local provider (retired keys from SECRETS_PREVIOUS_MASTER_KEYS).
 * - else none: upstreams can only be registered without credentials.
 */
import type { Logger } from '../../log/logger.js';
import { CompositeKeyProvider, LocalKeyProvider, type KeyProvider } from './key-provider.js';
import { KmsKeyProvider, type KmsKeyProviderOptions } from './kms-key-provider.js';

/**
 * The configuration keys this reads, as service/src/config.ts parses them (declared here, not picked from
 * `Config`, so the gateway layer does not import the process configuration that assembles every layer).
 */
export interface KeyConfig {
  readonly SECRETS_MASTER_KEY?: string | undefined;
  readonly SECRETS_PREVIOUS_MASTER_KEYS?: readonly string[] | undefined;
  readonly SECRETS_KMS_KEY_ID?: string | undefined;
  readonly SECRETS_KMS_ENDPOINT?: string | undefined;
  readonly AWS_REGION?: string | undefined;
}

/** Builds the configured provider, or undefined when no master key of any kind is configured. */
export function createKeyProvider(
  config: KeyConfig,
  opts: { logger?: Pick<Logger, 'info' | 'warn'>; kms?: Partial<KmsKeyProviderOptions> } = {},
): KeyProvider | undefined {
  const localKeys = [...(config.SECRETS_MASTER_KEY ? [config.SECRETS_MASTER_KEY] : []), ...(config.SECRETS_PREVIOUS_MASTER_KEYS ?? [])];
  const local = localKeys.length ? new LocalKeyProvider(localKeys[0]!, localKeys.slice(1)) : undefined;
  if (!config.SECRETS_KMS_KEY_ID) {
    if (!config.SECRETS_MASTER_KEY) return undefined;
    opts.logger?.info({ provider: 'local', masterKeyId: local!.currentKeyId }, 'credential encryption: local master key');
    return local;
  }
  const kms = new KmsKeyProvider({
    keyId: config.SECRETS_KMS_KEY_ID,
    ...(config.AWS_REGION && { region: config.AWS_REGION }),
    ...(config.SECRETS_KMS_ENDPOINT && { endpoint: config.SECRETS_KMS_ENDPOINT }),
    ...(opts.logger && { logger: opts.logger }),
    ...opts.kms,
  });
  // Ids only (a local id is a hash prefix): never key material.
  opts.logger?.info(
    {
      provider: 'kms',
      keyId: config.SECRETS_KMS_KEY_ID,
      region: kms.region,
      ...(config.SECRETS_KMS_ENDPOINT && { endpoint: config.SECRETS_KMS_ENDPOINT }),
      ...(local && { unwrapOnly: local.keyIds() }),
    },
    local ? 'credential encryption: KMS; local master keys only unwrap until keys rotate-master has moved their data keys' : 'credential encryption: KMS',
  );
  return local ? new CompositeKeyProvider(kms, [local]) : kms;
}
