/**
 * Runtime contract: what the manifests declare is what the real service does.
 *
 * For every regional stack file, the Pulumi program is rendered under mocks; for each gateway and worker
 * container of its Deployments, the test runs the entrypoint the image runs (the Dockerfile's
 * ENTRYPOINT/CMD in its WORKDIR, unless the manifest overrides them) with exactly that container's
 * command, args and environment (ConfigMap and Secret through envFrom, `env` entries), as the manifest's
 * runAsUser/runAsGroup, with the cloud endpoints replaced by local stand-ins (the one table: REPLACEMENTS
 * in support/runtime-contract/stand-ins.ts, printed below). Then it checks what Kubernetes and the
 * cluster's add-ons would check:
 *   - the Dockerfile agrees with the manifest: EXPOSE = containerPorts, numeric USER = runAsUser, exec-form
 *     CMD/ENTRYPOINT not overridden differently;
 *   - every key the manifests set is a key the service reads (its zod config schema, or the short list of
 *     keys read by libraries and cluster add-ons below) and is documented in the README's configuration
 *     reference; every key the service requires is set; the effective config parses;
 *   - startup, readiness and liveness probes answer 200 on the declared (named) port and path within the
 *     probe's budget, each answer within timeoutSeconds;
 *   - the port each PodMonitor scrapes serves, on the tier that emits them, the metric families the HPA
 *     (through prometheus-adapter), the KEDA triggers and the alert rules read; KEDA's redis list is the
 *     worker's queue;
 *   - the process runs as runAsUser/runAsGroup, writes only to its declared volumes (read-only root), and
 *     SIGTERM ends it with exit code 0 within terminationGracePeriodSeconds.
 * See docs/runtime-contract.md. Fixed ports (8080, 9464) must be free on the machine; stacks run one after
 * another, the tiers of one stack in parallel.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { METRICS, QUEUE } from '../../contract/index.js';
import { ConfigSchema, loadConfig } from '../../service/src/config.js';
import type { MockRunResult } from '../../infra/tools/mock-run.js';
import { effectiveArgv, numericUser, readDockerfile, type ImageSpec } from './support/runtime-contract/dockerfile.js';
import {
  adapterRules,
  declaredContainers,
  kedaRedisLists,
  metricUses,
  resolvePort,
  scrapeEndpoints,
  secretKeysReadByCluster,
  type DeclaredContainer,
  type HttpProbe,
} from './support/runtime-contract/manifests.js';
import { PodProcess, httpGet, otherListener, pollUntil200, portIsFree } from './support/runtime-contract/pod-process.js';
import { REPLACEMENTS, StandIns, cleanReservedRedis } from './support/runtime-contract/stand-ins.js';
import { REGIONAL_STACKS, runStack } from './support/stacks.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The containers under test, by container name: their image's Dockerfile. */
const TIERS: Record<string, string> = { gateway: 'service/Dockerfile.gateway', worker: 'service/Dockerfile.worker' };

/**
 * Keys a manifest may set that the service's config schema does not hold, and who reads them. Keep short;
 * a key here still has to be documented in the README.
 */
const READ_BY_LIBRARIES: Record<string, string> = {
  // libpq's convention, honoured by node-postgres: the shard URLs carry no password (the shard map stores them).
  PGPASSWORD: 'pg (node-postgres) for URLs without a password',
  // The V8 heap sized to the container's memory limit (infra/regional/app/workloads.ts heapLimitMiB).
  NODE_OPTIONS: 'node itself (--max-old-space-size)',
};

/**
 * Which tier emits which metric family, from the code: the HTTP and MCP counters are the gateway's request
 * middleware (service/src/http/metrics.ts, mcp/metrics.ts); the queue and DLQ gauges are read from Redis at
 * scrape by both tiers (tasks/metrics.ts registerQueueGauges through createTaskTier; docs/tasks.md); job
 * metrics are the worker's (workerMetrics in worker-main.ts); pool and replica gauges come from the
 * gateway's data layer (store/pg/routing/pool-metrics.ts).
 */
