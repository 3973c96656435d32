/**
 * Entry of the Pulumi program (Pulumi.yaml `main`). Loads the stack config once, then runs the regional
 * program (`role: regional`) or the global edge program (`role: global`, infra/global/) and returns its
 * outputs as the stack outputs. The default export is an async function so the same module can run under
 * mocks more than once in a process (infra/tools/mock-run.ts).
 */
import { loadConfig } from './config.js';

export default async function program(): Promise<Record<string, unknown>> {
  const cfg = loadConfig();
  if (cfg.role === 'regional') {
    const { runRegional } = await import('./regional/index.js');
    return runRegional(cfg);
  }
  // The global edge program (infra/global/) is loaded only for role=global.
  const { runGlobal } = await import('./global/index.js');
  return runGlobal(cfg);
}
