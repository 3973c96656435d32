/** Runs a client's CLI (a Node script of an installed package) on this Node, bounded in time, HOME in the scratch dir. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node <script> ...args`; never rejects (a spawn failure or a timeout is a non-zero code with the reason on stderr). */
export function runCli(script: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [script, ...args],
      { env: { PATH: process.env.PATH, ...env }, timeout: timeoutMs, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        const why = err && (err as { killed?: boolean }).killed ? `\nkilled after ${timeoutMs} ms` : '';
        resolve({ code, stdout, stderr: stderr + why });
      },
    );
  });
}

/** The JSON a CLI printed on stdout (or undefined when it printed something else). */
export function jsonOut<T>(r: CliResult): T | undefined {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    return undefined;
  }
}

/** The `{"error": {code, message}}` envelope a CLI printed on stderr or stdout, if any. */
export function errorEnvelope(r: CliResult): { code?: string; message?: string } | undefined {
  for (const line of [...r.stderr.split('\n'), ...r.stdout.split('\n')].reverse()) {
    if (!line.startsWith('{"error"')) continue;
    try {
      return (JSON.parse(line) as { error: { code?: string; message?: string } }).error;
    } catch {
      // not the envelope
    }
  }
  return undefined;
}

/** The directory and version of an installed package (read from node_modules: packages' `exports` may hide their package.json). */
export function installed(pkg: string): { dir: string; version: string } {
  const dir = join(process.cwd(), 'node_modules', pkg);
  return { dir, version: (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version };
}

/** One line describing a CLI run, for a failed cell's note. */
export const describe = (r: CliResult) => `exit ${r.code}: ${(r.stderr.trim() || r.stdout.trim()).split('\n')[0]?.slice(0, 200) ?? ''}`;
