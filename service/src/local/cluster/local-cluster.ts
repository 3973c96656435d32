/**
 * The local multi-replica cluster as a library (`npm run cluster`, the chaos run and the bench use it):
 * its own redis-server, PostgreSQL primary + streaming replica, a fixture upstream, N gateway replicas
 * (the `npm run gateway` entry, started as `node --import tsx` so a signal reaches the gateway itself and
 * not an npm wrapper), M task workers (`npm run worker`'s entry, when the tasks issue has landed it), and
 * nginx in front. Creates a `demo` tenant with an API key and registers the fixture upstream for it.
 * Everything runs on 127.0.0.1 in a temp dir; stop() ends what it started, in reverse order.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../free-port.js';
import { httpOk, killAllOwned, ManagedProcess, waitFor } from './managed-process.js';
import { startNginx, type NginxLb } from './nginx-lb.js';
import { startPostgresPair, type PostgresPair } from './postgres-pair.js';
import { startRedisNode, type RedisNode } from './redis-node.js';
import { ensureTool } from './system-tools.js';

/** Repository root (this file is service/src/local/cluster/local-cluster.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const GATEWAY_ENTRY = 'service/src/gateway-main.ts';
const WORKER_ENTRY = 'service/src/worker-main.ts';
const FIXTURE_ENTRY = 'service/src/local/cluster/fixture-upstream.ts';

/** Options of startLocalCluster. */
export interface LocalClusterOptions {
  /** Gateway replicas. @defaultValue 3 */
  replicas?: number;
  /** Task workers (started only when service/src/worker-main.ts exists). @defaultValue 2 */
  workers?: number;
  /** Extra environment for every gateway and worker (e.g. LOG_LEVEL, CALL_LEASE_MS). */
  env?: Record<string, string>;
  /** Also expose an nginx listener in front of gateway 1 only (bench: 1 vs N replicas). @defaultValue false */
  singleReplicaListener?: boolean;
  /** Progress lines. @defaultValue stderr */
  log?: (line: string) => void;
  /** Extra node flags for the gateway processes (the bench passes `--inspect=127.0.0.1:0` to force GCs). @defaultValue none */
  gatewayNodeArgs?: string[];
  /** Aborts the start between steps (Ctrl-C while starting); what already runs is stopped. */
  signal?: AbortSignal;
  /** Keep the temp dir (logs) after stop. @defaultValue false */
  keepDir?: boolean;
}

/** One gateway or worker process. */
export interface ClusterMember {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly process: ManagedProcess;
}

