/**
 * What the local platform keeps in its data directory (default `<repo>/.data`, override UMCP_DATA_DIR):
 *   pg/                      embedded PostgreSQL data (kept across restarts)
 *   local-secrets.json       PostgreSQL password, generated ADMIN_TOKEN and REQUEST_STATE_KEYS (mode 0600)
 *   demo-credentials.json    the demo tenant's plain API key, so every start prints the same key (mode 0600)
 *   redis.pid                pid of the redis-server child
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** `UMCP_DATA_DIR` or `<repo>/.data`. */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.UMCP_DATA_DIR ? resolve(env.UMCP_DATA_DIR) : resolve(dirname(fileURLToPath(import.meta.url)), '../../../.data');
}

const Secrets = z.object({
  pgPassword: z.string().min(8),
  adminToken: z.string().min(16),
  requestStateKeys: z.string().min(1),
  /** Envelope-encryption master key for upstream credentials (added later: older files get one on load). */
  secretsMasterKey: z.string().optional(),
});
export type LocalSecrets = z.infer<typeof Secrets>;

const DemoCredentials = z.object({ tenant: z.string(), keyId: z.string(), apiKey: z.string() });
export type DemoCredentials = z.infer<typeof DemoCredentials>;

/** Writes JSON readable by the owner only, atomically (a crash never leaves half a file). */
function writePrivateJson(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

function readJson<T>(file: string, schema: z.ZodType<T>): T | undefined {
  if (!existsSync(file)) return undefined;
  const parsed = schema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  return parsed.success ? parsed.data : undefined;
}

/** Loads the local secrets, generating (and persisting) any that are missing. */
export function loadOrCreateSecrets(dir: string): LocalSecrets {
  const file = join(dir, 'local-secrets.json');
  const existing = readJson(file, Secrets);
  if (existing?.secretsMasterKey) return existing;
  if (existing) {
    const upgraded: LocalSecrets = { ...existing, secretsMasterKey: randomBytes(32).toString('base64') };
    writePrivateJson(file, upgraded);
    return upgraded;
  }
  const secrets: LocalSecrets = {
    secretsMasterKey: randomBytes(32).toString('base64'),
    pgPassword: randomBytes(18).toString('base64url'),
    adminToken: randomBytes(24).toString('base64url'),
    requestStateKeys: `local1:${randomBytes(32).toString('base64')}`,
  };
  writePrivateJson(file, secrets);
  return secrets;
}

/** The demo key saved by an earlier start, if any. */
export function readDemoCredentials(dir: string): DemoCredentials | undefined {
  return readJson(join(dir, 'demo-credentials.json'), DemoCredentials);
}

/** Saves the demo key (mode 0600). */
export function writeDemoCredentials(dir: string, creds: DemoCredentials): void {
  writePrivateJson(join(dir, 'demo-credentials.json'), creds);
}
