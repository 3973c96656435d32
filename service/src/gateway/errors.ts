/**
 * Wire errors of the federation layer: what a client sees when an upstream cannot serve a request.
 * Every message names the upstream; `data` carries `{upstream, reason}` and never credentials.
 */
import { ProtocolError } from '@modelcontextprotocol/server';

/** JSON-RPC error codes of the gateway (server-defined range). */
export const UpstreamErrorCode = {
  /** Connect failed, OAuth authentication failed, circuit open, concurrency limit reached. */
  Unavailable: -32050,
  /** The upstream did not answer within its timeout. */
  Timeout: -32051,
  /** A name or URI that no upstream of this tenant serves (or a denied tool). */
  NotFound: -32052,
} as const;

/** Why an upstream request failed, as reported in `error.data.reason`. */
export type UpstreamFailure = 'connect' | 'auth' | 'circuit-open' | 'concurrency-limit' | 'timeout' | 'transport' | 'not-found' | 'denied';

/** A JSON-RPC error about one upstream. */
export function upstreamError(namespace: string, reason: UpstreamFailure, detail: string): ProtocolError {
  const code =
    reason === 'timeout' ? UpstreamErrorCode.Timeout : reason === 'not-found' || reason === 'denied' ? UpstreamErrorCode.NotFound : UpstreamErrorCode.Unavailable;
  return new ProtocolError(code, `upstream "${namespace}": ${detail}`, { upstream: namespace, reason });
}
