/**
 * tools/call of an upstream tool for a 2026-07-28 caller, where input requests must come back as
 * `input_required` rounds:
 * - a 2026-07-28 upstream's own `input_required` is passed through with its requestState sealed inside
 *   the gateway's (the upstream is stateless, so the retry may go anywhere);
 * - a 2025-era upstream's server-to-client request keeps its upstream call open on this replica
 *   (PendingInputs); the round's sealed state names the pending call and this replica, so the retry is
 *   forwarded here from whichever replica it lands on.
 */
import type { Client } from '@modelcontextprotocol/client';
import { MissingRequiredClientCapabilityError, ProtocolError, ProtocolErrorCode, type ServerContext } from '@modelcontextprotocol/server';
import { callContext, type InputAsk } from './call-context.js';
import type { ClientPool } from './client-pool.js';
import type { PendingInputs, RoundOutcome } from './pending-inputs.js';
import type { ResolvedUpstream } from './upstream-config.js';
import type { RelayOptions } from './upstream-routing.js';
import { CLIENT_CAPABILITIES_META, LOG_LEVEL_META } from '../protocol/meta-keys.js';
import { withTraceMeta } from '../log/tracing.js';

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

/** The caller's declared client capabilities (2026-07-28 request envelope), forwarded so an upstream decides as for a direct caller. */
export function callerCapabilities(ctx: ServerContext): Record<string, unknown> | undefined {
  const envelope = (ctx.mcpReq.envelope ?? {}) as Record<string, unknown>;
  const caps = envelope[CLIENT_CAPABILITIES_META] ?? envelope['clientCapabilities'];
  return caps && typeof caps === 'object' ? (caps as Record<string, unknown>) : undefined;
}

/** Inputs of callForModernCaller. */
export interface ModernCall {
  readonly up: ResolvedUpstream;
  /** What the sealed state is bound to, e.g. `tools/call:echo`. */
  readonly target: string;
  /** The upstream request's own params (name/arguments or uri). */
  readonly params: Record<string, unknown>;
  /** Sends the request on the pooled client. */
  readonly send: (client: Client, params: Record<string, unknown>, options: Record<string, unknown>) => Promise<Record<string, unknown>>;
  /** Rewrites a complete result for the caller (e.g. resource URIs). */
  readonly mapResult?: (result: Record<string, unknown>) => Record<string, unknown>;
  readonly ctx: ServerContext;
  readonly pool: ClientPool;
  readonly codec: RequestStateCodecPort;
  readonly pending: PendingInputs | undefined;
  /** Progress relay and timeout options for the upstream request. */
  readonly requestOptions: RelayOptions;
}

/**
 * A 2026-07-28 caller's view of an upstream's answer: an `input_required` round has the upstream's
 * requestState sealed inside the gateway's (bound to the caller and this upstream and target, so the retry
 * may land on any replica); any other result becomes the gateway's own (asOwn, after `mapResult`).
 */
export async function asCallerRound(
  round: Pick<ModernCall, 'up' | 'target' | 'ctx' | 'codec' | 'mapResult'>,
  result: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const r = result as { resultType?: string; inputRequests?: Record<string, unknown>; requestState?: string };
  if (r.resultType === 'input_required') {
    const requestState = await round.codec.mint({ fed: round.up.namespace, tool: round.target, s: r.requestState ?? '' }, round.ctx);
    return { resultType: 'input_required', inputRequests: r.inputRequests ?? {}, requestState };
  }
  return asOwn(round.mapResult ? round.mapResult(result) : result);
}

