export { SecretsKey, checkSecretsKeyArgs, type SecretsKeyArgs } from './secrets-key.js';
export {
  GENERATED_REQUEST_STATE_KEY,
  GENERATED_SECRET_SPECS,
  SHARED_SECRETS,
  SharedSecrets,
  generatedSecretName,
  type SharedSecretName,
  type SharedSecretValues,
  type SharedSecretsArgs,
} from './shared-secrets.js';