/** A running cluster. */
export interface LocalCluster {
  readonly dir: string;
  /** nginx in front of every replica: `<baseUrl>/mcp`. */
  readonly baseUrl: string;
  readonly mcpUrl: string;
  /** nginx in front of gateway 1 only (when singleReplicaListener). */
  readonly singleMcpUrl?: string;
  readonly apiKey: string;
  readonly adminToken: string;
  readonly tenant: string;
  readonly fixtureUrl: string;
  readonly gateways: ClusterMember[];
  readonly workers: ClusterMember[];
  /** Why no workers run, when none do. */
  readonly workersNote?: string;
  readonly redis: RedisNode;
  readonly postgres: PostgresPair;
  readonly nginx: NginxLb;
  readonly nginxPath: string;
  /** Starts gateway i again (after a kill) and waits until /readyz answers 200. */
  restartGateway(i: number): Promise<void>;
  /** Starts worker i again (after a kill) and waits until its /readyz answers 200. */
  restartWorker(i: number): Promise<void>;
  /** Waits until gateway i answers /readyz with 200. */
  waitGatewayReady(i: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

async function adminCall(baseUrl: string, token: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${baseUrl}/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`admin ${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

/** Starts the whole cluster; on failure stops what already runs and rethrows. */
export async function startLocalCluster(opts: LocalClusterOptions = {}): Promise<LocalCluster> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const replicas = opts.replicas ?? 3;
  const workerCount = opts.workers ?? 2;
  const dir = mkdtempSync(join(tmpdir(), 'umcp-cluster-'));
  chmodSync(dir, 0o755); // the postgres user must reach its data dir below
  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const fn of stops.reverse()) await fn().catch((err: unknown) => log(`stop step failed: ${err instanceof Error ? err.message : String(err)}`));
    stops.length = 0;
    killAllOwned();
    if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
  };
  const step = (label: string) => {
    if (opts.signal?.aborted) throw new Error('interrupted while starting');
    log(label);
  };
  try {
    if (opts.signal?.aborted) throw new Error('interrupted while starting');
    const nginxPath = ensureTool('nginx', 'nginx', (l) => log(`[1/7] ${l}`)).path;

    step('[2/7] redis: own redis-server with an fsynced append-only file');
    mkdirSync(join(dir, 'redis'));
    const redis = await startRedisNode(join(dir, 'redis'), await freePort());
    stops.push(() => redis.stop());

    step('[3/7] postgres: primary + streaming replica');
    const postgres = await startPostgresPair(join(dir, 'pg'), { primary: await freePort(), replica: await freePort() }, 'umcp', (l) => log(`      ${l}`));
    stops.push(() => postgres.stop());

    step('[4/7] fixture upstream MCP server');
    const fixturePort = await freePort();
    const fixture = new ManagedProcess({
      name: 'fixture',
      command: process.execPath,
      args: ['--import', 'tsx', FIXTURE_ENTRY],
      cwd: REPO_ROOT,
      env: { ...process.env, PORT: String(fixturePort) },
      logFile: join(dir, 'fixture.log'),
    });
    fixture.start();
    stops.push(() => fixture.stop());
    await waitFor('fixture upstream', () => httpOk(`http://127.0.0.1:${fixturePort}/healthz`), { timeoutMs: 30_000, proc: fixture });
    const fixtureUrl = `http://127.0.0.1:${fixturePort}/mcp`;

    const adminToken = randomBytes(24).toString('hex');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      DATABASE_URL: postgres.primaryUrl,
      DATABASE_READER_URLS: postgres.replicaUrl,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: 'umcp:',
      ADMIN_TOKEN: adminToken,
      REQUEST_STATE_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      UPSTREAM_ALLOWLIST: '127.0.0.1',
      RATE_LIMIT_PER_MINUTE: '0',
      LOG_LEVEL: 'warn',
      SHUTDOWN_GRACE_MS: '5000',
      ...opts.env,
    };
    const gateways: ClusterMember[] = [];
    step(`[5/7] gateways: ${replicas} replicas (${GATEWAY_ENTRY})`);
    for (let i = 1; i <= replicas; i++) {
      const port = await freePort();
      const proc = new ManagedProcess({
        name: `gateway-${i}`,
        command: process.execPath,
        args: [...(opts.gatewayNodeArgs ?? []), '--import', 'tsx', GATEWAY_ENTRY],
        cwd: REPO_ROOT,
        env: { ...env, PORT: String(port) },
        logFile: join(dir, `gateway-${i}.log`),
      });
      gateways.push({ name: proc.spec.name, port, url: `http://127.0.0.1:${port}`, process: proc });
      stops.push(() => proc.stop('SIGTERM', 8_000));
    }
    // The first replica runs the migrations alone; the others start together (the advisory lock makes that safe).
    const waitReady = (i: number, timeoutMs = 60_000) =>
      waitFor(`gateway-${i + 1}`, () => httpOk(`${gateways[i]!.url}/readyz`), { timeoutMs, proc: gateways[i]!.process, intervalMs: 100 });
    gateways[0]!.process.start();
    await waitReady(0);
    for (const g of gateways.slice(1)) g.process.start();
    await Promise.all(gateways.slice(1).map((_, i) => waitReady(i + 1)));
    for (const g of gateways) log(`      ${g.name} ready on ${g.url} (pid ${g.process.pid})`);

    const workers: ClusterMember[] = [];
    const waitWorkerReady = (i: number, timeoutMs = 60_000) =>
      waitFor(`worker-${i + 1}`, () => httpOk(`${workers[i]!.url}/readyz`), { timeoutMs, proc: workers[i]!.process, intervalMs: 100 });
    let workersNote: string | undefined;
    if (workerCount > 0 && existsSync(join(REPO_ROOT, WORKER_ENTRY))) {
      step(`[6/7] workers: ${workerCount} (${WORKER_ENTRY})`);
      for (let i = 1; i <= workerCount; i++) {
        const port = await freePort();
        const proc = new ManagedProcess({
          name: `worker-${i}`,
          command: process.execPath,
          args: ['--import', 'tsx', WORKER_ENTRY],
          cwd: REPO_ROOT,
          env: { ...env, WORKER_METRICS_PORT: String(port), WORKER_ID: `worker-${i}` },
          logFile: join(dir, `worker-${i}.log`),
        });
        proc.start();
        workers.push({ name: proc.spec.name, port, url: `http://127.0.0.1:${port}`, process: proc });
        stops.push(() => proc.stop('SIGTERM', 8_000));
      }
      await Promise.all(workers.map((_, i) => waitWorkerReady(i)));
      for (const w of workers) log(`      ${w.name} ready (pid ${w.process.pid}, metrics ${w.url}/metrics)`);
    } else {
      workersNote = workerCount > 0 ? `${WORKER_ENTRY} is not in the repository yet (tasks issue): no workers started` : 'workers disabled';
      step(`[6/7] workers: skipped (${workersNote})`);
    }

    step('[7/7] nginx: least_conn, unbuffered SSE, passive health checks, X-Request-Id');
    const lbPort = await freePort();
    const singlePort = opts.singleReplicaListener ? await freePort() : undefined;
    const nginx = await startNginx(nginxPath, join(dir, 'nginx'), [
      { port: lbPort, backends: gateways.map((g) => g.port) },
      ...(singlePort ? [{ port: singlePort, backends: [gateways[0]!.port] }] : []),
    ]);
    stops.push(() => nginx.stop());
    const baseUrl = `http://127.0.0.1:${lbPort}`;

    const created = await adminCall(baseUrl, adminToken, 'POST', '/tenants', { name: 'demo', toolsets: ['platform', 'diagnostics'] });
    await adminCall(baseUrl, adminToken, 'POST', '/tenants/demo/upstreams', { name: 'fixture', url: fixtureUrl, longRunning: ['slow'] });

    return {
      dir,
      baseUrl,
      mcpUrl: `${baseUrl}/mcp`,
      ...(singlePort && { singleMcpUrl: `http://127.0.0.1:${singlePort}/mcp` }),
      apiKey: created.apiKey as string,
      adminToken,
      tenant: 'demo',
      fixtureUrl,
      gateways,
      workers,
      ...(workersNote && { workersNote }),
      redis,
      postgres,
      nginx,
      nginxPath,
      async restartGateway(i) {
        gateways[i]!.process.start();
        await waitReady(i);
      },
      waitGatewayReady: (i, timeoutMs) => waitReady(i, timeoutMs),
      async restartWorker(i) {
        workers[i]!.process.start();
        await waitWorkerReady(i);
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
