/**
 * The platform as production runs it, for the pipeline bench: the compiled gateway
 * (`node dist/service/src/gateway-main.js`, what the image's CMD runs after `npm run build`) and, on demand,
 * compiled task workers (`node dist/service/src/worker-main.js`), each a child process with only the
 * environment the manifests give it (image ENV + ConfigMap/Secret keys + the Deployment's NODE_OPTIONS,
 * docs/runtime-contract.md), where the cloud endpoints are the test PostgreSQL (a fresh database) and Redis
 * (a fresh key prefix). Not covered: TLS, KMS and S3 (local blob store), nginx/ALB in front.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_REQUESTS } from '../../infra/regional/app/types.js';
import { heapLimitMiB } from '../../infra/regional/app/workloads.js';
import { freePort } from '../../service/src/local/free-port.js';
import { httpOk, ManagedProcess, waitFor } from '../../service/src/local/cluster/managed-process.js';
import { REPO_ROOT } from '../../service/src/local/cluster/local-cluster.js';
import { createTestDatabase, createTestRedisPrefix, testServiceUrls, type TestDatabase } from '../../test/support/platform-db.js';

const GATEWAY_JS = 'dist/service/src/gateway-main.js';
const WORKER_JS = 'dist/service/src/worker-main.js';

/** The Deployments' own env: the V8 heap sized to the pod's memory limit (512Mi by default). */
export const DEPLOYMENT_NODE_OPTIONS = `--max-old-space-size=${heapLimitMiB(DEFAULT_REQUESTS.memory)}`;

/** A running compiled gateway (plus the workers started on it). */
export interface CompiledPlatform {
  readonly url: string;
  readonly mcpUrl: string;
  readonly gateway: ManagedProcess;
  readonly db: TestDatabase;
  /** Creates tenant `name` (toolsets) and returns its API key. */
  tenant(name: string, toolsets?: string[]): Promise<string>;
  /** Registers upstream `ns` at `url` for tenant `tenant`. */
  addUpstream(tenant: string, ns: string, url: string): Promise<void>;
  /** Starts one compiled worker (`extra` env on top of the gateway's) and waits for its /readyz. */
  startWorker(extra?: Record<string, string>): Promise<ManagedProcess>;
  stop(): Promise<void>;
}

/** Starts the compiled gateway on a fresh database and Redis prefix; `dir` receives the logs. */
export async function startCompiledPlatform(dir: string, extraEnv: Record<string, string> = {}): Promise<CompiledPlatform> {
  for (const f of [GATEWAY_JS, WORKER_JS])
    if (!existsSync(join(REPO_ROOT, f))) throw new Error(`${f} is missing: run \`npm run build\` first (\`npm run bench\` does)`);
  const db = await createTestDatabase();
  const redis = createTestRedisPrefix();
  const adminToken = randomBytes(24).toString('hex');
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    // Image ENV (service/Dockerfile.gateway), then the manifests' keys with local stand-ins.
    NODE_ENV: 'production',
    NODE_OPTIONS: DEPLOYMENT_NODE_OPTIONS,
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: db.url,
    DATABASE_READER_URLS: db.url,
    REDIS_URL: testServiceUrls().redisUrl,
    REDIS_KEY_PREFIX: redis.prefix,
    TASK_QUEUE_PREFIX: `${redis.prefix}bull`,
    ADMIN_TOKEN: adminToken,
    REQUEST_STATE_KEYS: `b1:${randomBytes(32).toString('base64')}`,
    SECRETS_MASTER_KEY: randomBytes(32).toString('base64'),
    BLOB_LOCAL_DIR: join(dir, 'blobs'),
    // Bench settings: loopback upstreams allowed, rate limit off, quiet logs.
    UPSTREAM_ALLOWLIST: '127.0.0.0/8,localhost',
    RATE_LIMIT_PER_MINUTE: '0',
    LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  const gateway = new ManagedProcess({
    name: 'gateway',
    command: process.execPath,
    args: [GATEWAY_JS],
    cwd: REPO_ROOT,
    env,
    logFile: join(dir, 'gateway.log'),
  });
  const workers: ManagedProcess[] = [];
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    for (const w of workers) await w.stop('SIGTERM', 8_000);
    await gateway.stop('SIGTERM', 8_000);
    await db.drop().catch(() => undefined);
    await redis.cleanup().catch(() => undefined);
  };
  const admin = async (path: string, body: unknown) => {
    const res = await fetch(`${url}/admin/v1${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status !== 201) throw new Error(`admin POST ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  try {
    gateway.start();
    await waitFor('compiled gateway', () => httpOk(`${url}/readyz`), { timeoutMs: 60_000, proc: gateway });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    mcpUrl: `${url}/mcp`,
    gateway,
    db,
    tenant: async (name, toolsets = ['diagnostics']) => (await admin('/tenants', { name, toolsets })).apiKey as string,
    async addUpstream(tenant, ns, upstreamUrl) {
      await admin(`/tenants/${tenant}/upstreams`, { name: ns, url: upstreamUrl, maxConcurrency: 64 });
    },
    async startWorker(extra = {}) {
      const metricsPort = await freePort();
      const w = new ManagedProcess({
        name: `worker-${workers.length + 1}`,
        command: process.execPath,
        args: [WORKER_JS],
        cwd: REPO_ROOT,
        env: { ...env, WORKER_METRICS_PORT: String(metricsPort), ...extra },
        logFile: join(dir, `worker-${workers.length + 1}.log`),
      });
      workers.push(w);
      w.start();
      await waitFor(w.spec.name, () => httpOk(`http://127.0.0.1:${metricsPort}/readyz`), { timeoutMs: 60_000, proc: w });
      return w;
    },
    stop,
  };
}