/** Runs one round of an upstream request (tools/call, prompts/get, resources/read) for a 2026-07-28 caller. */
export async function callForModernCaller(call: ModernCall): Promise<Record<string, unknown>> {
  const { up, target: name, ctx, codec, pending } = call;
  const raw = ctx.mcpReq.requestState();
  const sealed = typeof raw === 'string' ? await codec.verify(raw, ctx) : undefined;
  if (sealed && (sealed['fed'] !== up.namespace || sealed['tool'] !== name))
    throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'requestState belongs to another tool');

  const finish = async (o: RoundOutcome, pendingId?: string, owner?: string): Promise<Record<string, unknown>> => {
    if (o.kind === 'error')
      throw new ProtocolError(o.code, o.message.startsWith(`upstream "${up.namespace}"`) ? o.message : `upstream "${up.namespace}": ${o.message}`, o.data);
    if (o.kind === 'input') {
      const requestState = await codec.mint({ fed: up.namespace, tool: name, p: pendingId, r: owner, n: o.round }, ctx);
      return { resultType: 'input_required', inputRequests: o.asks, requestState };
    }
    return asCallerRound({ up, target: name, ctx, codec, ...(call.mapResult && { mapResult: call.mapResult }) }, o.result);
  };

  if (sealed && typeof sealed['p'] === 'string' && typeof sealed['r'] === 'string') {
    if (!pending) throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'this gateway cannot resume pending upstream calls');
    return finish(await pending.resume(sealed['p'], sealed['r'], ctx.mcpReq.inputResponses ?? {}), sealed['p'], sealed['r']);
  }
  const upstreamState = sealed && typeof sealed['s'] === 'string' && sealed['s'] ? sealed['s'] : undefined;
  const callerCaps = callerCapabilities(ctx);
  const params = {
    ...call.params,
    // With tracing on, the active span's context too (SEP-414 `traceparent`): the upstream's span joins the trace.
    _meta: withTraceMeta({
      // 2026-07-28 upstreams log per request at the level the request names; the caller's level filters later.
      [LOG_LEVEL_META]: 'debug',
      // The upstream decides what input it may ask for by the caller's capabilities, not the gateway's.
      ...(callerCaps !== undefined && { [CLIENT_CAPABILITIES_META]: callerCaps }),
    }),
    ...(ctx.mcpReq.inputResponses && { inputResponses: ctx.mcpReq.inputResponses }),
    ...(upstreamState && { requestState: upstreamState }),
  };
  const conn = call.pool.get(up);
  // A 2026-07-28 upstream asks through its own input_required result: no call needs to stay open.
  if (!pending || conn.era === 'modern') {
    const result = await callContext.run({ ctx }, () => conn.run((c) => call.send(c, params, { ...call.requestOptions, allowInputRequired: true }), false));
    return finish({ kind: 'result', result });
  }
  // The upstream call may outlive this HTTP request (waiting for the caller's answer): its own signal.
  // The caller's declared capabilities bound what may be asked of it (as a direct server would).
  const capability: Record<string, string> = { 'elicitation/create': 'elicitation', 'sampling/createMessage': 'sampling', 'roots/list': 'roots' };
  const caps = callerCaps ?? {};
  // A question the caller cannot answer ends this request with -32021 at once, as a direct server would
  // refuse (the upstream only sees its request fail; its call is cancelled below).
  let refuse: (err: Error) => void = () => undefined;
  const refused = new Promise<never>((_resolve, reject) => {
    refuse = reject;
  });
  refused.catch(() => undefined);
  const { id, first } = pending.begin((ask, signal) => {
    const guarded = (a: InputAsk, related: boolean) => {
      const needed = capability[a.method];
      if (needed && caps[needed] === undefined) {
        const err = new MissingRequiredClientCapabilityError(
          { requiredCapabilities: { [needed]: {} } },
          `upstream "${up.namespace}" needs the client capability ${needed}, which the client did not declare`,
        );
        // Only a question that belongs to this call (sent on its stream) decides the call's fate; one that
        // merely arrived while it ran (e.g. a roots/list after initialisation) is just refused.
        if (related) refuse(err);
        return Promise.reject(err);
      }
      return ask(a);
    };
    return callContext.run({ ctx, ask: guarded }, () =>
      conn.run((c) => call.send(c, params, { ...call.requestOptions, signal, allowInputRequired: true }), false),
    );
  });
  // A caller that goes away while the first round runs cancels the upstream call (nothing could resume it);
  // once a round ends with a question, the call outlives this request until answered or expired.
  const callerGone = () => pending.cancel(id);
  ctx.mcpReq.signal.addEventListener('abort', callerGone, { once: true });
  try {
    return finish(await Promise.race([first, refused]), id, pending.replicaId);
  } catch (err) {
    pending.cancel(id);
    throw err;
  } finally {
    ctx.mcpReq.signal.removeEventListener('abort', callerGone);
  }
}
