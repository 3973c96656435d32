import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

describe('validate: stalled program detection', function () {
  this.timeout(30_000);
  it('turns a never-settling run into an error instead of a silent exit', () => {
    const script = join(mkdtempSync(join(tmpdir(), 'umcp-stall-')), 'stall.mts');
    const module = resolve('infra/tools/validate/stall.ts');
    writeFileSync(
      script,
      `import { whenStalled } from ${JSON.stringify(module)};
const stall = whenStalled('demo');
try { await Promise.race([new Promise(() => {}), stall.promise]); console.log('resolved?'); }
catch (err) { console.log('caught: ' + (err as Error).message); }
finally { stall.dispose(); }
`,
    );
    const run = spawnSync(join('node_modules', '.bin', 'tsx'), [script], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /caught: the program of stack "demo" never finished under mocks/);
  });
});
