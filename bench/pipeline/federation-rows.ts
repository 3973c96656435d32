/**
 * Rows 2 and 3 of the pipeline bench: sequential tools/call echo of an upstream through the gateway
 * (`<ns>__echo`) against the same upstream called directly, per protocol generation (the client speaks
 * the upstream's generation, as in bench/federation.ts), plus the gateway's built-in echo on the same
 * connection as its own floor. The three kinds are interleaved call by call.
 */
import type { Client } from '@modelcontextprotocol/client';
import { interleaved, type LatencyStats } from '../cluster/drivers.js';
import { connectClient, type ClientMode } from '../support/mcp-client.js';

/** One upstream generation to measure. */
export interface FederationTarget {
  readonly label: string;
  readonly upstreamUrl: string;
  /** Namespace of the upstream on the gateway. */
  readonly ns: string;
  readonly mode: ClientMode;
}

/** Latency of one generation's three kinds of call. */
export interface FederationFigures {
  readonly label: string;
  readonly direct: LatencyStats;
  readonly gateway: LatencyStats;
  readonly builtIn: LatencyStats;
}

/** Measures `target` through the gateway at `gatewayMcpUrl` (tenant key `apiKey`). */
export async function measureFederationRow(
  target: FederationTarget,
  gatewayMcpUrl: string,
  apiKey: string,
  opts: { calls: number; warmup: number },
): Promise<FederationFigures> {
  const clients: Client[] = [];
  try {
    const direct = await connectClient(target.upstreamUrl, {}, target.mode);
    clients.push(direct);
    const viaGateway = await connectClient(gatewayMcpUrl, { authorization: `Bearer ${apiKey}` }, target.mode);
    clients.push(viaGateway);
    const check = (expect: string) => (r: unknown) => {
      const text = (r as { content?: { text?: string }[] }).content?.[0]?.text;
      if (!text?.endsWith(expect)) throw new Error(`${target.label}: unexpected answer ${JSON.stringify(r).slice(0, 200)}`);
    };
    const stats = await interleaved(
      opts.calls,
      {
        direct: () => direct.callTool({ name: 'echo', arguments: { text: 'x' } }).then(check('x')),
        gateway: () => viaGateway.callTool({ name: `${target.ns}__echo`, arguments: { text: 'x' } }).then(check('x')),
        builtIn: () => viaGateway.callTool({ name: 'diagnostics.echo', arguments: { text: 'x' } }).then(check('x')),
      },
      opts.warmup,
    );
    return { label: target.label, ...stats };
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  }
}
