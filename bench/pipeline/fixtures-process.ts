/**
 * The upstream fixtures of rows 2 and 3 in a process of their own, so the direct call and the gateway
 * path both go from the bench process to other processes (and the fixtures do not share the bench
 * client's event loop). Started by bench/pipeline/fixtures.ts as `node --import tsx bench/pipeline/fixtures-process.ts`:
 * starts startModernUpstream and startLegacyUpstream (test/service/federation/support/upstream-fixtures.ts),
 * prints `{"modern":"<url>","legacy":"<url>"}` as one line on stdout, and closes both and exits on
 * SIGTERM, SIGINT or the end of stdin (the parent died).
 */
import { startLegacyUpstream, startModernUpstream, type UpstreamFixture } from '../../test/service/federation/support/upstream-fixtures.js';

const fixtures: UpstreamFixture[] = [];
let closing = false;

async function shutdown(code: number): Promise<void> {
  if (closing) return;
  closing = true;
  // close() waits for open connections; do not let it hold the process.
  setTimeout(() => process.exit(code), 2_000).unref();
  await Promise.all(fixtures.map((f) => f.close().catch(() => undefined)));
  process.exit(code);
}

process.once('SIGTERM', () => void shutdown(0));
process.once('SIGINT', () => void shutdown(0));
process.stdin.on('end', () => void shutdown(0));
process.stdin.on('error', () => void shutdown(0));
process.stdin.resume();

try {
  const label = process.argv[2] ?? 'bench';
  const [modern, legacy] = await Promise.all([startModernUpstream(label), startLegacyUpstream(label)]);
  fixtures.push(modern, legacy);
  process.stdout.write(`${JSON.stringify({ modern: modern.url, legacy: legacy.url })}\n`);
} catch (err) {
  process.stderr.write(`fixtures failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  await shutdown(1);
}
