/**
 * Helpers of the task tests: gateways in process (real endpoint, own database and Redis prefix), task
 * workers as real child processes (`service/src/worker-main.ts`, like `npm run worker`), and a small
 * JSON-RPC client for both protocol generations.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { startGateway, type Gateway } from '../../../service/src/app.js';
import { loadConfig } from '../../../service/src/config.js';
import { createLogger } from '../../../service/src/log/logger.js';
import { createTestDatabase, createTestRedisPrefix, testServiceUrls, type TestDatabase } from '../../support/platform-db.js';
import { testEnv, testRequestStateKeys } from '../../support/platform-gateway.js';
import { Redis } from 'ioredis';
import type pg from 'pg';
import type { Principal } from '../../../service/src/domain/principal.js';
import { createPgPool, loadMigrations, PgTenantStore, runMigrations } from '../../../service/src/store/pg/index.js';
import { PolicyTable } from '../../../service/src/tasks/policy.js';
import { BullmqTaskQueue } from '../../../service/src/tasks/queues/bullmq.js';
import { CancelPublisher } from '../../../service/src/tasks/queues/redis.js';
import { TaskService } from '../../../service/src/tasks/task-service.js';
import { PgTaskStore } from '../../../service/src/tasks/task-store.js';
import type { TaskQueue } from '../../../service/src/tasks/task-queue.js';

/** Task store, queue and service in process, on a fresh database and Redis prefix. */
export interface StoreEnv {
  readonly pool: pg.Pool;
  readonly redis: Redis;
  readonly queue: BullmqTaskQueue;
  readonly store: PgTaskStore;
  readonly service: TaskService;
  readonly policies: PolicyTable;
  /** Creates tenant `name` and returns an API-key principal of it. */
  tenant(name: string): Promise<Principal>;
  close(): Promise<void>;
}

/** Starts a {@link StoreEnv}; `attempts` is TASK_MAX_ATTEMPTS. */
export async function createStoreEnv(attempts = 3): Promise<StoreEnv> {
  const db = await createTestDatabase();
  const prefix = createTestRedisPrefix();
  const pool = createPgPool({ connectionString: db.url, max: 4 });
  await runMigrations(pool, loadMigrations());
  const redis = new Redis(testServiceUrls().redisUrl);
  const queue = new BullmqTaskQueue(
    testServiceUrls().redisUrl,
    `${prefix.prefix}bull`,
    new CancelPublisher(testServiceUrls().redisUrl, `${prefix.prefix}tasks:cancel`),
  );
  const store = new PgTaskStore(pool, redis, prefix.prefix);
  const policies = new PolicyTable({ TASK_MAX_ATTEMPTS: attempts, TASK_BACKOFF_MS: 100, TASK_JOB_TIMEOUT_MS: 1_000 });
  const service = new TaskService(store, queue, policies, { ttlMs: 60_000, pollIntervalMs: 500 });
  const tenants = new PgTenantStore(pool);
  return {
    pool,
    redis,
    queue,
    store,
    service,
    policies,
    async tenant(name) {
      const t = await tenants.create({ name });
      return { tenantId: t.id, tenantName: name, subject: `key:${name}`, kind: 'api-key', toolsets: [], scopes: [] };
    },
    async close() {
      await queue.close();
      redis.disconnect();
      await pool.end();
      await db.drop();
      await prefix.cleanup();
    },
  };
}

/** One test environment: database, Redis prefix, shared env of gateways and workers. */
export interface TaskEnv {
  readonly db: TestDatabase;
  readonly prefix: string;
  readonly adminToken: string;
  readonly env: NodeJS.ProcessEnv;
  readonly gateways: Gateway[];
  readonly workers: WorkerChild[];
  startGateway(): Promise<Gateway>;
  startWorker(extra?: Record<string, string>): Promise<WorkerChild>;
  /** A tenant with its API key. */
  tenant(name: string): Promise<{ id: string; key: string }>;
  cleanup(): Promise<void>;
}

/** A `npm run worker` child process. */
export interface WorkerChild {
  readonly child: ChildProcess;
  output(): string;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  kill(): Promise<void>;
}

