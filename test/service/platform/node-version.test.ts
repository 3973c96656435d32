/**
 * The supported runtime (issue 18): Node 22.19 or later. `npm start` and `npm test` on an older Node stop
 * at once with one line saying what to do, before loading anything that needs a newer Node.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIN_NODE, unsupportedNode } from '../../../service/src/local/node-version.js';

const TSX_CLI = join(process.cwd(), 'node_modules/tsx/dist/cli.mjs');
/** The machine's own Node (20 on this project's machines), when it is older than the supported one. */
const OLD_NODE = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => existsSync(p));

function run(node: string, script: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(node, [TSX_CLI, script], { env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME }, timeout: 60_000 }, (err, _stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

describe('supported Node version', function () {
  this.timeout(60_000);

  it('accepts 22.19 and later, refuses older with one line naming the version', () => {
    for (const v of ['22.19.0', 'v22.23.3', '23.0.0', '24.1.0']) assert.equal(unsupportedNode(v), undefined, v);
    for (const v of ['20.20.2', 'v22.18.1', '18.0.0'])
      assert.match(unsupportedNode(v)!, new RegExp(`^Node 22\\.19 or later is required \\(this is Node ${v.replace(/^v/, '').replace(/\./g, '\\.')}, at `));
  });

  it('says it once: package.json engines match', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } };
    assert.equal(pkg.engines.node, `>=${MIN_NODE.join('.')}`);
  });

  for (const entry of ['service/src/local/main.ts', 'test/run.ts']) {
    it(`${entry} on an older Node exits 1 with that line and nothing else`, async function () {
      const version = OLD_NODE && (await new Promise<string>((r) => execFile(OLD_NODE, ['-p', 'process.versions.node'], (_e, out) => r(out.trim()))));
      if (!OLD_NODE || !version || !unsupportedNode(version)) this.skip(); // no older Node on this machine
      const { code, stderr } = await run(OLD_NODE!, entry);
      assert.equal(code, 1, stderr);
      assert.deepEqual(stderr.trim().split('\n'), [unsupportedNode(version)!.replace(process.execPath, OLD_NODE!)]);
    });
  }
});
