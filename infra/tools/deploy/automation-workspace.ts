/**
 * The real DeployWorkspace: Pulumi Automation API over the program in the repository root
 * (Pulumi.yaml, stacks/Pulumi.<stack>.yaml). Needs the pulumi CLI on PATH and a logged-in backend.
 * Missing stacks are created (`LocalWorkspace.createOrSelectStack`, i.e. `pulumi stack init`); the CLI then
 * reads and writes their config in stacks/ (Pulumi.yaml `stackConfigDir`), the files in the repository.
 */
import { spawnSync } from 'node:child_process';
import { LocalWorkspace, StackNotFoundError, type Stack } from '@pulumi/pulumi/automation/index.js';
import { StackMissingError, type ConfigStatus, type DeployStack, type DeployWorkspace, type StackOutputs } from './workspace.js';

/** Thrown when the pulumi CLI cannot be run; the message says how to fix it. */
export class PulumiCliMissingError extends Error {
  constructor(detail: string) {
    super(
      `The pulumi CLI is not installed or not on PATH (${detail}). Install it (see the Pulumi docs, "Download & install"), ` +
        'run `pulumi login` for your state backend, then run the deploy again. `npm run plan` and `npm run validate` work without it.',
    );
    this.name = 'PulumiCliMissingError';
  }
}

/** Returns the CLI version, or throws PulumiCliMissingError. */
export function requirePulumiCli(command = 'pulumi'): string {
  const r = spawnSync(command, ['version'], { encoding: 'utf8' });
  if (r.error) throw new PulumiCliMissingError((r.error as NodeJS.ErrnoException).code ?? r.error.message);
  if (r.status !== 0) throw new PulumiCliMissingError(`\`${command} version\` exited with ${r.status}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** Options of {@link AutomationWorkspace}. */
export interface AutomationWorkspaceOptions {
  /** Folder holding Pulumi.yaml. @defaultValue process.cwd() */
  readonly workDir?: string;
  /** Streams engine output (one call per chunk). @defaultValue none */
  readonly onOutput?: (stack: string, text: string) => void;
  /** Policy pack folders run with every preview/up, e.g. ["infra/policy"]. @defaultValue [] */
  readonly policyPacks?: readonly string[];
  /** JSON files of policy pack config, matching policyPacks. @defaultValue [] */
  readonly policyPackConfigs?: readonly string[];
}

class AutomationStack implements DeployStack {
  constructor(
    private readonly stack: Stack,
    private readonly opts: AutomationWorkspaceOptions,
  ) {}

  get name(): string {
    return this.stack.name;
  }

  private common() {
    return {
      onOutput: this.opts.onOutput ? (out: string) => this.opts.onOutput!(this.stack.name, out) : undefined,
      policyPacks: this.opts.policyPacks?.length ? [...this.opts.policyPacks] : undefined,
      policyPackConfigs: this.opts.policyPackConfigs?.length ? [...this.opts.policyPackConfigs] : undefined,
    };
  }

  async preview() {
    const r = await this.stack.preview(this.common());
    return { changes: { ...r.changeSummary } as Record<string, number> };
  }

  async up() {
    const r = await this.stack.up(this.common());
    return { changes: { ...(r.summary.resourceChanges ?? {}) } as Record<string, number>, outputs: r.outputs as StackOutputs };
  }

  async outputs() {
    return (await this.stack.outputs()) as StackOutputs;
  }

  async configStatus(): Promise<ConfigStatus> {
    // `pulumi config --json` (the Automation API shows secrets): keep only whether each key is secret, and
    // plain values; secret values are dropped here and never logged.
    const all = await this.stack.getAllConfig();
    return Object.fromEntries(
      Object.entries(all).map(([k, v]) => [k, v.secret ? { secret: true, ...(v.value === '' ? { value: '' } : {}) } : { secret: false, value: v.value }]),
    );
  }
}

/** Automation API workspace; checks for the CLI when created. */
export class AutomationWorkspace implements DeployWorkspace {
  constructor(private readonly opts: AutomationWorkspaceOptions = {}) {
    requirePulumiCli();
  }

  async selectStack(name: string, opts: { create?: boolean } = {}): Promise<DeployStack> {
    const args = { stackName: name, workDir: this.opts.workDir ?? process.cwd() };
    try {
      // createOrSelectStack: `pulumi stack select`, else `pulumi stack init` (a fresh backend needs no manual step).
      const stack = opts.create ? await LocalWorkspace.createOrSelectStack(args) : await LocalWorkspace.selectStack(args);
      return new AutomationStack(stack, this.opts);
    } catch (err) {
      if (!opts.create && (err instanceof StackNotFoundError || /no stack named|not found/i.test((err as Error).message))) throw new StackMissingError(name);
      throw err;
    }
  }
}