/** Creates a task test environment; `overrides` reach gateways and workers. */
export async function createTaskEnv(overrides: Record<string, string> = {}): Promise<TaskEnv> {
  const db = await createTestDatabase();
  const redis = createTestRedisPrefix(overrides['REDIS_URL'] ?? testServiceUrls().redisUrl);
  const adminToken = randomBytes(16).toString('hex');
  const env = testEnv(
    {
      TASK_QUEUE_PREFIX: `${redis.prefix}bull`,
      REQUEST_STATE_KEYS: testRequestStateKeys(),
      TASK_STALLED_INTERVAL_MS: '1000',
      TASK_LOCK_MS: '2000',
      TASK_BACKOFF_MS: '100',
      WORKER_METRICS_PORT: '0',
      ...overrides,
    },
    db,
    redis.prefix,
    adminToken,
  );
  const gateways: Gateway[] = [];
  const workers: WorkerChild[] = [];
  return {
    db,
    prefix: redis.prefix,
    adminToken,
    env,
    gateways,
    workers,
    async startGateway() {
      const gw = await startGateway(loadConfig(env), { logger: createLogger({ level: 'silent' }) });
      gateways.push(gw);
      return gw;
    },
    async startWorker(extra = {}) {
      const w = await spawnWorker({ ...process.env, ...env, ...extra });
      workers.push(w);
      return w;
    },
    async tenant(name) {
      const gw = gateways[0]!;
      const t = await gw.tenants.create({ name, toolsets: ['diagnostics', 'conformance'] });
      const { key } = await gw.apiKeys.create(t.id, 'test');
      return { id: t.id, key };
    },
    async cleanup() {
      await Promise.allSettled(workers.map((w) => w.kill()));
      await Promise.allSettled(gateways.map((g) => g.close()));
      await db.drop().catch(() => undefined);
      await redis.cleanup().catch(() => undefined);
    },
  };
}

