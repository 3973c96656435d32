/**
 * Multi Round-Trip `requestState` sealing with key rotation. Each configured key gets its own SDK
 * HMAC codec (`createRequestStateCodec`); the wire value is `<kid>~<sdk value>`. The first key signs,
 * every key verifies, so a retry may land on any replica holding the same key list. State is bound to
 * the caller (tenant + subject) and the MCP method, so one principal cannot replay another's state.
 */
import { createRequestStateCodec, type RequestStateCodec, type ServerContext } from '@modelcontextprotocol/server';
import type { RequestStateKey } from './config.js';

/** Separator between key id and the SDK codec's value; not in the kid alphabet nor in base64url. */
const SEP = '~';

/** Why a requestState was refused (reported through onerror / logs, never on the wire). */
export class RequestStateError extends Error {
  constructor(
    readonly reason: 'unknown-key' | 'malformed' | 'mac' | 'expired' | 'bind',
    message: string,
  ) {
    super(message);
    this.name = 'RequestStateError';
  }
}

/** Identifies the caller a state is bound to; read from the handler context at mint and verify time. */
export type StateBinding = (ctx: ServerContext) => string;

/** Seals and verifies requestState under a rotating key list. */
export class RotatingRequestStateCodec {
  private readonly codecs: Map<string, RequestStateCodec<Record<string, unknown>>>;
  private readonly signingKid: string;

  /**
   * @param keys - at least one key; the first signs.
   * @param ttlSeconds - validity of a minted state, in seconds.
   * @param bind - caller binding (e.g. tenant + subject + method).
   */
  constructor(keys: readonly RequestStateKey[], ttlSeconds: number, bind: StateBinding) {
    if (keys.length === 0) throw new RangeError('RotatingRequestStateCodec needs at least one key (REQUEST_STATE_KEYS)');
    this.signingKid = keys[0]!.kid;
    this.codecs = new Map(keys.map((k) => [k.kid, createRequestStateCodec<Record<string, unknown>>({ key: k.secret, ttlSeconds, bind })]));
  }

  /** Seals `payload` with the signing key. */
  async mint(payload: Record<string, unknown>, ctx: ServerContext): Promise<string> {
    return `${this.signingKid}${SEP}${await this.codecs.get(this.signingKid)!.mint(payload, ctx)}`;
  }

  /**
   * The `ServerOptions.requestState.verify` hook: refuses bad state before any handler runs (the SDK
   * answers -32602 "Invalid or expired requestState") and resolves `undefined`, so handlers keep seeing
   * the raw wire string and decode it with {@link verify}. Keeping the raw string (rather than handing
   * the decoded payload on) keeps the seam idempotent when a handler is wrapped and re-entered (e.g. the
   * federation router delegating to the built-in handler, which re-runs the hook).
   */
  check = async (state: string, ctx: ServerContext): Promise<undefined> => {
    await this.verify(state, ctx);
    return undefined;
  };

  /**
   * Verifies a state minted by any configured key and returns its payload. Throws
   * {@link RequestStateError}.
   */
  verify = async (state: string, ctx: ServerContext): Promise<Record<string, unknown>> => {
    const at = state.indexOf(SEP);
    if (at <= 0) throw new RequestStateError('malformed', 'requestState has no key id');
    const codec = this.codecs.get(state.slice(0, at));
    if (!codec) throw new RequestStateError('unknown-key', 'requestState was sealed with a key this deployment no longer holds');
    try {
      return await codec.verify(state.slice(at + 1), ctx);
    } catch (err) {
      const reason = (err instanceof Error ? err.message : '') as RequestStateError['reason'];
      const known = ['malformed', 'mac', 'expired', 'bind'].includes(reason) ? reason : 'malformed';
      throw new RequestStateError(known, `requestState refused: ${known}`);
    }
  };
}

/** Binds state to the authenticated caller (set by the endpoint as `authInfo`) and the method. */
export const bindToCaller: StateBinding = (ctx) => {
  const auth = ctx.http?.authInfo;
  const principal = auth?.extra?.['principal'] as { tenantId?: unknown } | undefined;
  const tenant = typeof principal?.tenantId === 'string' ? principal.tenantId : '';
  return `${tenant}\0${auth?.clientId ?? ''}\0${ctx.mcpReq.method}`;
};
