/**
 * `npm run bench:cluster`: the cluster bench, loopback only, bounded (each throughput run BENCH_DURATION_S
 * seconds, default 6; latency runs a fixed count). Every figure is compared with a baseline measured in
 * the same run:
 * - throughput and p50/p99 (wrk) of a built-in tools/call through one gateway, through nginx over 1 and
 *   over 3 replicas, a federated call, the fixture upstream called directly, and a raw node:http JSON echo
 *   (the runtime's ceiling);
 * - the gateway vs mcp-hub aggregating the same upstream (Node driver: mcp-hub speaks HTTP+SSE);
 * - the added latency of the gateway hop (sequential calls, gateway -> upstream vs upstream directly);
 * - RSS per replica idle and under load, and RSS growth per 1,000 idle 2025-era sessions.
 * Writes bench/results/cluster-bench.json and SVG plots, prints a Markdown table.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, startLocalCluster } from '../../service/src/local/cluster/local-cluster.js';
import { ensureTool } from '../../service/src/local/cluster/system-tools.js';
import { closedLoop, openHubSession, postOnce, type LatencyStats } from './drivers.js';
import { startMcpHub, startRawEcho } from './helpers.js';
import { renderPlots, markdownTable } from './report.js';
import { sessionGrowth } from './sessions.js';
import { connectInspector, inspectorUrl } from './inspector.js';
import { rssMb, sampleRss } from './rss.js';
import { assertEcho, toolCallBody, toolCallHeaders } from './targets.js';
import { wrkPost, type WrkResult } from './wrk.js';

/** Sum of umcp_http_requests_total on /mcp of one replica (from its /metrics). */
async function mcpRequestCount(baseUrl: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith('umcp_http_requests_total{') && line.includes('route="/mcp"')) sum += Number(line.split(' ').pop());
  return sum;
}

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 6);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const log = (l: string) => process.stderr.write(`${l}\n`);