const METRIC_OWNERS: Record<string, string[]> = {
  [METRICS.httpRequests]: ['gateway'],
  [METRICS.httpDuration]: ['gateway'],
  [METRICS.mcpRequests]: ['gateway'],
  [METRICS.mcpDuration]: ['gateway'],
  [METRICS.queueWaiting]: ['gateway', 'worker'],
  [METRICS.queueActive]: ['gateway', 'worker'],
  [METRICS.queueDelayed]: ['gateway', 'worker'],
  [METRICS.queueOldestWaitingAge]: ['gateway', 'worker'],
  [METRICS.dlqSize]: ['gateway', 'worker'],
  [METRICS.jobDuration]: ['worker'],
  [METRICS.jobRetries]: ['worker'],
  [METRICS.pgPoolTotal]: ['gateway'],
  [METRICS.pgPoolIdle]: ['gateway'],
  [METRICS.pgPoolWaiting]: ['gateway'],
  [METRICS.replicationLag]: ['gateway'],
  // Limits are checked in the gateway's pipeline and HTTP layer; the worker's pipeline has no limits stage.
  [METRICS.limitCounterErrors]: ['gateway'],
};

/** Keys of the service's configuration (service/src/config.ts, with every schema it merges). */
const SERVICE_KEYS = new Set(Object.keys(ConfigSchema.shape));
/** Keys without a default: the process refuses to start without them. */
const REQUIRED_KEYS = Object.entries(ConfigSchema.shape)
  .filter(([, s]) => !(s as { safeParse(v: unknown): { success: boolean } }).safeParse(undefined).success)
  .map(([k]) => k);

/** Keys in the README's "Configuration reference (service)" section (every table there). */
function readmeKeys(): Set<string> {
  const text = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = text.indexOf('## Configuration reference (service)');
  const end = text.indexOf('\n## ', start + 10);
  const section = text.slice(start, end === -1 ? undefined : end);
  return new Set([...section.matchAll(/^\|\s*`([A-Z][A-Z0-9_]*)`/gm)].map((m) => m[1]!));
}

/** The node binary that stands in for the image's `node`: the pinned one, checked against the base image tag. */
function nodeFor(image: ImageSpec): string {
  const pinned = join(ROOT, 'node_modules', '.bin', 'node');
  const bin = existsSync(pinned) ? realpathSync(pinned) : process.execPath;
  const tag = /^node:(\d+(?:\.\d+)*)/.exec(image.from)?.[1];
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim().replace(/^v/, '');
  if (tag && !`${version}.`.startsWith(`${tag}.`))
    throw new Error(`${image.file}: the image runs node ${tag} (FROM ${image.from}), the local stand-in is ${version}`);
  return bin;
}

/** Newest modification time of the files under `dir` with one of `exts`. */
function newest(dir: string, exts: string[]): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p, exts));
    else if (exts.some((x) => e.name.endsWith(x))) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/** Builds dist/ (npm run build, as the images' build stage does) when an entrypoint needs it and it is stale. */
