/**
 * Shared fixtures for the infra tests: each regional stack file runs under mocks once per process (the
 * runs are memoised, several test files read the same result), plus small finders over the resources.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runStackUnderMocks, type MockedResource, type MockRunResult } from '../../../infra/tools/mock-run.js';

export const STACKS_DIR = join(fileURLToPath(import.meta.url), '..', '..', '..', '..', 'stacks');

/** Every regional stack file (role: regional), found on disk so a new stack file is tested automatically. */
export const REGIONAL_STACKS: string[] = readdirSync(STACKS_DIR)
  .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
  .filter((s): s is string => s !== undefined && !s.endsWith('-global'));

const runs = new Map<string, Promise<MockRunResult>>();

/** The mocked run of `stack` with its stack file as is (memoised). */
export function runStack(stack: string): Promise<MockRunResult> {
  let run = runs.get(stack);
  if (!run) {
    // Runs are serialised: the Pulumi runtime and its mock monitor are process-global.
    const previous = [...runs.values()].at(-1) ?? Promise.resolve();
    run = previous.catch(() => undefined).then(() => runStackUnderMocks(stack));
    runs.set(stack, run);
  }
  return run;
}

/** Resources of a Pulumi type token, e.g. `aws:rds/cluster:Cluster`. */
export function ofType(r: MockRunResult, type: string): MockedResource[] {
  return r.resources.filter((x) => x.type === type);
}

/** Exactly one resource of `type` whose name ends with `suffix`. */
export function one(r: MockRunResult, type: string, suffix = ''): MockedResource {
  const found = ofType(r, type).filter((x) => x.name.endsWith(suffix));
  if (found.length !== 1) throw new Error(`expected one ${type} named *${suffix}, found ${found.map((f) => f.name).join(', ') || 'none'}`);
  return found[0]!;
}

/** True when `stack` is a prod stack (by its name). */
export const isProd = (stack: string) => stack.startsWith('prod');

/** Runs `stack` with changes and returns the error message (fails the test when it does not throw). */
export async function failure(stack: string, opts: Parameters<typeof runStackUnderMocks>[1]): Promise<string> {
  await runStack(stack); // keep runs serialised behind the shared fixtures
  try {
    await runStackUnderMocks(stack, opts);
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail(`stack ${stack} accepted a bad config`);
}