/** Spawns a worker and resolves once it printed WORKER_READY. */
export async function spawnWorker(env: NodeJS.ProcessEnv): Promise<WorkerChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'service/src/worker-main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start within 30 s:\n${out}`)), 30_000);
    const check = () => {
      if (out.includes('WORKER_READY')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited (${code}) before it was ready:\n${out}`));
    });
  }).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  return {
    child,
    output: () => out,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

const EXT = 'io.modelcontextprotocol/tasks';

/** A JSON-RPC error answer. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

/** A 2026-07-28 request (stateless): returns `result` or throws RpcError. */
export async function modernCall(
  mcpUrl: string,
  key: string,
  method: string,
  params: Record<string, unknown> = {},
  opts: { tasksExtension?: boolean } = {},
): Promise<Record<string, unknown>> {
  const body = {
    jsonrpc: '2.0',
    id: 1,
    method,
    params: {
      ...params,
      _meta: {
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientInfo': { name: 'task-test', version: '1' },
        'io.modelcontextprotocol/clientCapabilities': opts.tasksExtension === false ? {} : { extensions: { [EXT]: {} } },
        ...((params['_meta'] as object | undefined) ?? {}),
      },
    },
  };
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    authorization: `Bearer ${key}`,
    'mcp-protocol-version': '2026-07-28',
    'mcp-method': method,
  };
  const name = (params['name'] ?? params['taskId']) as string | undefined;
  if (name && method !== 'server/discover') headers['mcp-name'] = name;
  const res = await fetch(mcpUrl, { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await res.text();
  const payload = JSON.parse(
    text.startsWith('event:') || text.startsWith('data:')
      ? text
          .split('\n')
          .find((l) => l.startsWith('data:'))!
          .slice(5)
      : text,
  ) as {
    result?: Record<string, unknown>;
    error?: { code: number; message: string; data?: unknown };
  };
  if (payload.error) throw new RpcError(payload.error.code, payload.error.message, payload.error.data);
  return payload.result!;
}

/** Polls tasks/get until `done(task)` or the timeout. */
export async function waitForTask(
  get: () => Promise<Record<string, unknown>>,
  done: (task: Record<string, unknown>) => boolean = (t) => ['completed', 'failed', 'cancelled'].includes(t['status'] as string),
  timeoutMs = 30_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let last: Record<string, unknown> = {};
  while (Date.now() < deadline) {
    last = await get();
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`task did not reach the expected state in ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
}

/** A 2025-11-25 session (initialize on `mcpUrl`); `call` may target any replica. */
export async function legacySession(
  mcpUrl: string,
  key: string,
  protocolVersion = '2025-11-25',
): Promise<{
  call(url: string, method: string, params?: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** A request without `params` (as the v1 SDK sends tasks/list). */
  bare(url: string, method: string): Promise<Record<string, unknown>>;
  /** The raw response body (SSE events included). */
  raw(url: string, method: string, params?: Record<string, unknown>): Promise<string>;
  /**
   * Sends a request and reads its SSE stream, answering server-to-client requests with `answer` (POSTed
   * to `answerUrl`); resolves with every message received, the final response last.
   */
  stream(
    url: string,
    method: string,
    params: Record<string, unknown>,
    answerUrl: string,
    answer: (request: { method: string; params: unknown }) => unknown,
  ): Promise<Record<string, unknown>[]>;
  sessionId: string;
  capabilities: Record<string, unknown>;
}> {
  const base = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${key}` };
  let id = 0;
  const parse = async (res: Response) => {
    const text = await res.text();
    const line = text.startsWith('{')
      ? text
      : text
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5))
          .find((l) => l.includes('"id"'));
    const payload = JSON.parse(line ?? '{}') as { result?: Record<string, unknown>; error?: { code: number; message: string; data?: unknown } };
    if (payload.error) throw new RpcError(payload.error.code, payload.error.message, payload.error.data);
    return payload.result!;
  };
  const init = await fetch(mcpUrl, {
    method: 'POST',
    headers: base,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: ++id,
      method: 'initialize',
      params: {
        protocolVersion,
        capabilities: { tasks: { list: {}, cancel: {} }, elicitation: { form: {} } },
        clientInfo: { name: 'legacy-task-test', version: '1' },
      },
    }),
  });
  const sessionId = init.headers.get('mcp-session-id')!;
  const { capabilities } = (await parse(init)) as { capabilities: Record<string, unknown> };
  const headers = { ...base, 'mcp-session-id': sessionId, 'mcp-protocol-version': protocolVersion };
  await fetch(mcpUrl, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  return {
    sessionId,
    capabilities,
    async call(url, method, params = {}) {
      return parse(await fetch(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }) }));
    },
    async bare(url, method) {
      return parse(await fetch(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method }) }));
    },
    async stream(url, method, params, answerUrl, answer) {
      const myId = ++id;
      const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: myId, method, params }) });
      const messages: Record<string, unknown>[] = [];
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, cut).trim();
          buffer = buffer.slice(cut + 1);
          if (!line.startsWith('data:') || !line.slice(5).trim().startsWith('{')) continue;
          const msg = JSON.parse(line.slice(5)) as Record<string, unknown>;
          messages.push(msg);
          if (typeof msg['method'] === 'string' && msg['id'] !== undefined) {
            const result = answer({ method: msg['method'] as string, params: msg['params'] });
            await fetch(answerUrl, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: msg['id'], result }) });
          }
          if (msg['id'] === myId && ('result' in msg || 'error' in msg)) return messages;
        }
      }
      return messages;
    },
    async raw(url, method, params = {}) {
      return (await fetch(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }) })).text();
    },
  };
}

/**
 * The error a no-op consumer's start (what `npm start` and the worker do first) fails with on `queue`;
 * throws when it starts. The queue is closed either way.
 */
export async function consumerStartFailure(queue: TaskQueue, where: string): Promise<Error> {
  const consumer = queue.consume(async () => ({ kind: 'done' }), { concurrency: 1, lockMs: 30_000, stalledIntervalMs: 5_000 });
  try {
    await consumer.start();
  } catch (err) {
    return err as Error;
  } finally {
    await consumer.close().catch(() => undefined);
    await queue.close();
  }
  throw new Error(`consumer started on ${where}`);
}
