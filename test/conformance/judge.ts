/**
 * Judges a conformance run from the per-check results the suite writes
 * (`<outDir>/server-<scenario>-<timestamp>/checks.json`), not from its exit code: a scenario passes
 * when it ran and none of its checks has status FAILURE (WARNING and INFO are reported, not failed).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** One check as the suite writes it. */
export interface Check {
  id: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'SKIPPED' | 'INFO';
  errorMessage?: string;
}

/** The verdict on one scenario. */
export interface ScenarioVerdict {
  scenario: string;
  outcome: 'passed' | 'failed' | 'excluded';
  checks: number;
  failures: Check[];
  warnings: Check[];
  note?: string;
}

/** Scenarios a requirement set runs in server mode (scored and not-scored), in file order. */
export function serverScenarios(requirementsFile: string): string[] {
  const doc = parse(readFileSync(requirementsFile, 'utf8')) as {
    server?: string[];
    not_scored?: { scenario: string; leg: string }[];
  };
  const notScored = (doc.not_scored ?? []).filter((e) => e.leg === 'server').map((e) => e.scenario);
  return [...(doc.server ?? []), ...notScored];
}

/** Reads every `checks.json` under `outDir`, keyed by scenario name. */
export function readChecks(outDir: string): Map<string, Check[]> {
  const byScenario = new Map<string, Check[]>();
  if (!existsSync(outDir)) return byScenario;
  for (const entry of readdirSync(outDir)) {
    const match = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(entry);
    const file = join(outDir, entry, 'checks.json');
    if (!match || !existsSync(file)) continue;
    byScenario.set(match[1]!, JSON.parse(readFileSync(file, 'utf8')) as Check[]);
  }
  return byScenario;
}

/**
 * Verdicts for `expected` scenarios. `exclude` names scenarios owned elsewhere (they are reported as
 * excluded whatever their result); an expected scenario without results fails.
 */
export function judge(expected: readonly string[], results: Map<string, Check[]>, exclude: (s: string) => string | undefined): ScenarioVerdict[] {
  return expected.map((scenario) => {
    const checks = results.get(scenario);
    const reason = exclude(scenario);
    const failures = checks?.filter((c) => c.status === 'FAILURE') ?? [];
    const warnings = checks?.filter((c) => c.status === 'WARNING') ?? [];
    if (reason) return { scenario, outcome: 'excluded', checks: checks?.length ?? 0, failures, warnings, note: reason };
    if (!checks) return { scenario, outcome: 'failed', checks: 0, failures, warnings, note: 'no checks.json written (scenario did not run)' };
    if (checks.length === 0) return { scenario, outcome: 'failed', checks: 0, failures, warnings, note: 'scenario produced no checks' };
    return { scenario, outcome: failures.length === 0 ? 'passed' : 'failed', checks: checks.length, failures, warnings };
  });
}
