/**
 * A child process the cluster owns: spawned with its output in a log file, waited on until ready, and
 * stoppable by signal (SIGKILL for chaos, SIGTERM for a clean stop) and restartable with the same
 * command. Every child is registered so an exiting orchestrator can SIGKILL what it started (and only that).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';

const owned = new Set<ChildProcess>();
let exitHookInstalled = false;

/** SIGKILLs every child still running (last resort when the orchestrator exits abnormally). */
export function killAllOwned(): void {
  for (const child of owned) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** How to start one child. */
export interface ProcessSpec {
  /** Label in progress lines, e.g. `gateway-1`. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** stdout + stderr go here (appended across restarts). */
  readonly logFile: string;
}

/** A child that can be killed and started again. */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exitPromise: Promise<void> = Promise.resolve();

  constructor(readonly spec: ProcessSpec) {}

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns the process (no-op when it runs). */
  start(): void {
    if (this.running) return;
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', killAllOwned);
    }
    const fd = openSync(this.spec.logFile, 'a');
    const child = spawn(this.spec.command, [...this.spec.args], { env: this.spec.env ?? process.env, cwd: this.spec.cwd, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    owned.add(child);
    this.child = child;
    this.exitPromise = new Promise<void>((resolve) => {
      child.once('exit', () => {
        owned.delete(child);
        resolve();
      });
      child.once('error', () => {
        owned.delete(child);
        resolve();
      });
    });
  }

  /** Sends `signal` and waits for exit; escalates to SIGKILL after `timeoutMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await this.exitPromise;
    clearTimeout(timer);
  }

  /** Resolves when the process exits (immediately when it is not running). */
  exited(): Promise<void> {
    return this.exitPromise;
  }

  /** The last `chars` characters of the log (for error messages). */
  tail(chars = 2_000): string {
    try {
      return readFileSync(this.spec.logFile, 'utf8').slice(-chars).trim();
    } catch {
      return '';
    }
  }
}

/** Polls `probe` every `intervalMs` until it returns true; fails with `what` after `timeoutMs` or when `proc` dies. */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  opts: { timeoutMs: number; intervalMs?: number; proc?: ManagedProcess },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (opts.proc && !opts.proc.running) throw new Error(`${what}: ${opts.proc.spec.name} exited before it was ready:\n${opts.proc.tail()}`);
    if (Date.now() > deadline) throw new Error(`${what}: not ready within ${opts.timeoutMs} ms${opts.proc ? `:\n${opts.proc.tail()}` : ''}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}

/** GET `url` with a short timeout; true on 2xx. */
export async function httpOk(url: string, timeoutMs = 1_000): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  await res.arrayBuffer();
  return res.ok;
}
