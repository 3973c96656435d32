/**
 * What a failed upstream request becomes for the caller: the upstream's JSON-RPC errors prefixed with its
 * namespace, everything else a typed upstream error (circuit open, concurrency limit, timeout, OAuth,
 * transport), remembering the last failure for the health view.
 */
import {
  OAuthClientFlowError,
  OAuthError,
  ProtocolError,
  SdkError,
  SdkErrorCode,
  SdkHttpError,
  UnauthorizedError,
  type Client,
} from '@modelcontextprotocol/client';
import { BrokenCircuitError, BulkheadRejectedError } from 'cockatiel';
import { MissingRequiredClientCapabilityError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import { upstreamError } from '../errors.js';
import { responseTooLarge } from '../upstream-limits.js';
import type { ResolvedUpstream } from '../upstream-config.js';
import { AuthEndpointRefused } from './upstream-agents.js';
import { NoClientAuthMethod } from './upstream-client-credentials.js';

/** Whether an error came out of the OAuth client-credentials flow (token request, discovery, 401 after renewal). */
export const isAuthFailure = (err: unknown) =>
  err instanceof OAuthError ||
  err instanceof OAuthClientFlowError ||
  err instanceof UnauthorizedError ||
  err instanceof AuthEndpointRefused ||
  err instanceof NoClientAuthMethod ||
  (err instanceof SdkError && (err.code === SdkErrorCode.ClientHttpAuthentication || err.code === SdkErrorCode.ClientHttpForbidden));

/**
 * Whether `err` says the upstream no longer knows the session `client` sent: HTTP 404 (what the
 * specification prescribes), or HTTP 400 whose body names the session (what servers built on the SDK's
 * session map answer after a restart, e.g. "Bad Request: No valid session ID provided"). Only for a client
 * that has a session: a sessionless request answered 400 is a real error.
 */
export function isSessionLost(err: unknown, client: Client): boolean {
  if (!(err instanceof SdkHttpError)) return false;
  if (!(client.transport as { sessionId?: string } | undefined)?.sessionId) return false;
  if (err.status === 404) return true;
  const body = typeof err.data.text === 'string' ? err.data.text : err.message;
  return err.status === 400 && /session/i.test(body);
}

interface NetCause {
  code?: unknown;
  message?: unknown;
  errors?: NetCause[];
  cause?: NetCause;
}

/**
 * An error's message with what really stopped it: fetch only says "fetch failed" and keeps the socket's or
 * resolver's error in `cause` (several, one per address, as an AggregateError), e.g.
 * "fetch failed (connect ECONNREFUSED 127.0.0.1:9000)".
 */
export function describeFailure(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  let cause = (err as NetCause | undefined)?.cause;
  if (!cause || typeof cause !== 'object') return message;
  while (!cause.errors?.length && cause.cause && typeof cause.cause === 'object') cause = cause.cause;
  const causes = cause.errors?.length ? cause.errors : [cause];
  const details = [...new Set(causes.map((c) => (typeof c.message === 'string' && c.message ? c.message : typeof c.code === 'string' ? c.code : '')))].filter(
    (d) => d && !message.includes(d),
  );
  return details.length ? `${message} (${details.join('; ')})` : message;
}

/** Maps the errors of one upstream's requests and keeps the last failure's message. */
export class UpstreamErrorMapper {
  private lastError: string | undefined;

  constructor(
    private readonly upstream: ResolvedUpstream,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** The message of the last failure since the last successful connect. */
  get last(): string | undefined {
    return this.lastError;
  }

  /** Forgets the last failure (a new upstream session was opened). */
  clear(): void {
    this.lastError = undefined;
  }

  map(err: unknown): Error {
    const ns = this.upstream.namespace;
    if (err instanceof ProtocolError) {
      if (err.message.startsWith(`upstream "${ns}"`)) return err;
      const data = err.data as { requiredCapabilities?: Record<string, unknown> } | undefined;
      // The caller lacks a capability the upstream needs: keep the typed error so the wire form (HTTP 400,
      // data.requiredCapabilities) is what a direct server would send.
      if (err.code === ProtocolErrorCode.MissingRequiredClientCapability && data?.requiredCapabilities) {
        return new MissingRequiredClientCapabilityError({ requiredCapabilities: data.requiredCapabilities }, `upstream "${ns}": ${err.message}`);
      }
      return new ProtocolError(err.code, `upstream "${ns}": ${err.message}`, err.data);
    }
    if (err instanceof BrokenCircuitError)
      return upstreamError(ns, 'circuit-open', `circuit open after repeated failures (last: ${this.lastError ?? 'unknown'}); retrying shortly`);
    if (err instanceof BulkheadRejectedError)
      return upstreamError(ns, 'concurrency-limit', `concurrency limit of ${this.upstream.options.maxConcurrency} reached`);
    const message = describeFailure(err);
    this.lastError = message;
    this.onError(err);
    if (err instanceof SdkError && err.code === SdkErrorCode.RequestTimeout) return upstreamError(ns, 'timeout', `no answer within the timeout (${message})`);
    const big = responseTooLarge(err);
    if (big) return upstreamError(ns, 'transport', big.message);
    if (isAuthFailure(err)) {
      const code = err instanceof OAuthError ? ` (${err.code})` : '';
      return upstreamError(ns, 'auth', `OAuth client-credentials authentication failed${code}: ${message}`);
    }
    return upstreamError(ns, 'transport', `unreachable: ${message}`);
  }
}
