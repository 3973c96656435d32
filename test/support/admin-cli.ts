/**
 * The admin CLI as its users run it (`npm run admin -- <args>`: service/src/cli/main.ts through tsx), as a
 * child process of the test, for the suites that drive it against a gateway.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));

/** One run of the CLI: its exit code and output. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI with `args` and exactly the environment `env` (ADMIN_URL, ADMIN_TOKEN...); resolves whatever
 * the exit code, never rejects. Asynchronous, so a gateway under test in this process keeps answering.
 */
export function runAdminCli(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(TSX, ['service/src/cli/main.ts', ...args], { cwd: ROOT, env }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
