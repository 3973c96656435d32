/**
 * Parent side of bench/pipeline/fixtures-process.ts: spawns it (`node --import tsx`, stdin a pipe so the
 * child ends with the bench), reads the one JSON line of URLs, and stops it (SIGTERM, then SIGKILL).
 * `killFixtures()` SIGKILLs any still running, synchronously, for exit and signal handlers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from '../../service/src/local/cluster/local-cluster.js';

/** The fixtures' child process and URLs. */
export interface FixturesProcess {
  readonly pid: number;
  readonly modernUrl: string;
  readonly legacyUrl: string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();

/** SIGKILLs every fixtures process still running. */
export function killFixtures(): void {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Starts the fixtures process (stderr to `dir`/fixtures.log) and waits for its URLs. */
export async function startFixturesProcess(dir: string, label = 'bench', timeoutMs = 30_000): Promise<FixturesProcess> {
  const logFile = join(dir, 'fixtures.log');
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/pipeline/fixtures-process.ts', label], {
    cwd: REPO_ROOT,
    env: process.env,
    stdio: ['pipe', 'pipe', fd],
  });
  closeSync(fd);
  running.add(child);
  const exited = new Promise<void>((resolve) => {
    const done = () => {
      running.delete(child);
      resolve();
    };
    child.once('exit', done);
    child.once('error', done);
  });
  child.stdin!.on('error', () => undefined);
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  const tail = () => {
    try {
      return readFileSync(logFile, 'utf8').slice(-2_000).trim();
    } catch {
      return '';
    }
  };
  try {
    const line = await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      const timer = setTimeout(() => reject(new Error(`fixtures process: no URLs within ${timeoutMs} ms:\n${tail()}`)), timeoutMs);
      lines.once('line', (l) => {
        clearTimeout(timer);
        resolve(l);
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`fixtures process exited before it was ready:\n${tail()}`));
      });
    });
    const urls = JSON.parse(line) as { modern?: unknown; legacy?: unknown };
    if (typeof urls.modern !== 'string' || typeof urls.legacy !== 'string') throw new Error(`fixtures process: unexpected line ${line}`);
    // Drain the rest of stdout so the child never blocks on a full pipe.
    child.stdout!.resume();
    return { pid: child.pid!, modernUrl: urls.modern, legacyUrl: urls.legacy, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
