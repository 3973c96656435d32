/**
 * tools/call of an upstream tool for a 2026-07-28 caller, where input requests must come back as
 * `input_required` rounds:
 * - a 2026-07-28 upstream's own `input_required` is passed through with its requestState sealed inside
 *   the gateway's (the upstream is stateless, so the retry may go anywhere);
 * - a 2025-era upstream's server-to-client request keeps its upstream call open on this replica
 *   (PendingInputs); the round's sealed state names the pending call and this replica, so the retry is
 *   forwarded here from whichever replica it lands on.
 */
import { ProtocolError, ProtocolErrorCode, type ServerContext } from '@modelcontextprotocol/server';
import { callContext } from './call-context.js';
import type { ClientPool } from './client-pool.js';
import type { PendingInputs, RoundOutcome } from './pending-inputs.js';
import type { ResolvedUpstream } from './upstream-config.js';

/** Seals and opens Multi Round-Trip `requestState` with the keys every replica shares. */
export interface RequestStateCodecPort {
  mint(payload: Record<string, unknown>, ctx: ServerContext): Promise<string>;
  verify(state: string, ctx: ServerContext): Promise<Record<string, unknown>>;
}

/**
 * An upstream result as the gateway's own: the upstream's protocol-reserved `_meta` keys (its serverInfo,
 * protocol version) are dropped so the SDK stamps the gateway's; other `_meta` (progress, app keys) stays.
 */
export function asOwn<T extends { _meta?: Record<string, unknown> }>(result: T): T {
  if (!result._meta) return result;
  const meta = Object.fromEntries(Object.entries(result._meta).filter(([k]) => !k.startsWith('io.modelcontextprotocol/')));
  const { _meta: _dropped, ...rest } = result;
  return (Object.keys(meta).length ? { ...rest, _meta: meta } : rest) as T;
}

/** Inputs of callForModernCaller. */
export interface ModernCall {
  readonly up: ResolvedUpstream;
  readonly name: string;
  readonly arguments: Record<string, unknown> | undefined;
  readonly ctx: ServerContext;
  readonly pool: ClientPool;
  readonly codec: RequestStateCodecPort;
  readonly pending: PendingInputs | undefined;
  /** Progress relay and timeout options for the upstream request. */
  readonly requestOptions: Record<string, unknown>;
}

/** Runs one round of an upstream tool call for a 2026-07-28 caller. */
export async function callForModernCaller(call: ModernCall): Promise<Record<string, unknown>> {
  const { up, name, ctx, codec, pending } = call;
  const raw = ctx.mcpReq.requestState();
  const sealed = typeof raw === 'string' ? await codec.verify(raw, ctx) : undefined;
  if (sealed && (sealed['fed'] !== up.namespace || sealed['tool'] !== name)) throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'requestState belongs to another tool');

  const finish = async (o: RoundOutcome, pendingId?: string, owner?: string): Promise<Record<string, unknown>> => {
    if (o.kind === 'error') throw new ProtocolError(o.code, o.message.startsWith(`upstream "${up.namespace}"`) ? o.message : `upstream "${up.namespace}": ${o.message}`);
    if (o.kind === 'input') {
      const requestState = await codec.mint({ fed: up.namespace, tool: name, p: pendingId, r: owner }, ctx);
      return { resultType: 'input_required', inputRequests: { [o.key]: o.ask }, requestState };
    }
    const r = o.result as { resultType?: string; inputRequests?: Record<string, unknown>; requestState?: string };
    if (r.resultType === 'input_required') {
      const requestState = await codec.mint({ fed: up.namespace, tool: name, s: r.requestState ?? '' }, ctx);
      return { resultType: 'input_required', inputRequests: r.inputRequests ?? {}, requestState };
    }
    return asOwn(o.result);
  };

  if (sealed && typeof sealed['p'] === 'string' && typeof sealed['r'] === 'string') {
    if (!pending) throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'this gateway cannot resume pending upstream calls');
    return finish(await pending.resume(sealed['p'], sealed['r'], ctx.mcpReq.inputResponses ?? {}), sealed['p'], sealed['r']);
  }
  const upstreamState = sealed && typeof sealed['s'] === 'string' && sealed['s'] ? sealed['s'] : undefined;
  const params = {
    name,
    // 2026-07-28 upstreams log per request at the level the request names; the caller's level filters later.
    _meta: { 'io.modelcontextprotocol/logLevel': 'debug' },
    ...(call.arguments && { arguments: call.arguments }),
    ...(ctx.mcpReq.inputResponses && { inputResponses: ctx.mcpReq.inputResponses }),
    ...(upstreamState && { requestState: upstreamState }),
  };
  const conn = call.pool.get(up);
  if (!pending) {
    const result = await callContext.run({ ctx }, () => conn.run((c) => c.callTool(params, { ...call.requestOptions, allowInputRequired: true }), false));
    return finish({ kind: 'result', result: result as Record<string, unknown> });
  }
  // The upstream call may outlive this HTTP request (waiting for the caller's answer): its own signal.
  const { id, first } = pending.begin((ask, signal) =>
    callContext.run({ ctx, ask }, () =>
      conn.run(async (c) => (await c.callTool(params, { ...call.requestOptions, signal, allowInputRequired: true })) as Record<string, unknown>, false),
    ),
  );
  return finish(await first, id, pending.replicaId);
}
