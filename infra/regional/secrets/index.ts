export { SecretsKey, checkSecretsKeyArgs, type SecretsKeyArgs } from './secrets-key.js';
