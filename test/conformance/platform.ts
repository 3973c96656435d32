/**
 * Starts the local platform exactly like `npm start` (tsx service/src/local/main.ts) for the
 * conformance run: its own PostgreSQL database (created on TEST_DATABASE_URL's server when set, else
 * the embedded one in a temp data dir), TEST_REDIS_URL with a unique key prefix (else the redis-server
 * child), anonymous tenant `demo` with the conformance toolset. Cleans up everything it created.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';

/** A running local platform. */
export interface Platform {
  readonly mcpUrl: string;
  /** The startup lines it printed: MCP_URL, API_KEY, ADMIN_URL, ADMIN_TOKEN. */
  readonly lines: Readonly<Record<string, string>>;
  /** Everything the platform printed (for diagnosis on failure). */
  output(): string;
  stop(): Promise<void>;
}

async function createDatabase(baseUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function dropDatabase(baseUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Resolves with the startup lines once the platform printed its last one (`Ready. ...`, after the four `NAME=` lines). */
function waitForReady(child: ChildProcess, out: { text: string }, timeoutMs: number): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the local platform printed no Ready. line within ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      out.text += chunk.toString();
      if (/^Ready\. .*$/m.test(out.text)) {
        clearTimeout(timer);
        resolve(Object.fromEntries([...out.text.matchAll(/^(MCP_URL|API_KEY|ADMIN_URL|ADMIN_TOKEN)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!])));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (out.text += chunk.toString()));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the local platform exited early (code ${code}, signal ${signal})`));
    });
  });
}

/**
 * Starts the platform; resolves once it printed its startup lines. `overrides` replace the defaults above
 * (an empty value removes a key: `ANONYMOUS_TENANT: ''` starts it with API keys only).
 */
export async function startPlatform(env: NodeJS.ProcessEnv = process.env, overrides: NodeJS.ProcessEnv = {}): Promise<Platform> {
  const id = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'umcp-conformance-'));
  const dbName = `umcp_conformance_${id}`;
  const keyPrefix = `umcp-conformance-${id}:`;
  const cleanups: (() => Promise<void>)[] = [async () => rmSync(dataDir, { recursive: true, force: true })];
  const childEnv: NodeJS.ProcessEnv = {
    ...env,
    PORT: '0',
    HOST: '127.0.0.1',
    ANONYMOUS_TENANT: 'demo',
    TOOLSETS: 'conformance',
    UMCP_DATA_DIR: dataDir,
    REDIS_KEY_PREFIX: keyPrefix,
    // The task queue under this run's prefix too: on a shared Redis the default BullMQ prefix would let the
    // worker of another run (a concurrent conformance run or test suite) take this run's jobs, and the
    // tasks would never leave "working" here. deleteKeys(keyPrefix) removes the queue with the rest.
    TASK_QUEUE_PREFIX: `${keyPrefix}bull`,
    LOG_LEVEL: env.LOG_LEVEL ?? 'warn',
  };
  delete childEnv.DATABASE_URL;
  delete childEnv.REDIS_URL;
  for (const [k, v] of Object.entries(overrides)) {
    if (v) childEnv[k] = v;
    else delete childEnv[k];
  }
  if (env.TEST_DATABASE_URL) {
    childEnv.DATABASE_URL = await createDatabase(env.TEST_DATABASE_URL, dbName);
    cleanups.push(() => dropDatabase(env.TEST_DATABASE_URL!, dbName));
  }
  if (env.TEST_REDIS_URL) {
    childEnv.REDIS_URL = env.TEST_REDIS_URL;
    cleanups.push(() => deleteKeys(env.TEST_REDIS_URL!, keyPrefix));
  }
  const runCleanups = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((err: unknown) => console.error(`conformance cleanup: ${String(err)}`));
  };

  const child = spawn(join('node_modules', '.bin', 'tsx'), ['service/src/local/main.ts'], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { text: '' };
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(killer);
    }
    await runCleanups();
  };
  try {
    const lines = await waitForReady(child, out, 180_000);
    return { mcpUrl: lines.MCP_URL!, lines, output: () => out.text, stop };
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n--- platform output ---\n${out.text}`);
  }
}
