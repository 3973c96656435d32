/**
 * The seam between the deploy orchestrator and Pulumi: a workspace that selects (or creates) stacks, and a
 * stack that previews, updates, reports outputs and config, and takes config. The real implementation is
 * automation-workspace.ts (Pulumi Automation API); tests use a fake.
 */

/** Stack outputs as the Automation API reports them. */
export type StackOutputs = Record<string, { value: unknown; secret: boolean }>;

/**
 * Config of a stack by full key, as `pulumi config` reports it: `secret` per key, and the value of plain keys
 * only (an implementation drops secret values before they reach the orchestrator).
 */
export type ConfigStatus = Record<string, { secret: boolean; value?: string }>;

/** Thrown by {@link DeployWorkspace.selectStack} without `create` when the stack does not exist yet. */
export class StackMissingError extends Error {
  constructor(readonly stackName: string) {
    super(`stack "${stackName}" does not exist in the current backend yet; the deploy creates it (config from stacks/Pulumi.${stackName}.yaml)`);
    this.name = 'StackMissingError';
  }
}

/** Resource operation counts of a preview or update, e.g. `{ create: 12, same: 3 }`. */
export type ChangeSummary = Record<string, number>;

/** One stack of the deploy. */
export interface DeployStack {
  readonly name: string;
  /** Runs `pulumi preview`; rejects when the preview fails. */
  preview(): Promise<{ changes: ChangeSummary }>;
  /** Runs `pulumi up`; rejects when the update fails. */
  up(): Promise<{ changes: ChangeSummary; outputs: StackOutputs }>;
  /** Current outputs (empty before the first update). */
  outputs(): Promise<StackOutputs>;
  /** The stack's config keys: secret or not, plain values only. */
  configStatus(): Promise<ConfigStatus>;
}

/** Selects the stacks of the project, creating missing ones. */
export interface DeployWorkspace {
  /**
   * Selects the stack; with `create` creates it first when it does not exist (its config is the stack
   * file's). Without `create` rejects with {@link StackMissingError} for a missing stack.
   */
  selectStack(name: string, opts?: { create?: boolean }): Promise<DeployStack>;
}
