/**
 * `npx tsx bench/tracing/off-path.ts [--calls N]`: what tracing costs the tool-call pipeline when it is off
 * (docs/tracing.md, "Overhead"). The assembled pipeline (`assemblePipeline`, which chooses its plain or its
 * spanned chain per call) against a chain composed as it was before tracing, both over seven no-op stages
 * and a no-op target, in one process, alternating rounds; prints nanoseconds per call of each.
 */
import { assemblePipeline, type Next, type Stage, type TargetedCall } from '../../service/src/mcp/pipeline/pipeline.js';
import type { ToolCall, ToolTarget } from '../../service/src/domain/tool-call.js';
import { tracingEnabled } from '../../service/src/log/tracing.js';

const i = process.argv.indexOf('--calls');
const CALLS = i > 0 ? Number(process.argv[i + 1]) : 1_000_000;
if (tracingEnabled()) throw new Error('tracing must be off');

const target: ToolTarget = { kind: 'builtin', authorize: () => undefined, invoke: async () => ({ content: [] }) };
const stages: Stage[] = ['authorize', 'task or direct', 'validate arguments', 'audit', 'large-result offload', 'a', 'b'].map((name) => ({
  name,
  run: (call, next) => next(call),
}));
const hooked = assemblePipeline(async () => target, stages);
// The chain as assemblePipeline composed it before tracing.
const bareChain = stages.reduceRight<Next>(
  (next, stage) => (call) => stage.run(call, next),
  (call) => call.target.invoke(call),
);
const bare = { run: async (call: ToolCall, scope: TargetedCall['scope']) => bareChain({ ...call, scope, target: await (async () => target)() }) };
const call = { principal: {}, era: 'modern', params: { name: 'x' }, ctx: {} } as unknown as ToolCall;
const scope = {} as TargetedCall['scope'];

async function time(p: { run: (c: ToolCall, s: TargetedCall['scope']) => Promise<unknown> }): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let n = 0; n < CALLS; n++) await p.run(call, scope);
  return Number(process.hrtime.bigint() - t0) / CALLS;
}

const results = { bare: [] as number[], hooked: [] as number[] };
for (let round = 0; round < 6; round++) {
  results.bare.push(await time(bare));
  results.hooked.push(await time(hooked));
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
process.stdout.write(
  `pipeline of 7 no-op stages, tracing off, ${CALLS} calls x 6 rounds: bare ${med(results.bare).toFixed(0)} ns/call, assemblePipeline ${med(results.hooked).toFixed(0)} ns/call\n`,
);
