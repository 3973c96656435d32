/**
 * A container of the runtime contract test as a local process: the image's argv in the image's WORKDIR
 * (mapped to the repository root, which the Dockerfiles copy with the same layout), a clean environment
 * (nothing inherited from the test process), the manifest's runAsUser/runAsGroup, output kept for messages.
 * Probes are plain HTTP GETs with the probe's timeout, as the kubelet sends them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';

/** How to start one container. */
export interface PodProcessSpec {
  readonly label: string;
  readonly argv: string[];
  readonly cwd: string;
  readonly env: Record<string, string>;
  readonly uid: number;
  readonly gid: number;
}

/** A running container process. */
export class PodProcess {
  readonly child: ChildProcess;
  readonly startedAt = Date.now();
  private out = '';
  exit: { code: number | null; signal: NodeJS.Signals | null; at: number } | undefined;
  readonly exited: Promise<void>;

  constructor(readonly spec: PodProcessSpec) {
    this.child = spawn(spec.argv[0]!, spec.argv.slice(1), {
      cwd: spec.cwd,
      env: spec.env,
      uid: spec.uid,
      gid: spec.gid,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (c: Buffer) => {
      this.out = (this.out + c.toString()).slice(-20_000);
    };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal, at: Date.now() };
        resolve();
      });
      this.child.once('error', (err) => {
        this.out += `\nspawn error: ${err.message}`;
        this.exit = { code: null, signal: null, at: Date.now() };
        resolve();
      });
    });
  }

  /** The last lines the process wrote (stdout and stderr), for failure messages. */
  tail(lines = 25): string {
    return this.out
      .trim()
      .split('\n')
      .slice(-lines)
      .map((l) => `      | ${l}`)
      .join('\n');
  }

  /** SIGTERM, then the time until exit (ms) or undefined if it did not end within `graceMs`. */
  async terminate(graceMs: number): Promise<{ ms: number | undefined; code: number | null; signal: NodeJS.Signals | null }> {
    if (this.exit) return { ms: 0, code: this.exit.code, signal: this.exit.signal };
    const t0 = Date.now();
    this.child.kill('SIGTERM');
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
    if ((await Promise.race([this.exited.then(() => 'exit' as const), timer])) === 'timeout') {
      return { ms: undefined, code: null, signal: null };
    }
    return { ms: Date.now() - t0, code: this.exit!.code, signal: this.exit!.signal };
  }

  /** SIGKILL if still running (after hooks). */
  async kill(): Promise<void> {
    if (this.exit) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** One HTTP GET as a kubelet probe sends it. */
export function httpGet(port: number, path: string, timeoutMs: number): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'GET', headers: { 'user-agent': 'kube-probe/1.33', accept: '*/*' }, timeout: timeoutMs },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (body.length < 1_000_000) body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', (err) => resolve({ error: err.message }));
      },
    );
    req.on('timeout', () => {
      req.destroy();
      resolve({ error: `no answer within timeoutSeconds (${timeoutMs} ms)` });
    });
    req.on('error', (err) => resolve({ error: (err as NodeJS.ErrnoException).code ?? err.message }));
    req.end();
  });
}

/** Inodes of the TCP sockets listening on `port` (any address), from /proc/net/tcp and tcp6. */
function listeningInodes(port: number): Set<string> {
  const out = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[3] === '0A' && parseInt(f[1]!.split(':')[1]!, 16) === port) out.add(f[9]!);
    }
  }
  return out;
}

/** Pids holding one of `inodes` (scans /proc; only on the failure path). */
function socketHolders(inodes: Set<string>): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readdirSync(`/proc/${pid}/fd`).some((fd) => inodes.has(/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? ''))) {
        out.push(`pid ${pid} (${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim().slice(0, 120)})`);
      }
    } catch {
      /* gone or not ours to read */
    }
  }
  return out;
}

/**
 * Who listens on `port`: undefined when it is `pid` itself, else a description of the other listener. The
 * pods of a stack share this machine's network namespace here (in the cluster each has its own), so an
 * answer on a port must be checked to come from the container that declares it.
 */
export function otherListener(port: number, pid: number): string | undefined {
  const inodes = listeningInodes(port);
  if (!inodes.size) return 'nothing listens';
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m && inodes.has(m[1]!)) return undefined;
    }
  } catch {
    /* exited */
  }
  return socketHolders(inodes).join(', ') || 'another process';
}

/**
 * Polls GET `path` on `port` until it answers 200 or `budgetMs` passes (measured from `since`), each try
 * bounded by `timeoutMs`. Returns when it first answered 200, or the last outcome.
 */
export async function pollUntil200(
  p: PodProcess,
  port: number,
  path: string,
  timeoutMs: number,
  budgetMs: number,
  since: number,
): Promise<{ okAfterMs: number } | { last: string }> {
  let last = 'never tried';
  while (Date.now() - since <= budgetMs) {
    if (p.exit) return { last: `the process exited (code ${p.exit.code}, signal ${p.exit.signal}) while probes ran; last probe: ${last}` };
    const r = await httpGet(port, path, timeoutMs);
    if ('status' in r && r.status === 200) {
      const other = otherListener(port, p.child.pid!);
      if (other === undefined) return { okAfterMs: Date.now() - since };
      // Another pod's process answered (a shared network namespace here): in the cluster this one gets no answer.
      return { last: `HTTP 200, but from ${other}, not this container's process: in its own pod nothing answers on :${port}` };
    }
    last = 'status' in r ? `HTTP ${r.status} ${r.body.slice(0, 200)}` : r.error;
    await new Promise((res) => setTimeout(res, 250));
  }
  return { last };
}

/** True when nothing listens on 0.0.0.0:`port` (the pods bind fixed ports; something else there would answer the probes). */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '0.0.0.0', () => s.close(() => resolve(true)));
  });
}
