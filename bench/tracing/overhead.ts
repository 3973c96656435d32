/**
 * `npx tsx bench/tracing/overhead.ts [--calls N] [--rounds R]`: what tracing costs a tools/call
 * (docs/tracing.md, "Overhead"). One in-process gateway (test PostgreSQL and Redis), a built-in
 * `diagnostics.echo` and a federated 2026-07-28 upstream tool (pass-through), called sequentially over
 * keep-alive HTTP; the same gateway measured with tracing off and on (every span sampled and exported to a
 * loopback OTLP receiver, http/protobuf), alternating rounds so drift on a shared machine hits both alike.
 * Prints the median per-call latency of each mode and the ratio on/off. A quick figure, not `npm run bench`.
 */
import { startTracing } from '../../service/src/log/tracing-sdk.js';
import { TracingConfigSchema } from '../../service/src/log/tracing-config.js';
import { startOtlpReceiver } from '../../test/support/otlp-receiver.js';
import { startCluster } from '../../test/service/federation/support/gateway.js';
import { startModernUpstream } from '../../test/service/federation/support/upstream-fixtures.js';
import { assertEcho, toolCallBody, toolCallHeaders } from '../cluster/targets.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const CALLS = arg('calls', 400);
const ROUNDS = arg('rounds', 4);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const receiver = await startOtlpReceiver();
  const [cluster, upstream] = await Promise.all([startCluster(1), startModernUpstream('bench')]);
  try {
    const { apiKey } = await cluster.tenant('bench', ['diagnostics']);
    const r = await cluster.admin('POST', '/tenants/bench/upstreams', { name: 'up', url: upstream.url });
    if (r.status !== 201) throw new Error(JSON.stringify(r.body));
    const url = cluster.gateways[0]!.mcpUrl;
    const call = async (tool: string) => {
      const res = await fetch(url, { method: 'POST', headers: toolCallHeaders(tool, apiKey), body: toolCallBody(tool) });
      assertEcho(await res.text(), tool === 'up__echo' ? 'bench:hello bench' : 'hello bench');
    };
    const measure = async (tool: string) => {
      for (let i = 0; i < 50; i++) await call(tool);
      const times: number[] = [];
      for (let i = 0; i < CALLS; i++) {
        const t0 = performance.now();
        await call(tool);
        times.push(performance.now() - t0);
      }
      return median(times);
    };
    const results: Record<string, { off: number[]; on: number[] }> = { 'diagnostics.echo': { off: [], on: [] }, up__echo: { off: [], on: [] } };
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of round % 2 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
        const tracing =
          mode === 'on'
            ? await startTracing(TracingConfigSchema.parse({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '1000' }), {
                defaultServiceName: 'bench',
              })
            : undefined;
        for (const tool of Object.keys(results)) results[tool]![mode].push(await measure(tool));
        await tracing?.shutdown();
      }
    }
    process.stdout.write(`| tools/call (sequential, ${CALLS} calls x ${ROUNDS} rounds) | off: median ms | on: median ms | on / off |\n|---|---|---|---|\n`);
    for (const [tool, { off, on }] of Object.entries(results)) {
      const a = median(off);
      const b = median(on);
      process.stdout.write(`| \`${tool}\` | ${a.toFixed(3)} | ${b.toFixed(3)} | ${(b / a).toFixed(2)}x |\n`);
    }
    process.stdout.write(`spans received with tracing on: ${receiver.spans.length}\n`);
  } finally {
    await cluster.stop();
    await upstream.close();
    await receiver.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