async function main(): Promise<void> {
  const started = Date.now();
  const wrk = ensureTool('wrk', 'wrk', (l) => log(`bench: ${l}`));
  const dir = mkdtempSync(join(tmpdir(), 'umcp-bench-'));
  // The inspector (loopback, random port) lets the session phase force full GCs in gateway-1.
  const cluster = await startLocalCluster({
    replicas: 3,
    workers: 0,
    singleReplicaListener: true,
    gatewayNodeArgs: ['--inspect=127.0.0.1:0'],
    env: { LOG_LEVEL: 'warn' },
    log: (l) => log(`cluster ${l}`),
  });
  const extra: { stop(): Promise<void> }[] = [];
  try {
    const raw = await startRawEcho(dir);
    extra.push(raw.process);
    let hub: Awaited<ReturnType<typeof startMcpHub>> | undefined;
    let hubNote: string | undefined;
    try {
      hub = await startMcpHub(dir, cluster.fixtureUrl);
      extra.push(hub.process);
      log(`bench: mcp-hub aggregating the fixture at ${hub.baseUrl} (tool ${hub.echoTool})`);
    } catch (err) {
      hubNote = `mcp-hub could not be used: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
      log(`bench: ${hubNote}`);
    }
    const gw1 = cluster.gateways[0]!;
    const gwMcp = `${gw1.url}/mcp`;
    const key = cluster.apiKey;
    // Sanity: every target answers the echo correctly before it is measured.
    assertEcho(await postOnce(gwMcp, toolCallHeaders('diagnostics.echo', key), toolCallBody('diagnostics.echo')));
    assertEcho(await postOnce(gwMcp, toolCallHeaders('fixture__echo', key), toolCallBody('fixture__echo')));
    assertEcho(await postOnce(cluster.fixtureUrl, toolCallHeaders('echo'), toolCallBody('echo')));
    assertEcho(await postOnce(raw.url, {}, toolCallBody('echo')));

    const pids = cluster.gateways.map((g) => g.process.pid!);
    const rssIdle = pids.map(rssMb);
    const throughput: Record<string, WrkResult> = {};
    const runs: [string, string, string, string | undefined][] = [
      ['raw node:http JSON echo', raw.url, 'echo', undefined],
      ['upstream fixture direct', cluster.fixtureUrl, 'echo', undefined],
      ['gateway x1 direct, built-in', gwMcp, 'diagnostics.echo', key],
      ['gateway x1 direct, federated', gwMcp, 'fixture__echo', key],
    ];
    const wrkRun = (name: string, url: string, tool: string, k: string | undefined, durationS = DURATION_S) =>
      wrkPost(wrk.path, dir, name.replace(/[^a-z0-9]+/gi, '-'), url, toolCallHeaders(tool, k), toolCallBody(tool), { connections: CONNECTIONS, durationS });
    // Warm-up (JIT, connection pools, caches) of every gateway path, not measured.
    log('bench: warm-up (2 s per path)');
    for (const url of [gwMcp, cluster.mcpUrl]) for (const tool of ['diagnostics.echo', 'fixture__echo']) await wrkRun('warmup', url, tool, key, 2);
    for (const [name, url, tool, k] of runs) {
      log(`bench: wrk ${CONNECTIONS} connections x ${DURATION_S} s: ${name}`);
      throughput[name] = await wrkRun(name, url, tool, k);
      log(
        `       ${throughput[name]!.rps.toFixed(0)} req/s, p50 ${throughput[name]!.p50Ms} ms, p99 ${throughput[name]!.p99Ms} ms, non-2xx ${throughput[name]!.non2xx}`,
      );
    }
    // 1 vs 3 replicas: alternated twice (1, 3, 1, 3), the better run of each kept, to damp the shared machine's noise.
    let rssLoad: number[] = [];
    let share: number[] = [];
    const scalingRuns: { replicas: 1 | 3; rps: number }[] = [];
    for (const replicas of [1, 3, 1, 3] as const) {
      const name = replicas === 1 ? 'nginx -> 1 replica, built-in' : 'nginx -> 3 replicas, built-in';
      log(`bench: wrk ${CONNECTIONS} connections x ${DURATION_S} s: ${name}`);
      const sampler = replicas === 3 ? sampleRss(pids) : undefined;
      const before = replicas === 3 ? await Promise.all(cluster.gateways.map((g) => mcpRequestCount(g.url))) : [];
      const r = await wrkRun(name, replicas === 1 ? cluster.singleMcpUrl! : cluster.mcpUrl, 'diagnostics.echo', key);
      scalingRuns.push({ replicas, rps: r.rps });
      if (!throughput[name] || r.rps > throughput[name]!.rps) throughput[name] = r;
      if (sampler) {
        const peak = sampler.stop();
        rssLoad = rssLoad.length ? rssLoad.map((v, i) => Math.max(v, peak[i]!)) : peak;
        const after = await Promise.all(cluster.gateways.map((g) => mcpRequestCount(g.url)));
        const served = after.map((a, i) => a - before[i]!);
        const total = served.reduce((x, y) => x + y, 0);
        share = served.map((n) => Math.round((n / Math.max(1, total)) * 1000) / 1000);
        log(`       share of requests per replica: ${share.join(' / ')}`);
      }
      log(`       ${r.rps.toFixed(0)} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, non-2xx ${r.non2xx}`);
    }

    log('bench: gateway vs mcp-hub (Node driver, 16 in flight, 1500 calls each)');
    const vsHub: Record<string, LatencyStats> = {};
    vsHub['upstream fixture direct'] = await closedLoop(1500, 16, () => postOnce(cluster.fixtureUrl, toolCallHeaders('echo'), toolCallBody('echo')));
    vsHub['gateway (federated fixture__echo)'] = await closedLoop(1500, 16, () =>
      postOnce(gwMcp, toolCallHeaders('fixture__echo', key), toolCallBody('fixture__echo')),
    );
    let hubRss: number | undefined;
    if (hub) {
      const s = await openHubSession(hub.baseUrl);
      const tool = hub.echoTool;
      vsHub['mcp-hub (HTTP+SSE)'] = await closedLoop(1500, 16, async () => {
        const r = await s.call(tool, { text: 'hello bench' });
        if (r?.content?.[0]?.text !== 'hello bench') throw new Error(`mcp-hub answered ${JSON.stringify(r).slice(0, 200)}`);
      });
      s.close();
      hubRss = rssMb(hub.process.pid);
    }

    log('bench: hop latency (sequential, 600 calls each)');
    const hop: Record<string, LatencyStats> = {};
    hop['upstream fixture direct'] = await closedLoop(600, 1, () => postOnce(cluster.fixtureUrl, toolCallHeaders('echo'), toolCallBody('echo')));
    const upstreamRequests = async () =>
      ((await (await fetch(cluster.fixtureUrl.replace(/\/mcp$/, '/stats'))).json()) as { httpRequests: number }).httpRequests;
    const requestsBefore = await upstreamRequests();
    hop['gateway -> upstream (federated)'] = await closedLoop(
      600,
      1,
      () => postOnce(gwMcp, toolCallHeaders('fixture__echo', key), toolCallBody('fixture__echo')),
      0,
    );
    const upstreamRequestsPerCall = Math.round((((await upstreamRequests()) - requestsBefore) / 600) * 100) / 100;
    log(`       upstream HTTP requests per federated call: ${upstreamRequestsPerCall}`);
    hop['gateway built-in echo'] = await closedLoop(600, 1, () => postOnce(gwMcp, toolCallHeaders('diagnostics.echo', key), toolCallBody('diagnostics.echo')));
    hop['nginx -> gateway -> upstream'] = await closedLoop(600, 1, () =>
      postOnce(cluster.mcpUrl, toolCallHeaders('fixture__echo', key), toolCallBody('fixture__echo')),
    );
    hop['raw node:http JSON echo'] = await closedLoop(600, 1, () => postOnce(raw.url, {}, toolCallBody('echo')));

    log('bench: RSS growth per 1,000 idle 2025-era sessions (gateway-1, 3 rounds)');
    const wsUrl = inspectorUrl(readFileSync(gw1.process.spec.logFile, 'utf8'));
    if (!wsUrl) throw new Error('gateway-1 printed no inspector URL');
    const inspector = await connectInspector(wsUrl);
    const sessions = await sessionGrowth(gwMcp, key, inspector, cluster.redis.url).finally(() => inspector.close());

    const t1 = throughput['nginx -> 1 replica, built-in']!.rps;
    const t3 = throughput['nginx -> 3 replicas, built-in']!.rps;
    const cores = cpus().length;
    const scaling = t3 / t1;
    const addedP50 = hop['gateway -> upstream (federated)']!.p50Ms - hop['upstream fixture direct']!.p50Ms;
    const result = {
      startedAt: new Date(started).toISOString(),
      machine: { cores, loadavg1mAtEnd: loadavg()[0], node: process.version, note: 'shared 2-core machine; compare ratios, not absolute numbers' },
      settings: { wrkConnections: CONNECTIONS, wrkDurationS: DURATION_S, wrk: wrk.path, nginx: cluster.nginxPath },
      throughput,
      ratios: {
        gatewayBuiltInVsRawEcho: throughput['gateway x1 direct, built-in']!.rps / throughput['raw node:http JSON echo']!.rps,
        gatewayFederatedVsUpstreamDirect: throughput['gateway x1 direct, federated']!.rps / throughput['upstream fixture direct']!.rps,
        nginx1VsDirect: t1 / throughput['gateway x1 direct, built-in']!.rps,
        scaling3vs1: scaling,
        perCoreEfficiency: scaling / Math.min(3, cores),
        gatewayVsMcpHubThroughput: vsHub['mcp-hub (HTTP+SSE)'] ? vsHub['gateway (federated fixture__echo)']!.rps! / vsHub['mcp-hub (HTTP+SSE)']!.rps! : null,
        gatewayVsMcpHubP50: vsHub['mcp-hub (HTTP+SSE)'] ? vsHub['gateway (federated fixture__echo)']!.p50Ms / vsHub['mcp-hub (HTTP+SSE)']!.p50Ms : null,
      },
      vsMcpHub: vsHub,
      ...(hubNote && { mcpHubNote: hubNote }),
      hopLatency: { ...hop, upstreamRequestsPerCall, addedP50Ms: Math.round(addedP50 * 1000) / 1000, targetP50Ms: 1, met: addedP50 < 1 },
      leastConnShare3Replicas: share,
      scalingRuns,
      rss: { idleMb: rssIdle, underLoadPeakMb: rssLoad, ...(hubRss !== undefined && { mcpHubAfterLoadMb: hubRss }), rawEchoMb: rssMb(raw.process.pid) },
      sessions: { ...sessions, targetKbPer1000: 1024, met: sessions.medianKbPer1000 < 1024 },
      durationS: Math.round((Date.now() - started) / 1000),
    };
    const out = join(REPO_ROOT, 'bench', 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'cluster-bench.json'), `${JSON.stringify(result, null, 2)}\n`);
    for (const [file, svg] of Object.entries(renderPlots(result))) writeFileSync(join(out, file), svg);
    process.stdout.write(`${markdownTable(result)}\nwritten: bench/results/cluster-bench.json and *.svg (${result.durationS} s)\n`);
  } finally {
    for (const p of extra.reverse()) await p.stop().catch(() => undefined);
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
