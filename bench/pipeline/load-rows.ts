/**
 * Rows 1 and 4 of the pipeline bench, both under wrk load: the gateway's RSS after
 * `loadS` seconds at `connections` connections (half built-in `diagnostics.echo`, half a federated call
 * of a 2026-07-28 upstream, so both paths allocate), next to a bare node:http JSON echo's RSS; then the
 * built-in echo's throughput against the bare echo's, alternated round by round (the best round of
 * each kept, to damp a shared machine's noise). The load phase also warms the gateway up for row 1.
 */
import type { WrkResult } from '../cluster/wrk.js';
import { wrkPost } from '../cluster/wrk.js';
import { rssMb, sampleRss } from '../cluster/rss.js';
import { toolCallBody, toolCallHeaders } from '../cluster/targets.js';

/** What the load rows need. */
export interface LoadTargets {
  readonly wrkPath: string;
  /** Where wrk's Lua scripts go. */
  readonly dir: string;
  readonly gatewayMcpUrl: string;
  readonly gatewayPid: number;
  readonly apiKey: string;
  /** A federated tool of a 2026-07-28 upstream (`ns__echo`). */
  readonly federatedTool: string;
  readonly rawUrl: string;
  readonly rawPid: number;
}

/** Figures of rows 1 and 4. */
export interface LoadFigures {
  rss: { gatewayAfterLoadMb: number; gatewayPeakUnderLoadMb: number; rawPeakUnderLoadMb: number; loadRps: { builtIn: number; federated: number } };
  throughput: { gateway: WrkResult; raw: WrkResult; rounds: { gatewayRps: number; rawRps: number }[] };
}

/** Runs the load phase and the throughput rounds. */
export async function measureLoadRows(
  t: LoadTargets,
  opts: { connections: number; loadS: number; durationS: number; rounds: number },
  log: (line: string) => void,
): Promise<LoadFigures> {
  const wrk = (name: string, url: string, tool: string, key: string | undefined, connections: number, durationS: number) =>
    wrkPost(t.wrkPath, t.dir, name, url, toolCallHeaders(tool, key), toolCallBody(tool), { connections, durationS });
  log(
    `load: ${opts.connections} connections for ${opts.loadS} s (${opts.connections / 2} built-in echo + ${opts.connections / 2} federated ${t.federatedTool})`,
  );
  const sampler = sampleRss([t.gatewayPid]);
  const half = Math.max(1, Math.floor(opts.connections / 2));
  const [builtIn, federated] = await Promise.all([
    wrk('load-builtin', t.gatewayMcpUrl, 'diagnostics.echo', t.apiKey, half, opts.loadS),
    wrk('load-federated', t.gatewayMcpUrl, t.federatedTool, t.apiKey, opts.connections - half, opts.loadS),
  ]);
  const gatewayAfterLoadMb = rssMb(t.gatewayPid);
  const gatewayPeakUnderLoadMb = sampler.stop()[0]!;
  for (const [name, r] of [
    ['built-in', builtIn],
    ['federated', federated],
  ] as const)
    if (r.non2xx + r.errors > 0) throw new Error(`load (${name}): ${r.non2xx} non-2xx answers, ${r.errors} socket errors`);
  log(`RSS after load: gateway ${gatewayAfterLoadMb} MB (peak ${gatewayPeakUnderLoadMb} MB); ${builtIn.rps.toFixed(0)} + ${federated.rps.toFixed(0)} req/s`);

  const rounds: { gatewayRps: number; rawRps: number }[] = [];
  let best: { gateway?: WrkResult; raw?: WrkResult } = {};
  const rawSampler = sampleRss([t.rawPid]);
  for (let i = 0; i < opts.rounds; i++) {
    log(`throughput round ${i + 1}/${opts.rounds}: wrk ${opts.connections} connections x ${opts.durationS} s, bare echo then gateway built-in`);
    const raw = await wrk('raw', t.rawUrl, 'echo', undefined, opts.connections, opts.durationS);
    const gateway = await wrk('builtin', t.gatewayMcpUrl, 'diagnostics.echo', t.apiKey, opts.connections, opts.durationS);
    if (gateway.non2xx + gateway.errors > 0) throw new Error(`gateway built-in echo: ${gateway.non2xx} non-2xx answers, ${gateway.errors} socket errors`);
    rounds.push({ gatewayRps: gateway.rps, rawRps: raw.rps });
    log(`  bare echo ${raw.rps.toFixed(0)} req/s, gateway ${gateway.rps.toFixed(0)} req/s (ratio ${(gateway.rps / raw.rps).toFixed(3)})`);
    best = { gateway: !best.gateway || gateway.rps > best.gateway.rps ? gateway : best.gateway, raw: !best.raw || raw.rps > best.raw.rps ? raw : best.raw };
  }
  return {
    rss: { gatewayAfterLoadMb, gatewayPeakUnderLoadMb, rawPeakUnderLoadMb: rawSampler.stop()[0]!, loadRps: { builtIn: builtIn.rps, federated: federated.rps } },
    throughput: { gateway: best.gateway!, raw: best.raw!, rounds },
  };
}
