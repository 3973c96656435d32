/**
 * Prints the configuration table of docs/service.md from the schema (`npx tsx service/src/cli/config-docs.ts`),
 * so the documented keys, defaults and meanings never drift from what loadConfig accepts.
 */
import { describeConfig } from '../config.js';

const cell = (s: string) => s.replace(/\|/g, '\\|');
process.stdout.write('| Key | Default | Meaning |\n|---|---|---|\n');
for (const k of describeConfig()) {
  process.stdout.write(`| \`${k.key}\` | ${k.defaultValue === undefined ? '—' : `\`${cell(k.defaultValue)}\``} | ${cell(k.description)} |\n`);
}
