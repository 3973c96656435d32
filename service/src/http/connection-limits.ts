/**
 * Connection-level limits of the gateway's HTTP server, each one answered, never a silent drop:
 *
 * - MAX_CONNECTIONS: open client connections (idle keep-alive ones included). A connection over it gets
 *   its first request answered `503` with `Retry-After` and a JSON-RPC error, then is closed; one that
 *   sends nothing is closed after HEADERS_TIMEOUT_MS like any other. (node's own `maxConnections` would
 *   drop the socket without a word.)
 * - HEADERS_TIMEOUT_MS / REQUEST_RECEIVE_TIMEOUT_MS: slow headers and slow bodies (slow loris); node
 *   answers `408 Request Timeout` and closes. Checked every CONNECTION_CHECK_INTERVAL_MS.
 * - KEEP_ALIVE_TIMEOUT_MS: an idle keep-alive connection is closed after it.
 */
import type { Server, ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import { EdgeErrorCode } from '../protocol/errors.js';

/** The limits (config keys in parentheses). */
export interface ConnectionLimits {
  /** (MAX_CONNECTIONS) open connections per process; 0 = unlimited. */
  readonly maxConnections: number;
  /** (HEADERS_TIMEOUT_MS) from connection or previous request to complete headers, ms. */
  readonly headersTimeoutMs: number;
  /** (REQUEST_RECEIVE_TIMEOUT_MS) from first byte to complete request (headers + body), ms. */
  readonly requestReceiveTimeoutMs: number;
  /** (KEEP_ALIVE_TIMEOUT_MS) idle keep-alive connection lifetime, ms. */
  readonly keepAliveTimeoutMs: number;
  /** (SSE_STREAMS_PER_TENANT) concurrent SSE responses per tenant on this process; 0 = unlimited. */
  readonly sseStreamsPerTenant: number;
  /** (RATE_LIMIT_REFUSAL_DELAY_MS) how long a repeated 429 of a tenant already refused is held, ms; 0 = none. */
  readonly refusalDelayMs: number;
}

/** Options for createServer: how often the header/request timeouts are checked. */
export function serverOptions(limits: ConnectionLimits): ServerOptions {
  return { connectionsCheckingInterval: Math.max(250, Math.min(5_000, Math.floor(limits.headersTimeoutMs / 4))) };
}

const overLimit = new WeakSet<Socket>();

/** Counts connections and marks those over MAX_CONNECTIONS; sets the server's timeouts. */
export class ConnectionLimiter {
  private open = 0;
  /** Connections refused since start (for metrics and tests). */
  refused = 0;

  constructor(
    server: Server,
    private readonly limits: ConnectionLimits,
  ) {
    server.headersTimeout = limits.headersTimeoutMs;
    server.requestTimeout = Math.max(limits.requestReceiveTimeoutMs, limits.headersTimeoutMs);
    // Longer than typical load-balancer idle timeouts (60 s), so the balancer closes idle connections first.
    server.keepAliveTimeout = limits.keepAliveTimeoutMs;
    server.prependListener('connection', (socket: Socket) => {
      this.open++;
      socket.once('close', () => this.open--);
      if (limits.maxConnections > 0 && this.open > limits.maxConnections) {
        overLimit.add(socket);
        this.refused++;
      }
    });
  }

  /** Open connections right now. */
  get connections(): number {
    return this.open;
  }

  /** The refusal for a request arriving on a connection over MAX_CONNECTIONS, or undefined. */
  refusal(socket: Socket): Response | undefined {
    if (!overLimit.has(socket)) return undefined;
    return Response.json(
      {
        jsonrpc: '2.0',
        error: {
          code: EdgeErrorCode.Refused,
          message: `Server busy: more than ${this.limits.maxConnections} open connections (MAX_CONNECTIONS); retry shortly`,
        },
        id: null,
      },
      { status: 503, headers: { 'retry-after': '1', connection: 'close', 'cache-control': 'no-store' } },
    );
  }
}
