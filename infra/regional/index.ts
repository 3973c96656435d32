/**
 * The regional program: one AWS provider for the stack's region, then network → cluster (or an existing
 * cluster from a kubeconfig) → data services → workloads, and the outputs the global stack reads.
 */
import type { RegionalConfig } from '../config.js';
import { RegionalPlatform } from './platform.js';

export { RegionalPlatform } from './platform.js';

/** Builds the regional platform and returns the stack outputs (names are a contract with infra/global). */
export async function runRegional(cfg: RegionalConfig): Promise<Record<string, unknown>> {
  const platform = new RegionalPlatform(`${cfg.prefix}-${cfg.environment}`, cfg);
  return platform.stackOutputs();
}
