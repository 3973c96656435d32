/**
 * `npm run build`: compiles the service and contract/ to dist/ (tsconfig.build.json) and copies the files
 * the service reads at run time next to the compiled modules, keeping their paths (SQL migrations read by
 * store/pg/migrate.ts, the status page's static files read by http/status/assets.ts: every non-TypeScript
 * file under service/src). The images and `npm run gateway` / `npm run worker` run dist/; tsx is for
 * development and tests only. Plain JavaScript so it runs before anything is compiled.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist');

// A clean output: a module deleted from the sources must not linger in dist/.
rmSync(out, { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
});
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

let copied = 0;
function copyAssets(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) copyAssets(p);
    else if (!e.name.endsWith('.ts')) {
      cpSync(p, join(out, relative(root, p)));
      copied++;
    }
  }
}
copyAssets(join(root, 'service', 'src'));
process.stdout.write(`built dist/ (${copied} assets copied)\n`);
