/**
 * One typed, validated view of the stack configuration (namespace `unified-mcp:`).
 *
 * `role` picks the shape: `regional` (this file's schema) or `global` (the edge stack's schema, owned by
 * infra/global/config.ts). Structured keys are read as JSON objects; secrets are read with `requireSecret`
 * so they stay marked secret, and are never accepted as plain text in a stack file. Every failure names
 * the key and the stack. Components never read config; they get what they need from here.
 */
import * as pulumi from '@pulumi/pulumi';
import { z } from 'zod';
import { parseGlobalConfig, type GlobalConfig as GlobalSettings } from './global/config.js';
import { regionalConfigSchema, type RegionalSettings } from './regional/config-schema.js';

export const NAMESPACE = 'unified-mcp';

/** Secret keys the regional program reads; `when` says when a key is required. */
export const REGIONAL_SECRETS = {
  dbPassword: 'master password of the Aurora clusters (also used by the app and RDS Proxy)',
  redisAuthToken: 'AUTH token of the ElastiCache replication groups, 16-128 printable characters',
  adminApiKey: 'API key for the admin API (/admin/v1), stored in the app Secret',
  requestStateKeys: 'REQUEST_STATE_KEYS of the service, `kid:base64secret` (secret >= 32 bytes, e.g. `k1:$(openssl rand -base64 32)`); the same value in every region of an environment',
  kubeconfig: 'kubeconfig of an existing cluster, only when cluster.mode is "existing"',
  alertWebhookUrl: 'URL Alertmanager posts alerts to (webhook JSON), only when alerting.webhook is true; kept in a Kubernetes Secret',
} as const;
export type RegionalSecretKey = keyof typeof REGIONAL_SECRETS;

/** Secret values of a regional stack, each an Output marked secret. */
export interface RegionalSecrets {
  dbPassword: pulumi.Output<string>;
  redisAuthToken: pulumi.Output<string>;
  adminApiKey: pulumi.Output<string>;
  /** REQUEST_STATE_KEYS of the service (seals Multi Round-Trip request state; shared by every replica and region). */
  requestStateKeys: pulumi.Output<string>;
  /** Only set when `cluster.mode` is `existing`. */
  kubeconfig?: pulumi.Output<string>;
  /** Only set when `alerting.webhook` is true. */
  alertWebhookUrl?: pulumi.Output<string>;
}

/** Config of a regional stack: validated settings plus secrets. */
export type RegionalConfig = RegionalSettings & { role: 'regional'; stack: string; secrets: RegionalSecrets };

/** Config of a global stack, validated by the edge stack's `globalConfigSchema` (infra/global/config.ts). */
export type GlobalConfig = GlobalSettings & { stack: string };

export type StackConfig = RegionalConfig | GlobalConfig;

/** A config error naming the stack and the offending key(s); `detail` starts with the full key name(s). */
export class ConfigError extends Error {
  constructor(readonly stackName: string, readonly keys: string[], detail: string) {
    super(`stack "${stackName}": invalid config: ${detail}`);
    this.name = 'ConfigError';
  }
}

const roleSchema = z.enum(['regional', 'global']);

/** Reads the namespace's plain (non-secret) values, JSON-decoding structured ones. */
function readPlainValues(secretKeys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const prefix = `${NAMESPACE}:`;
  for (const [fullKey, raw] of Object.entries(pulumi.runtime.allConfig())) {
    if (!fullKey.startsWith(prefix)) continue;
    const key = fullKey.slice(prefix.length);
    if (secretKeys.includes(key)) continue;
    try {
      out[key] = JSON.parse(raw);
    } catch {
      out[key] = raw; // plain strings are stored unquoted
    }
  }
  return out;
}

