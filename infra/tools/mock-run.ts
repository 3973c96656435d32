/**
 * Runs the Pulumi program for one stack file under `pulumi.runtime.setMocks`: no CLI, no cloud.
 *
 * Reads stacks/Pulumi.<stack>.yaml, sets its config (the operator's secrets get mock values and are flagged
 * secret, also where the file holds them encrypted; the shared secrets stay unset unless the file or the
 * caller sets them, so the program generates them), answers invokes with canned values (availability zones,
 * caller identity, partition, region, AMIs, EKS auth...), runs infra/index.ts inside a root stack, waits until every registration RPC
 * is done, and returns every resource with its inputs plus the stack outputs. Safe to call for several
 * stacks one after another in one process (each call resets the mock monitor and the config).
 * Used by test/infra, `npm run validate` and `npm run plan`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as pulumi from '@pulumi/pulumi';
import { parse as parseYaml } from 'yaml';
import { canned, type MockContext } from './mock-values.js';
import { SHARED_SECRETS } from '../regional/secrets/shared-secrets.js';

/** A resource as the mock monitor saw it. `inputs` has secrets unwrapped; `secretPaths` lists where they were. */
export interface MockedResource {
  type: string;
  name: string;
  urn?: string;
  inputs: Record<string, any>;
  parent?: string;
  provider?: string;
  /** Dotted paths of inputs that were marked secret, e.g. `masterPassword`, `stringData.DATABASE_URL`. */
  secretPaths?: string[];
  /** True for provider-backed (custom) resources, false for components. */
  custom?: boolean;
}

export interface MockRunOptions {
  /** Folder of the Pulumi.<stack>.yaml files. @defaultValue "<repo>/stacks" */
  stacksDir?: string;
  /** Config overrides, full keys (`unified-mcp:app`), objects JSON-encoded for you; `undefined` removes a key. */
  config?: Record<string, unknown>;
  /**
   * Secret values by full key, set in config as secrets; merged over {@link MOCK_OPERATOR_SECRETS}; `undefined`
   * removes one. The shared secrets (dbPassword, redisAuthToken, adminApiKey, requestStateKeys) are unset by
   * default, so the program generates them (a secondary reads its primary's) as on a fresh stack; pass
   * `secrets: MOCK_SECRETS` (or single keys) to set them in config instead.
   */
  secrets?: Record<string, string | undefined>;
  /** The program; @defaultValue the default export of infra/index.ts. */
  program?: () => Promise<Record<string, unknown> | void>;
  /** Run as a preview (unknowns stay unknown). @defaultValue false */
  preview?: boolean;
}

export interface MockRunResult {
  resources: MockedResource[];
  /**
   * Resources the program read rather than registered (`pulumi.StackReference`, `X.get(...)`), with the state
   * the mocks answered as `inputs` (a StackReference's `outputs`), as a stack policy sees them under the CLI.
   */
  reads?: MockedResource[];
  outputs: Record<string, unknown>;
  /** Names of stack outputs that are secret. */
  secretOutputs: string[];
}

const repoRoot = join(fileURLToPath(import.meta.url), '..', '..', '..');
const PROJECT = 'unified-mcp';
/** `pulumi.getOrganization()` under mocks: the name a self-managed backend reports (stack refs `organization/<project>/<stack>`). */
export const MOCK_ORGANIZATION = 'organization';

/**
 * Mock values for every secret key (real stacks set them with `pulumi config set --secret`). Only the
 * operator's external ones ({@link MOCK_OPERATOR_SECRETS}) are set by default.
 */
export const MOCK_SECRETS: Readonly<Record<string, string>> = {
  'unified-mcp:dbPassword': 'mock-db-password-0123456789',
  'unified-mcp:redisAuthToken': 'mock-redis-token-0123456789',
  'unified-mcp:adminApiKey': 'mock-admin-api-key-0123456789',
  'unified-mcp:requestStateKeys': 'mock1:bW9jay1yZXF1ZXN0LXN0YXRlLWtleS0wMTIzNDU2Nzg5YWI=',
  'unified-mcp:kubeconfig': 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n',
  'unified-mcp:alertWebhookUrl': 'https://alerts.example.com/hooks/mock-webhook-token-0123456789',
  'cloudflare:apiToken': 'mock-cloudflare-token-0123456789',
};

/** The secrets only an operator can provide (no program generates them): set by default in every mocked run. */
export const MOCK_OPERATOR_SECRETS: Readonly<Record<string, string>> = Object.fromEntries(
  ['unified-mcp:kubeconfig', 'unified-mcp:alertWebhookUrl', 'cloudflare:apiToken'].map((k) => [k, MOCK_SECRETS[k]!]),
);

