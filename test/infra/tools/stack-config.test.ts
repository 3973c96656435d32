import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listStacks, stackConfigProblems } from '../../../infra/tools/validate/stack-config.js';
import { readStackConfig } from '../../../infra/tools/mock-run.js';
import { planStack } from '../../../infra/tools/plan/plan-stack.js';
import { renderPlan } from '../../../infra/tools/plan.js';

describe('validate: stack config', () => {
  it('lists the stack files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'umcp-stacks-'));
    for (const f of ['Pulumi.dev.yaml', 'Pulumi.prod-global.yaml', 'README.md']) writeFileSync(join(dir, f), 'config: {}\n');
    assert.deepEqual(listStacks(dir), ['dev', 'prod-global']);
  });
  it('accepts every committed stack file', () => {
    for (const stack of listStacks('stacks')) {
      assert.deepEqual(stackConfigProblems(stack, readStackConfig(stack)), [], stack);
    }
  });
  it('names a bad key, a missing role and a plain-text secret', () => {
    const dev = readStackConfig('dev');
    const bad = stackConfigProblems('dev', { ...dev, 'unified-mcp:environment': 'qa', 'unified-mcp:dbPassword': 'hunter2hunter2' });
    assert.ok(
      bad.some((p) => p.startsWith('unified-mcp:environment:')),
      bad.join('\n'),
    );
    assert.ok(
      bad.some((p) => /unified-mcp:dbPassword: a secret in plain text.*--secret/.test(p)),
      bad.join('\n'),
    );
    assert.match(stackConfigProblems('x', {})[0]!, /unified-mcp:role: expected "regional" or "global", found undefined/);
  });
});

describe('plan of a real stack (dev, under mocks)', function () {
  this.timeout(60_000);
  it('reports inventory, diagram, cost, hints and policy results a newcomer can read', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'umcp-plan-'));
    const progress: string[] = [];
    const plan = await planStack('dev', { outDir, progress: (l) => progress.push(l) });
    assert.ok(progress.some((l) => l.startsWith('[1/5]')) && progress.some((l) => l.startsWith('[5/5]')));
    assert.ok(plan.resourceCount > 0 && plan.inventory.length > 0);
    assert.ok(existsSync(plan.diagramPath));
    assert.equal(plan.environment, 'dev');
    assert.ok(plan.cost && plan.cost.lines.some((l) => l.item.startsWith('NAT gateway')), 'dev creates a NAT gateway');
    const text = renderPlan(plan);
    for (const heading of ['What this stack would create', 'Diagram of the component tree', 'Estimated monthly cost', 'Rightsizing hints', 'Policy check']) {
      assert.ok(text.includes(heading), heading);
    }
    assert.match(text, /TOTAL/);
    for (const [k, v] of Object.entries(plan.outputs)) assert.ok(!/mock-.*-0123456789/.test(JSON.stringify(v)), `output ${k} leaks a secret`);
  });
});
