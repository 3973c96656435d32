/**
 * The well-behaved client of the flood suite, in its own process so the floods' load generators never
 * delay its timings: steady modern echo calls (CALM_RATE per second over 2 keep-alive connections) to
 * MCP_URL with CALM_KEY, one stdout line per call (`ok <epoch ms> <latency ms>` or `fail <epoch ms> <what>`)
 * until stdin ends.
 */
import { steadyTraffic } from './http-load.js';

const stop = new AbortController();
process.stdin.on('end', () => stop.abort());
process.stdin.resume();
await steadyTraffic(process.env.MCP_URL!, process.env.CALM_KEY!, {
  rate: Number(process.env.CALM_RATE ?? 10),
  concurrency: 2,
  signal: stop.signal,
  onSample: (ms) => process.stdout.write(`ok ${Date.now()} ${ms.toFixed(2)}\n`),
  onFailure: (what) => process.stdout.write(`fail ${Date.now()} ${what.replace(/\s+/g, ' ')}\n`),
});
process.exit(0);
