/**
 * Wire errors of the federation layer: what a client sees when an upstream cannot serve a request.
 * Every message names the upstream; `data` carries `{upstream, reason}` and never credentials.
 */
import { ProtocolError } from '@modelcontextprotocol/server';
import { UpstreamErrorCode } from '../protocol/errors.js';

/** Why an upstream request failed, as reported in `error.data.reason`. */
export type UpstreamFailure = 'connect' | 'auth' | 'circuit-open' | 'concurrency-limit' | 'timeout' | 'transport' | 'not-found' | 'denied';

/** A JSON-RPC error about one upstream. */
export function upstreamError(namespace: string, reason: UpstreamFailure, detail: string): ProtocolError {
  const code =
    reason === 'timeout'
      ? UpstreamErrorCode.Timeout
      : reason === 'not-found' || reason === 'denied'
        ? UpstreamErrorCode.NotFound
        : UpstreamErrorCode.Unavailable;
  return new ProtocolError(code, `upstream "${namespace}": ${detail}`, { upstream: namespace, reason });
}