const SIG_KEY = pulumi.runtime.specialSigKey;
const SECRET_SIG = pulumi.runtime.specialSecretSig;

function isSecretValue(v: unknown): v is { value: unknown } {
  return typeof v === 'object' && v !== null && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** Returns `value` with secret wrappers removed, collecting the dotted paths where they were. */
export function unwrapSecrets(value: unknown, path = '', found: string[] = []): any {
  if (isSecretValue(value)) {
    found.push(path);
    return unwrapSecrets(value.value, path, found);
  }
  if (Array.isArray(value)) return value.map((v, i) => unwrapSecrets(v, path ? `${path}.${i}` : String(i), found));
  if (value && typeof value === 'object' && !(pulumi.asset.Asset.isInstance(value) || pulumi.asset.Archive.isInstance(value))) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v, path ? `${path}.${k}` : k, found)]));
  }
  return value;
}

/** Options of {@link readStackConfig}. */
export interface ReadStackConfigOptions {
  /**
   * Return values the file holds encrypted (`pulumi config set --secret` writes `{ secure: ... }` there, the
   * stack config folder being stacks/) as they are, instead of throwing. @defaultValue false
   */
  keepEncrypted?: boolean;
}

/** True for a value `pulumi config set --secret` stored encrypted in a stack file. */
export function isEncryptedValue(v: unknown): v is { secure: string } {
  return typeof v === 'object' && v !== null && 'secure' in v;
}

