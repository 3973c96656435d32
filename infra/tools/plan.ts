/**
 * `npm run plan -- --stack <name> [--json] [--out <dir>]`: what a stack would create, offline.
 *
 * Runs the Pulumi program under mocks (no CLI, no cloud, no credentials), then prints the inventory
 * grouped by component, writes an HTML diagram of the component tree, prints a monthly cost estimate
 * from the committed price table with rightsizing hints, and a policy summary. Progress goes to stderr,
 * the report to stdout (`--json` for machines). Leaves out: diffs against deployed state (use
 * `pulumi preview` for that).
 */
import { parseArgs } from 'node:util';
import { planStack, type StackPlan } from './plan/plan-stack.js';
import { money, props, table } from './plan/format.js';
import { listStacks } from './validate/stack-config.js';
import { exitWhenFlushed } from './exit.js';

function usage(): string {
  return 'usage: npm run plan -- --stack <name> [--json] [--out <dir>]\n  e.g. npm run plan -- --stack dev';
}

/** The human-readable report. */
export function renderPlan(p: StackPlan): string {
  const out: string[] = [];
  out.push(`Plan of stack "${p.stack}" (${p.role}, environment ${p.environment}${p.region ? `, region ${p.region}` : ''}).`);
  out.push('Computed offline under mocks: nothing was created or changed, and ids/ARNs shown are placeholders.', '');
  out.push(`== 1. What this stack would create: ${p.resourceCount} resources in ${p.componentCount} components ==`);
  for (const g of p.inventory) {
    out.push('', `${g.component}  [${g.componentType}]  ${g.items.length} resources`);
    out.push(
      table(
        ['TYPE', 'NAME', 'KEY PROPERTIES'],
        g.items.map((i) => [i.type, i.name, props(i.props)]),
      ).replace(/^/gm, '  '),
    );
  }
  out.push('', '== 2. Diagram of the component tree ==', `${p.diagramPath}  (open it in a browser)`, '');
  out.push('== 3. Estimated monthly cost (USD) ==');
  if (!p.cost) {
    out.push(`Not estimated: ${p.costSkippedReason}.`);
  } else {
    const c = p.cost;
    const rows = c.lines.map((l) => [l.component, l.item, l.quantity, money(l.onDemand), money(l.spot), money(l.committed), money(l.asConfigured)]);
    rows.push(['TOTAL', '', '', money(c.totals.onDemand), money(c.totals.spot), money(c.totals.committed), money(c.totals.asConfigured)]);
    out.push(table(['COMPONENT', 'ITEM', 'QUANTITY', 'ON-DEMAND', 'SPOT', 'COMMITTED', 'AS CONFIGURED'], rows, [3, 4, 5, 6]));
    out.push('', 'Columns: ON-DEMAND = everything at on-demand list price; SPOT = EC2 nodes on spot (items without a spot market stay on-demand);');
    out.push('COMMITTED = EC2 under a 1-year Savings Plan, Aurora/ElastiCache on 1-year reserved nodes; AS CONFIGURED = what this stack would pay');
    out.push('as written (spot node groups at spot, everything else on-demand).');
    out.push(...c.assumptions.map((a) => `Assumption: ${a}`));
    out.push(`Prices: table compiled ${c.priceTable.compiledOn}. ${c.priceTable.pricesAsOf}`, `Price source: ${c.priceTable.source}`);
    if (c.unpriced.length) {
      out.push('Not priced:', ...c.unpriced.map((u) => `  ${u.type} "${u.name}": ${u.reason}`));
    }
  }
  out.push('', '== 4. Rightsizing hints ==');
  out.push(...(p.hints.length ? p.hints.map((h) => `- ${h}`) : ['- none']));
  const mandatory = p.violations.filter((v) => v.level === 'mandatory');
  out.push('', `== 5. Policy check: ${mandatory.length} mandatory, ${p.violations.length - mandatory.length} advisory violation(s) ==`);
  const byPolicy = new Map<string, typeof p.violations>();
  for (const v of p.violations) byPolicy.set(v.policy, [...(byPolicy.get(v.policy) ?? []), v]);
  for (const [policy, vs] of byPolicy) {
    out.push(`- [${vs[0]!.level}] ${policy}: ${vs.length} violation(s)`, ...vs.slice(0, 3).map((v) => `    ${v.message}`));
    if (vs.length > 3) out.push(`    ...and ${vs.length - 3} more (\`npm run validate\` lists every one)`);
  }
  return out.join('\n');
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({ options: { stack: { type: 'string' }, json: { type: 'boolean' }, out: { type: 'string' }, help: { type: 'boolean' } } });
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage()}`);
    return 2;
  }
  if (args.values.help) {
    console.log(usage());
    return 0;
  }
  const stack = args.values.stack;
  const known = listStacks('stacks');
  if (!stack) {
    console.error(`missing --stack (stacks: ${known.join(', ')})\n${usage()}`);
    return 2;
  }
  if (!known.includes(stack)) {
    console.error(`no stack file stacks/Pulumi.${stack}.yaml; stacks: ${known.join(', ')}`);
    return 2;
  }
  const plan = await planStack(stack, { outDir: args.values.out, progress: (l) => console.error(l) });
  console.log(args.values.json ? JSON.stringify(plan, null, 2) : renderPlan(plan));
  return 0;
}

if (process.argv[1]?.endsWith('plan.ts')) {
  main().then(exitWhenFlushed, (err: Error) => {
    console.error(`plan failed: ${err.message}`);
    exitWhenFlushed(1);
  });
}
