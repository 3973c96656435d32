/**
 * The seam between the deploy orchestrator and Pulumi: a workspace that selects stacks, and a stack
 * that previews, updates, reports outputs and takes config. The real implementation is
 * automation-workspace.ts (Pulumi Automation API); tests use a fake.
 */

/** Stack outputs as the Automation API reports them. */
export type StackOutputs = Record<string, { value: unknown; secret: boolean }>;

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
  /** Sets one config value; `path` treats `key` as a path into an object (`unified-mcp:cache.globalReplicationGroupId`). */
  setConfig(key: string, value: string, opts?: { secret?: boolean; path?: boolean }): Promise<void>;
}

/** Selects existing stacks of the project. */
export interface DeployWorkspace {
  /** Rejects with a clear message when the stack does not exist or cannot be selected. */
  selectStack(name: string): Promise<DeployStack>;
}