function ensureBuilt(scripts: string[]): void {
  const compiled = scripts.filter((s) => s.startsWith('dist/'));
  if (!compiled.length) return;
  const sources = Math.max(newest(join(ROOT, 'service', 'src'), ['.ts', '.sql', '.js', '.css']), newest(join(ROOT, 'contract'), ['.ts']));
  const stale = compiled.some((s) => !existsSync(join(ROOT, s)) || statSync(join(ROOT, s)).mtimeMs < sources);
  if (stale) execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

const probeBudget = (p: HttpProbe) => ({
  timeoutMs: (p.timeoutSeconds ?? 1) * 1000,
  budgetMs: ((p.initialDelaySeconds ?? 0) + (p.periodSeconds ?? 10) * (p.failureThreshold ?? 3)) * 1000,
});

/** What happened to one container. */
interface Run {
  readonly c: DeclaredContainer;
  readonly image: ImageSpec;
  readonly argv: string[];
  readonly uid: number;
  readonly gid: number;
  readonly tmp: string | undefined;
  proc?: PodProcess;
  startError?: string;
  probes: string[];
  /** Metric families exposed per scraped endpoint (`port/path`). */
  scraped: Array<{ endpoint: string; families: Set<string> | undefined; error?: string }>;
  procStatus?: { uid: number; gid: number };
}

const where = (stack: string, c: DeclaredContainer) => `${stack}: Deployment ${c.deployment}, container ${c.name}`;

describe("runtime contract: every stack's gateway and worker containers run the real entrypoint as declared", function () {
  this.timeout(240_000);

  before(() => {
    // eslint-disable-next-line no-console
    if (process.env.RUNTIME_CONTRACT_VERBOSE) console.log(REPLACEMENTS.map((r) => `${r.key}: ${r.production} -> ${r.standIn}`).join('\n'));
  });
  after(() => cleanReservedRedis());

  for (const stack of REGIONAL_STACKS) {
    describe(`stack ${stack}`, () => {
      let r: MockRunResult;
      const runs: Run[] = [];
      const standIns = new StandIns();

      before(async function () {
        r = await runStack(stack);
        const containers = declaredContainers(r).filter((c) => TIERS[c.name] !== undefined);
        assert.deepEqual(containers.map((c) => c.name).sort(), Object.keys(TIERS).sort(), `${stack}: expected one gateway and one worker container`);
        for (const c of containers) {
          const image = readDockerfile(join(ROOT, TIERS[c.name]!));
          const argv = effectiveArgv(image, c.command, c.args);
          const user = numericUser(image.user);
          const uid = c.runAsUser ?? user?.uid ?? 0;
          const gid = c.runAsGroup ?? user?.gid ?? uid;
          const tmp = c.volumeMounts.includes('/tmp') ? standIns.emptyDir(uid, c.fsGroup ?? gid) : undefined;
          runs.push({ c, image, argv, uid, gid, tmp, probes: [], scraped: [] });
        }
        ensureBuilt(runs.map((x) => x.argv.find((a) => /\.(m?js|ts)$/.test(a)) ?? ''));
        const region = String(runs[0]!.c.env.AWS_REGION ?? runs[0]!.c.env.REGION);
        const arns = [...new Set(runs.map((x) => x.c.env.SECRETS_KMS_KEY_ID).filter((v): v is string => !!v && v.startsWith('arn:')))];
        const buckets = [...new Set(runs.map((x) => x.c.env.BLOB_S3_BUCKET).filter((v): v is string => !!v))];
        await standIns.start(region, arns, buckets);
        // Pods have a network namespace each; here they share the machine's: the declared ports must be free.
        for (const port of new Set(runs.flatMap((x) => x.c.ports.map((p) => p.containerPort)))) {
          if (!(await portIsFree(port))) throw new Error(`${stack}: port ${port} is in use on this machine; stop what listens there and run again`);
        }
        // Start the tiers of the stack together, as a rollout does.
        await Promise.all(runs.map((run) => startAndProbe(stack, r, run, standIns)));
      });

      after(async () => {
        await Promise.all(runs.map((x) => x.proc?.kill()));
        await standIns.stop();
      });

      it('the Dockerfiles agree with the manifests: EXPOSE = containerPorts, numeric USER = runAsUser, CMD/ENTRYPOINT not overridden differently', () => {
        const problems: string[] = [];
        for (const { c, image } of runs) {
          const ports = c.ports.map((p) => p.containerPort).sort();
          if (JSON.stringify([...image.expose].sort()) !== JSON.stringify(ports))
            problems.push(
              `${where(stack, c)}: ${relative(ROOT, image.file)} EXPOSEs ${image.expose.join(', ') || 'nothing'}, the container declares ports ${ports.join(', ') || 'none'}`,
            );
          const user = numericUser(image.user);
          if (!user)
            problems.push(
              `${where(stack, c)}: ${relative(ROOT, image.file)} has USER ${image.user}, a name: runAsNonRoot cannot verify it and it need not match runAsUser ${c.runAsUser}; use a numeric USER`,
            );
          else if (c.runAsUser !== undefined && user.uid !== c.runAsUser)
            problems.push(`${where(stack, c)}: ${relative(ROOT, image.file)} USER ${image.user} but runAsUser ${c.runAsUser}`);
          else if (user && c.runAsGroup !== undefined && user.gid !== undefined && user.gid !== c.runAsGroup)
            problems.push(`${where(stack, c)}: USER group ${user.gid} but runAsGroup ${c.runAsGroup}`);
          const imageArgv = effectiveArgv(image);
          const argv = effectiveArgv(image, c.command, c.args);
          if (JSON.stringify(argv) !== JSON.stringify(imageArgv))
            problems.push(`${where(stack, c)}: the manifest runs ${JSON.stringify(argv)}, the image ${JSON.stringify(imageArgv)}`);
          if (!imageArgv.length) problems.push(`${where(stack, c)}: ${relative(ROOT, image.file)} has neither ENTRYPOINT nor CMD`);
        }
        assert.deepEqual(problems, []);
      });

      it('sets only keys the service (or a named library or add-on) reads, all documented in the README; every required key is set', () => {
        const problems: string[] = [];
        const documented = readmeKeys();
        const readByCluster = secretKeysReadByCluster(r);
        for (const { c } of runs) {
          for (const key of Object.keys(c.env).sort()) {
            const clusterReader = [...readByCluster.entries()].find(([secret, keys]) => c.envSource[key] === `Secret ${secret}` && keys.has(key))?.[1].get(key);
            if (!SERVICE_KEYS.has(key) && !READ_BY_LIBRARIES[key] && !clusterReader) {
              problems.push(
                `${where(stack, c)}: sets ${key} (${c.envSource[key]}), which the service never reads (not in its config schema, no library or add-on reads it)`,
              );
            } else if (!documented.has(key)) {
              problems.push(`${where(stack, c)}: sets ${key} (${c.envSource[key]}), not documented in README.md "Configuration reference (service)"`);
            }
          }
          for (const key of REQUIRED_KEYS)
            if (!(key in c.env)) problems.push(`${where(stack, c)}: the service requires ${key} (no default), the manifests do not set it`);
          try {
            loadConfig({ ...c.env });
          } catch (err) {
            problems.push(`${where(stack, c)}: the service would refuse this environment: ${(err as Error).message.replace(/\n\s*/g, '; ')}`);
          }
        }
        assert.deepEqual(problems, []);
      });

      it('answers every startup, readiness and liveness probe with 200 on the declared port and path within the probe budget', () => {
        const problems = runs.flatMap((run) => [
          ...(run.startError ? [`${where(stack, run.c)}: ${run.startError}`] : []),
          ...run.probes.map((p) => `${where(stack, run.c)}: ${p}${run.proc ? `\n    output:\n${run.proc.tail()}` : ''}`),
        ]);
        assert.deepEqual(problems, []);
      });

      it('serves, on the ports the PodMonitor scrapes, the metrics the HPA, KEDA and the alerts read, on the tier that emits them', async () => {
        // prometheus-adapter is installed by the EKS stacks; a pre-existing cluster needs the same rules.
        const rules = adapterRules(await Promise.all(REGIONAL_STACKS.map(runStack)));
        const { uses, problems } = metricUses(r, rules);
        for (const u of uses) {
          const owners = u.deployment ? runs.filter((x) => x.c.deployment === u.deployment).map((x) => x.c.name) : METRIC_OWNERS[u.metric];
          if (!owners?.length) {
            problems.push(`${stack}: ${u.usedBy} reads ${u.metric}, which no tier is known to emit (add it to METRIC_OWNERS from the code)`);
            continue;
          }
          for (const tier of owners) {
            const run = runs.find((x) => x.c.name === tier);
            if (!run) {
              problems.push(`${stack}: ${u.usedBy} reads ${u.metric} from ${tier}, which the stack does not run`);
              continue;
            }
            if (!scrapeEndpoints(r, run.c).length) {
              problems.push(
                `${where(stack, run.c)}: ${u.usedBy} reads ${u.metric}, but no PodMonitor endpoint matches a port of this container (ports: ${run.c.ports.map((p) => `${p.name}=${p.containerPort}`).join(', ')})`,
              );
              continue;
            }
            if (!run.scraped.length) {
              problems.push(`${where(stack, run.c)}: ${u.usedBy} reads ${u.metric}; not scraped: the container never passed its startup probe`);
              continue;
            }
            if (!run.scraped.some((s) => s.families?.has(u.metric))) {
              problems.push(
                `${where(stack, run.c)}: ${u.usedBy} reads ${u.metric}; Prometheus scrapes ${run.scraped.map((s) => `${s.endpoint} (${s.error ?? `${s.families!.size} families, not this one`})`).join('; ')}`,
              );
            }
          }
        }
        assert.deepEqual([...new Set(problems)], []);
      });

      it('lets KEDA measure the queue the worker consumes (the redis list name and the Secret key its TriggerAuthentication reads)', () => {
        const problems: string[] = [];
        for (const t of kedaRedisLists(r)) {
          const run = runs.find((x) => x.c.deployment === t.target);
          if (!run) {
            problems.push(`${stack}: ScaledObject ${t.scaledObject} scales ${t.target}, which is not a Deployment of the stack`);
            continue;
          }
          let prefix = 'bull';
          try {
            prefix = loadConfig({ ...run.c.env }).TASK_QUEUE_PREFIX;
          } catch {
            /* reported by the config check */
          }
          const expected = `${prefix}:${QUEUE.name}:wait`;
          if (t.listName !== expected) problems.push(`${where(stack, run.c)}: KEDA reads list ${t.listName}, the worker's queue waits in ${expected}`);
        }
        for (const [secret, keys] of secretKeysReadByCluster(r)) {
          const s = r.resources.find((x) => x.type === 'kubernetes:core/v1:Secret' && x.inputs.metadata?.name === secret);
          for (const [key, reader] of keys)
            if (!s || !(key in (s.inputs.stringData ?? {}))) problems.push(`${stack}: ${reader} reads key ${key} of Secret ${secret}, which does not hold it`);
        }
        assert.deepEqual(problems, []);
      });

      it('runs as runAsUser/runAsGroup with a read-only root filesystem, writing only to its declared volumes', () => {
        const problems: string[] = [];
        for (const run of runs) {
          const { c } = run;
          if (run.procStatus && (run.procStatus.uid !== run.uid || run.procStatus.gid !== run.gid))
            problems.push(`${where(stack, c)}: ran as ${run.procStatus.uid}:${run.procStatus.gid}, declared ${run.uid}:${run.gid}`);
          if (run.uid === 0) problems.push(`${where(stack, c)}: runs as root`);
          if (!c.readOnlyRootFilesystem) problems.push(`${where(stack, c)}: readOnlyRootFilesystem is not set`);
          // The working copy stands in for the image's root filesystem: root-owned, not writable by the uid.
          const cwd = statSync(ROOT);
          if (cwd.uid === run.uid || (cwd.mode & 0o002) !== 0)
            problems.push(`${where(stack, c)}: the stand-in root filesystem (${ROOT}) is writable by uid ${run.uid}; the check would prove nothing`);
          // Anything the uid wrote outside its volumes (world-writable places a container would not have).
          for (const dir of ['/tmp', '/var/tmp', '/dev/shm']) {
            let entries: string[] = [];
            try {
              entries = readdirSync(dir);
            } catch {
              continue;
            }
            for (const e of entries) {
              const p = join(dir, e);
              if (standIns.tmpDirs.some((d) => resolve(d) === resolve(p))) continue; // the volumes' stand-ins
              try {
                const st = statSync(p);
                if (st.uid === run.uid && st.mtimeMs >= (run.proc?.startedAt ?? 0) - 1000)
                  problems.push(`${where(stack, c)}: wrote ${p} outside its declared volumes (${c.volumeMounts.join(', ') || 'none'})`);
              } catch {
                /* gone */
              }
            }
          }
        }
        assert.deepEqual(problems, []);
      });

      it('ends on SIGTERM with exit code 0 within terminationGracePeriodSeconds', async () => {
        const results = await Promise.all(
          runs.map(async (run) => {
            if (!run.proc || run.proc.exit) return `${where(stack, run.c)}: not running (${run.startError ?? `exited ${run.proc?.exit?.code}`})`;
            const graceMs = run.c.terminationGracePeriodSeconds * 1000;
            const t = await run.proc.terminate(graceMs);
            if (t.ms === undefined)
              return `${where(stack, run.c)}: still running ${run.c.terminationGracePeriodSeconds} s after SIGTERM; the kubelet would SIGKILL it\n${run.proc.tail()}`;
            if (t.code !== 0) return `${where(stack, run.c)}: SIGTERM ended it with code ${t.code} signal ${t.signal} after ${t.ms} ms\n${run.proc.tail()}`;
            return undefined;
          }),
        );
        assert.deepEqual(results.filter(Boolean), []);
      });
    });
  }
});

/** Starts one container's process and records what its probes and scrapes saw. */
async function startAndProbe(stack: string, r: MockRunResult, run: Run, standIns: StandIns): Promise<void> {
  const { c, image, argv } = run;
  if (argv[0] !== 'node') {
    run.startError = `the image runs ${JSON.stringify(argv)}; the test knows how to stand in for \`node\` only`;
    return;
  }
  let env: Record<string, string>;
  try {
    env = await standIns.environment({ PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/', ...image.env, ...c.env }, run.tmp ?? '/tmp');
    if (!run.tmp) delete env.TMPDIR;
  } catch (err) {
    run.startError = `stand-ins failed: ${(err as Error).message}`;
    return;
  }
  const proc = new PodProcess({
    label: `${stack}/${c.name}`,
    argv: [nodeFor(image), ...argv.slice(1)],
    cwd: ROOT /* image WORKDIR */,
    env,
    uid: run.uid,
    gid: run.gid,
  });
  run.proc = proc;
  const t0 = proc.startedAt;

  const probe = async (kind: 'startupProbe' | 'readinessProbe' | 'livenessProbe', since: number, budgetOverrideMs?: number) => {
    const p = c.probes[kind];
    if (!p) return undefined;
    const port = resolvePort(c, p.httpGet.port);
    if (port === undefined) {
      run.probes.push(`${kind} uses port "${p.httpGet.port}", which the container does not declare`);
      return undefined;
    }
    const { timeoutMs, budgetMs } = probeBudget(p);
    const res = await pollUntil200(proc, port, p.httpGet.path, timeoutMs, budgetOverrideMs ?? budgetMs, since);
    if ('last' in res)
      run.probes.push(
        `${kind} GET :${port}${p.httpGet.path} (port ${JSON.stringify(p.httpGet.port)}) got no 200 within ${(budgetOverrideMs ?? budgetMs) / 1000} s; last answer: ${res.last}`,
      );
    return res;
  };
  const startup = await probe('startupProbe', t0);
  if (startup && 'last' in startup) return;
  const afterStartup = Date.now();
  await Promise.all([probe('readinessProbe', afterStartup), probe('livenessProbe', afterStartup)]);

  try {
    const status = readFileSync(`/proc/${proc.child.pid}/status`, 'utf8');
    run.procStatus = { uid: Number(/^Uid:\s+(\d+)/m.exec(status)![1]), gid: Number(/^Gid:\s+(\d+)/m.exec(status)![1]) };
  } catch {
    /* exited: reported by the probes */
  }

  for (const ep of scrapeEndpoints(r, c)) {
    const endpoint = `${ep.monitor} port ${JSON.stringify(ep.portName)}${ep.port ? ` (:${ep.port})` : ''}${ep.path}`;
    if (ep.port === undefined) {
      run.scraped.push({ endpoint, families: undefined, error: 'port not declared' });
      continue;
    }
    const res = await httpGet(ep.port, ep.path, 10_000);
    if ('error' in res) run.scraped.push({ endpoint, families: undefined, error: res.error });
    else if (res.status !== 200) run.scraped.push({ endpoint, families: undefined, error: `HTTP ${res.status}` });
    else if (otherListener(ep.port, proc.child.pid!) !== undefined)
      run.scraped.push({ endpoint, families: undefined, error: `answered by ${otherListener(ep.port, proc.child.pid!)}, not this container's process` });
    else run.scraped.push({ endpoint, families: new Set([...res.body.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!)) });
  }
}
