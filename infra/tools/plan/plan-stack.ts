/**
 * Builds the plan of one stack (offline, under mocks): inventory, diagram, cost estimate, hints and a
 * policy summary. The CLI (infra/tools/plan.ts) prints it; tests call it directly.
 */
import { join } from 'node:path';
import { readStackConfig, runStackUnderMocks, type MockRunOptions } from '../mock-run.js';
import { loadPriceTable, type PriceTable } from '../../pricing/index.js';
import { evaluateRules, type Violation } from '../../policy/run.js';
import { indexStack } from './tree.js';
import { inventory, type InventoryGroup } from './inventory.js';
import { writeDiagram } from './diagram.js';
import { estimateCost, type CostEstimate, type UsageAssumptions, DEFAULT_USAGE } from './cost.js';
import { rightsizingHints } from './hints.js';
import { targetsOf } from './targets.js';

/** Everything `npm run plan` reports for one stack. */
export interface StackPlan {
  readonly stack: string;
  readonly role: string;
  readonly environment: string;
  readonly region?: string;
  readonly resourceCount: number;
  readonly componentCount: number;
  readonly inventory: InventoryGroup[];
  readonly diagramPath: string;
  /** Undefined for stacks without AWS resources to price (the global Cloudflare stack). */
  readonly cost?: CostEstimate;
  readonly costSkippedReason?: string;
  readonly hints: string[];
  readonly violations: Violation[];
  /** Stack outputs under mocks; secret ones replaced by "[secret]". */
  readonly outputs: Record<string, unknown>;
}

/** Options of {@link planStack}. */
export interface PlanOptions {
  /** Folder the diagram goes to. @defaultValue "plan-output" */
  readonly outDir?: string;
  /** Progress callback (one line per step). @defaultValue no-op */
  readonly progress?: (line: string) => void;
  /** Price table. @defaultValue the newest infra/pricing/prices-*.json */
  readonly prices?: PriceTable;
  readonly usage?: UsageAssumptions;
  /** Passed to the mock runner (e.g. a test stacksDir). */
  readonly mock?: MockRunOptions;
}

/** Plans `stack`; throws the program's error (e.g. invalid config) when the stack does not run. */
export async function planStack(stack: string, opts: PlanOptions = {}): Promise<StackPlan> {
  const progress = opts.progress ?? (() => undefined);
  const config = readStackConfig(stack, opts.mock?.stacksDir);
  const role = String(config['unified-mcp:role'] ?? 'regional');
  const environment = String(config['unified-mcp:environment'] ?? 'unknown');
  const regionValue = config['unified-mcp:region'] ?? config['aws:region'];
  const region = typeof regionValue === 'string' ? regionValue : undefined;

  progress(`[1/5] running the ${role} program of stack "${stack}" under mocks (nothing is created)...`);
  const started = Date.now();
  const { resources, reads, outputs: rawOutputs, secretOutputs } = await runStackUnderMocks(stack, opts.mock);
  // Secret outputs are never printed, not even their mock values.
  const outputs = Object.fromEntries(Object.entries(rawOutputs).map(([k, v]) => [k, secretOutputs.includes(k) ? '[secret]' : v]));
  const index = indexStack(resources);
  const components = resources.filter((r) => r.custom === false && r.type !== 'pulumi:pulumi:Stack');
  progress(`      ${resources.length} resources in ${components.length} components (${((Date.now() - started) / 1000).toFixed(1)} s)`);

  progress('[2/5] building the inventory');
  const groups = inventory(resources, index);

  progress('[3/5] writing the component diagram');
  const diagramPath = writeDiagram(join(opts.outDir ?? 'plan-output', `${stack}-diagram.html`), stack, index.roots, resources.length);

  progress('[4/5] estimating the monthly cost from the committed price table');
  const prices = opts.prices ?? loadPriceTable();
  let cost: CostEstimate | undefined;
  let costSkippedReason: string | undefined;
  if (!region || !prices.regions[region]) {
    costSkippedReason = region
      ? `the price table has no prices for ${region}`
      : `stack "${stack}" has no AWS region (a ${role} stack); its Cloudflare resources are not in the price table`;
  } else {
    cost = estimateCost(resources, index, region, prices, opts.usage ?? DEFAULT_USAGE);
  }
  const hints = cost ? rightsizingHints(resources, cost, environment, prices) : [];

  progress('[5/5] checking the policy rules');
  // Reads (StackReferences) count for the stack rules, as under the CLI; they are not in the inventory.
  const { violations } = evaluateRules(targetsOf([...resources, ...(reads ?? [])]), {
    environment,
    providerPropsOf: (t) => {
      const r = t.urn ? index.byUrn.get(t.urn) : undefined;
      return r ? index.providerOf(r)?.inputs : undefined;
    },
  });

  return {
    stack,
    role,
    environment,
    region,
    resourceCount: resources.length,
    componentCount: components.length,
    inventory: groups,
    diagramPath,
    cost,
    costSkippedReason,
    hints,
    violations,
    outputs,
  };
}
