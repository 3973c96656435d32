/**
 * Gateway-side CPU cost of tools/call, and its CPU profile. Two child processes: a gateway (as
 * bench/federation.ts starts one) and, as the baseline, the 2026-07-28 upstream fixture alone (the SDK's
 * createMcpHandler serving `echo`, no gateway). The client and the upstream fixtures the gateway federates
 * run here, so each child's CPU time is its own work only. Calls alternate between the two children, so
 * both see the same machine load (this 2-core machine is shared and busy): the ratio is what to compare.
 * Prints per call: the gateway's CPU, the baseline's CPU and their ratio. With PROFILE=1 the gateway
 * profiles itself (V8 profiler via node:inspector, after the warm-up) into `<PROF_DIR>/<scenario>.cpuprofile`
 * (default /tmp/prof); summarise it with bench/profile/summary.ts. The profiler inflates the CPU figures.
 *
 * `npx tsx bench/profile/run.ts <scenario> [calls] [rounds]`; scenario: modern | legacy | builtin-modern |
 * builtin-legacy (modern/legacy: `<ns>__echo` of a 2026-07-28 / 2025-era upstream, client of the same
 * generation; builtin-*: `diagnostics.echo`). `rounds` repeats the measurement and prints the median.
 * GATEWAY_ENV='{"RATE_LIMIT_PER_MINUTE":"100000"}' passes config to the gateway; STRACE=<file> counts its
 * syscalls during the (last round's) measured calls.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startLegacyUpstream, startModernUpstream } from '../../test/service/federation/support/upstream-fixtures.js';

const scenario = process.argv[2] ?? 'modern';
const N = Number(process.argv[3] ?? 2000);
const ROUNDS = Number(process.argv[4] ?? 1);
const profDir = process.env['PROF_DIR'] ?? '/tmp/prof';
const profile = process.env['PROFILE'] === '1';

interface Child {
  readonly proc: ChildProcessByStdio<Writable, Readable, null>;
  readonly mcpUrl: string;
  readonly apiKey: string;
  command(line: string): Promise<void>;
  /** User + system CPU ms so far (clock ticks of 10 ms on Linux). */
  cpu(): number;
  stop(): Promise<void>;
}

async function startChild(env: Record<string, string>): Promise<Child> {
  const proc = spawn(
    process.execPath,
    [
      ...(process.env['CHILD_IMPORT'] ? ['--import', process.env['CHILD_IMPORT']] : []),
      '--import',
      'tsx',
      new URL('./gateway-process.ts', import.meta.url).pathname,
    ],
    {
      env: { ...process.env, NODE_OPTIONS: '', ...env },
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const out = createInterface({ input: proc.stdout });
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      out.once('line', resolve);
      proc.once('exit', (code) => reject(new Error(`child exited ${code}`)));
    });
  const { mcpUrl, apiKey } = JSON.parse(await nextLine()) as { mcpUrl: string; apiKey: string };
  return {
    proc,
    mcpUrl,
    apiKey,
    async command(line) {
      const answer = nextLine();
      proc.stdin.write(`${line}\n`);
      await answer;
    },
    cpu() {
      const f = readFileSync(`/proc/${proc.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(f[11]) + Number(f[12])) * 10;
    },
    async stop() {
      proc.stdin.end();
      await new Promise((r) => proc.once('exit', r));
    },
  };
}

async function connect(url: string, apiKey: string, era: 'modern' | 'legacy'): Promise<Client> {
  const client = new Client({ name: 'profile', version: '1' }, { versionNegotiation: { mode: era === 'modern' ? { pin: '2026-07-28' } : 'legacy' } });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {} } }));
  return client;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

const [modern, legacy] = await Promise.all([startModernUpstream('bench'), startLegacyUpstream('bench')]);
const [gateway, baseline] = await Promise.all([
  startChild({
    UPSTREAMS: JSON.stringify([
      ['m', modern.url],
      ['l', legacy.url],
    ]),
    GATEWAY_ENV: process.env['GATEWAY_ENV'] ?? '{}',
  }),
  startChild({ SERVE: 'fixture' }),
]);
const era = scenario.endsWith('legacy') ? 'legacy' : 'modern';
const tool = scenario.startsWith('builtin') ? 'diagnostics.echo' : `${era === 'modern' ? 'm' : 'l'}__echo`;
const viaGateway = await connect(gateway.mcpUrl, gateway.apiKey, era);
const toBaseline = await connect(baseline.mcpUrl, '', 'modern');
const callGateway = () => viaGateway.callTool({ name: tool, arguments: { text: 'x' } });
const callBaseline = () => toBaseline.callTool({ name: 'echo', arguments: { text: 'x' } });
for (let i = 0; i < 300; i++) await Promise.all([callGateway(), callBaseline()]);
mkdirSync(profDir, { recursive: true });

const rows: { gw: number; base: number; p50: number }[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const last = round === ROUNDS - 1;
  if (profile && last) await gateway.command('start');
  const strace =
    last && process.env['STRACE'] ? spawn('strace', ['-c', '-f', '-p', String(gateway.proc.pid), '-o', process.env['STRACE']], { stdio: 'ignore' }) : undefined;
  if (strace) await new Promise((r) => setTimeout(r, 1000));
  const [g0, b0] = [gateway.cpu(), baseline.cpu()];
  const times: number[] = [];
  for (let i = 0; i < N; i++) {
    const s = process.hrtime.bigint();
    await callGateway();
    times.push(Number(process.hrtime.bigint() - s) / 1e6);
    await callBaseline();
  }
  const row = { gw: (gateway.cpu() - g0) / N, base: (baseline.cpu() - b0) / N, p50: median(times) };
  rows.push(row);
  if (strace) {
    strace.kill('SIGINT');
    await new Promise((r) => strace.once('exit', r));
  }
  if (profile && last) await gateway.command(`stop ${profDir}/${scenario}.cpuprofile`);
  console.log(
    `  round ${round + 1}: gateway ${row.gw.toFixed(2)} ms CPU/call, baseline ${row.base.toFixed(2)}, ratio ${(row.gw / row.base).toFixed(2)}, gateway p50 ${row.p50.toFixed(2)} ms`,
  );
}
const m = {
  gw: median(rows.map((r) => r.gw)),
  base: median(rows.map((r) => r.base)),
  ratio: median(rows.map((r) => r.gw / r.base)),
  p50: median(rows.map((r) => r.p50)),
};
console.log(
  `${scenario} via ${tool}: ${N} sequential calls x ${ROUNDS} rounds (medians): gateway ${m.gw.toFixed(2)} ms CPU/call, ` +
    `baseline SDK server ${m.base.toFixed(2)} ms, ratio ${m.ratio.toFixed(2)}, gateway p50 ${m.p50.toFixed(2)} ms${profile ? ' (profiler on)' : ''}`,
);
await Promise.all([viaGateway.close(), toBaseline.close()]);
await Promise.all([gateway.stop(), baseline.stop()]);
await Promise.all([modern.close(), legacy.close()]);
process.exit(0);