/** Formats zod issues as `unified-mcp:<path>` keys plus messages. */
function fail(stack: string, error: z.ZodError): never {
  const issues = error.issues.flatMap((i) => {
    const paths = i.code === 'unrecognized_keys' ? i.keys.map((k) => [...i.path, k]) : [i.path];
    return paths.map((p) => ({ key: p.map(String).join('.') || '(root)', message: i.message }));
  });
  const keys = [...new Set(issues.map((i) => i.key))];
  throw new ConfigError(stack, keys, issues.map((i) => `${NAMESPACE}:${i.key}: ${i.message}`).join('; '));
}

/** True when the engine holds `key` as a secret (encrypted in the stack file or set with --secret). */
function isSecretKey(key: string): boolean {
  const rt = pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean };
  return rt.isConfigSecret ? rt.isConfigSecret(key) : true;
}

function requireSecret(stack: string, key: RegionalSecretKey): pulumi.Output<string> {
  const cfg = new pulumi.Config(NAMESPACE);
  const value = pulumi.runtime.getConfig(`${NAMESPACE}:${key}`);
  if (value === undefined || value === '') {
    throw new ConfigError(stack, [key], `${NAMESPACE}:${key} is a missing secret (${REGIONAL_SECRETS[key]}); set it with ` +
      `\`pulumi config set --secret ${NAMESPACE}:${key} <value> --stack ${stack}\``);
  }
  if (!isSecretKey(`${NAMESPACE}:${key}`)) {
    throw new ConfigError(stack, [key], `${NAMESPACE}:${key} is stored in plain text; set it again with \`pulumi config set --secret\``);
  }
  if (key === 'redisAuthToken' && (!/^[\x21-\x7e]{16,128}$/.test(value) || /[@"/]/.test(value))) {
    throw new ConfigError(stack, [key], `${NAMESPACE}:${key} must be 16-128 printable characters without @, " or /`);
  }
  // The service refuses to start without a valid REQUEST_STATE_KEYS (service/src/mcp/config.ts): fail at preview instead.
  if (key === 'requestStateKeys' && !value.split(',').every((k) => /^[A-Za-z0-9._-]{1,64}:[A-Za-z0-9+/=_-]+$/.test(k.trim()) && Buffer.from(k.trim().split(':')[1]!, 'base64').length >= 32)) {
    throw new ConfigError(stack, [key], `${NAMESPACE}:${key} must be \`kid:base64secret\` entries, comma-separated, each secret at least 32 bytes`);
  }
  if (key === 'alertWebhookUrl' && !/^https?:\/\/[^\s/]+/.test(value)) {
    throw new ConfigError(stack, [key], `${NAMESPACE}:${key} must be an http(s) URL`); // the value itself is never echoed
  }
  return cfg.requireSecret(key);
}

/**
 * Loads and validates the current stack's config.
 * @param stack the stack name used in messages; defaults to `pulumi.getStack()`.
 */
export function loadConfig(stack: string = pulumi.getStack()): StackConfig {
  const values = readPlainValues(Object.keys(REGIONAL_SECRETS));
  const role = roleSchema.safeParse(values.role);
  if (!role.success) {
    throw new ConfigError(stack, ['role'], `${NAMESPACE}:role: expected "regional" or "global", found ${JSON.stringify(values.role)}`);
  }
  if (role.data === 'global') return { ...parseGlobalConfig(values, stack), stack };

  const parsed = regionalConfigSchema.safeParse(values);
  if (!parsed.success) fail(stack, parsed.error);
  const settings = parsed.data;
  const secrets: RegionalSecrets = {
    dbPassword: requireSecret(stack, 'dbPassword'),
    redisAuthToken: requireSecret(stack, 'redisAuthToken'),
    adminApiKey: requireSecret(stack, 'adminApiKey'),
    requestStateKeys: requireSecret(stack, 'requestStateKeys'),
  };
  if (settings.cluster.mode === 'existing') secrets.kubeconfig = requireSecret(stack, 'kubeconfig');
  if (settings.alerting.webhook) secrets.alertWebhookUrl = requireSecret(stack, 'alertWebhookUrl');
  return { ...settings, role: 'regional', stack, secrets };
}
