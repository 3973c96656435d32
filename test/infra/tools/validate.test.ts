import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_RULES } from '../../../infra/policy/rules/index.js';

describe('npm run validate (CLI)', function () {
  this.timeout(90_000);
  it('checks each stack file, names every problem, writes the summary and fails on a bad stack', () => {
    const dir = mkdtempSync(join(tmpdir(), 'umcp-validate-'));
    // Only the global stack runs its program here (the fastest); the regional ones are covered by plan tests.
    copyFileSync(join('stacks', 'Pulumi.prod-global.yaml'), join(dir, 'Pulumi.prod-global.yaml'));
    writeFileSync(
      join(dir, 'Pulumi.broken.yaml'),
      'config:\n  unified-mcp:role: regional\n  unified-mcp:environment: qa\n  unified-mcp:adminApiKey: plain-text-key\n',
    );
    const summary = join(dir, 'summary.json');
    const run = spawnSync(join('node_modules', '.bin', 'tsx'), ['infra/tools/validate.ts', '--skip-typecheck', '--stacks', dir], {
      encoding: 'utf8',
      env: { ...process.env, TEST_SUMMARY_FILE: summary },
    });
    assert.equal(run.status, 1, run.stdout + run.stderr);
    const out = run.stdout;
    assert.match(out, /FAIL  broken: config/);
    assert.match(out, /unified-mcp:environment: /);
    assert.match(out, /unified-mcp:adminApiKey: a secret in plain text/);
    assert.match(out, /skip  broken: policies \(config is invalid\)/);
    assert.match(out, /ok    prod-global: config/);
    for (const rule of ALL_RULES) assert.match(out, new RegExp(`prod-global: ${rule.name} \\[${rule.level}\\]`));
    const counts = JSON.parse(readFileSync(summary, 'utf8')) as { passed: number; failed: number; skipped: number };
    assert.equal(counts.skipped, ALL_RULES.length);
    assert.equal(counts.passed + counts.failed + counts.skipped, 2 + 2 * ALL_RULES.length); // 2 configs + (stack, policy) pairs
    assert.ok(counts.failed >= 1);
  });
});