/** Reads a stack file's `config:` block. */
export function readStackConfig(stack: string, stacksDir = join(repoRoot, 'stacks'), options: ReadStackConfigOptions = {}): Record<string, unknown> {
  const file = join(stacksDir, `Pulumi.${stack}.yaml`);
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read stack file ${file}: ${(err as Error).message}`);
  }
  const config = (doc as { config?: Record<string, unknown> } | null)?.config ?? {};
  if (options.keepEncrypted) return config;
  for (const [k, v] of Object.entries(config)) {
    if (isEncryptedValue(v)) {
      throw new Error(`${file}: ${k} holds an encrypted value the mocks cannot decrypt; pass it in opts.secrets`);
    }
  }
  return config;
}

function encode(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

type MonitorCallback = (err: any, res: any) => void;

/**
 * Calls the monitor's `rpc` with `req`, lets `onResult` see a successful answer before the runtime's
 * `callback` does, and counts the call in `pending` until that callback has run.
 */
function trackRpc(
  pending: Set<Promise<unknown>>,
  rpc: (req: any, cb: MonitorCallback) => void,
  req: any,
  callback: MonitorCallback,
  onResult: (res: any) => void,
): Promise<void> {
  const p = new Promise<void>((resolve) => {
    rpc(req, (err: any, res: any) => {
      if (!err && res) onResult(res);
      try {
        callback(err, res);
      } finally {
        resolve();
      }
    });
  });
  pending.add(p);
  void p.finally(() => pending.delete(p));
  return p;
}

/** Registration RPCs still in flight; the run waits until this drains. */
async function drain(pending: Set<Promise<unknown>>): Promise<void> {
  // Resources register from inside applies and component constructors; loop until quiet.
  for (let quietRounds = 0; quietRounds < 3;) {
    if (pending.size === 0) {
      quietRounds++;
      await new Promise((r) => setImmediate(r));
      continue;
    }
    quietRounds = 0;
    await Promise.allSettled([...pending]);
  }
  const settings = (await import('@pulumi/pulumi/runtime/settings.js')) as unknown as { waitForRPCs?: () => Promise<void> };
  if (settings.waitForRPCs) await settings.waitForRPCs();
}

/**
 * Runs `stack` under mocks and returns what it registered.
 * @throws the program's error (e.g. a ConfigError naming key and stack) when it fails.
 */
export async function runStackUnderMocks(stack: string, opts: MockRunOptions = {}): Promise<MockRunResult> {
  const fileConfig = readStackConfig(stack, opts.stacksDir, { keepEncrypted: true });
  // A secret the operator set (encrypted in the file) is set under mocks too, with its mock value.
  const encrypted: Record<string, string> = {};
  for (const [k, v] of Object.entries(fileConfig)) {
    if (!isEncryptedValue(v)) continue;
    delete fileConfig[k];
    if (opts.secrets && k in opts.secrets) continue;
    if (MOCK_SECRETS[k] === undefined) {
      throw new Error(
        `${join(opts.stacksDir ?? join(repoRoot, 'stacks'), `Pulumi.${stack}.yaml`)}: ${k} holds an encrypted value the mocks cannot decrypt; pass it in opts.secrets`,
      );
    }
    encrypted[k] = MOCK_SECRETS[k]!;
  }
  const config: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...fileConfig, ...opts.config })) if (v !== undefined) config[k] = encode(v);
  const secrets: Record<string, string | undefined> = { ...MOCK_OPERATOR_SECRETS, ...encrypted, ...opts.secrets };
  const secretKeys: string[] = [];
  for (const [k, v] of Object.entries(secrets)) {
    if (v === undefined) {
      if (!(opts.config && k in opts.config)) delete config[k]; // an explicit plain value stays (non-secret)
      continue;
    }
    config[k] = v;
    secretKeys.push(k);
  }
  pulumi.runtime.setAllConfig(config, secretKeys);

  const resources: MockedResource[] = [];
  const pending = new Set<Promise<unknown>>();
  let stackOutputs: unknown;
  const configuredSharedSecrets = Object.fromEntries(
    SHARED_SECRETS.filter((k) => secretKeys.includes(`unified-mcp:${k}`)).map((k) => [k, config[`unified-mcp:${k}`]!]),
  );
  const ctx: MockContext = {
    providerRegions: new Map(),
    defaultRegion: String(fileConfig['unified-mcp:region'] ?? fileConfig['aws:region'] ?? 'us-east-1'),
    configuredSharedSecrets,
  };

  await pulumi.runtime.setMocks(
    {
      newResource: (args) => canned.newResource(args, ctx),
      call: (args) => canned.call(args, ctx),
    },
    PROJECT,
    stack,
    opts.preview ?? false,
    MOCK_ORGANIZATION,
  );

  // Wrap the mock monitor to see parents, URNs and stack outputs, which MockResourceArgs does not carry.
  const settings = (await import('@pulumi/pulumi/runtime/settings.js')) as unknown as { getMonitor(): any };
  const monitor = settings.getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: (err: any, res: any) => void) => {
    const found: string[] = [];
    const inputs = unwrapSecrets(pulumi.runtime.deserializeProperties(req.getObject()), '', found);
    const entry: MockedResource = {
      type: req.getType(),
      name: req.getName(),
      inputs,
      custom: req.getCustom(),
      ...(req.getParent() ? { parent: req.getParent() } : {}),
      ...(req.getProvider() ? { provider: req.getProvider() } : {}),
      ...(found.length ? { secretPaths: found } : {}),
    };
    resources.push(entry);
    return trackRpc(pending, register, req, callback, (res) => {
      entry.urn = res.getUrn();
    });
  };
  const reads: MockedResource[] = [];
  const read = monitor.readResource.bind(monitor);
  monitor.readResource = (req: any, callback: (err: any, res: any) => void) =>
    trackRpc(pending, read, req, callback, (res) => {
      reads.push({
        type: req.getType(),
        name: req.getName(),
        urn: res.getUrn(),
        custom: true,
        inputs: unwrapSecrets(pulumi.runtime.deserializeProperties(res.getProperties())),
        ...(req.getParent() ? { parent: req.getParent() } : {}),
        ...(req.getProvider() ? { provider: req.getProvider() } : {}),
      });
    });
  const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
  monitor.registerResourceOutputs = (req: any, callback: (err: any, res: any) => void) => {
    if (req.getUrn().includes('::pulumi:pulumi:Stack::')) stackOutputs = pulumi.runtime.deserializeProperties(req.getOutputs());
    return registerOutputs(req, callback);
  };

  const program = opts.program ?? (await import('../index.js')).default;
  const errors: unknown[] = [];
  const onUnhandled = (err: unknown) => {
    errors.push(err);
  };
  process.on('unhandledRejection', onUnhandled);
  try {
    await pulumi.runtime.runInPulumiStack(async () => (await program()) ?? {});
    await drain(pending);
  } catch (err) {
    errors.unshift(err);
    await drain(pending).catch(() => undefined);
  } finally {
    // The runtime re-raises a failed program on promises nobody awaits; let those surface here first.
    await new Promise((r) => setTimeout(r, 0));
    process.off('unhandledRejection', onUnhandled);
  }
  if (errors.length) throw errors[0];

  const secretOutputs: string[] = [];
  const raw = (stackOutputs ?? {}) as Record<string, unknown>;
  const outputs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (isSecretValue(v)) secretOutputs.push(k);
    outputs[k] = unwrapSecrets(v);
  }
  return { resources, reads, outputs, secretOutputs };
}
