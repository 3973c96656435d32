/**
 * JSON-RPC error codes the service puts on the wire, and the error constructors more than one layer uses.
 * The JSON-RPC and MCP codes themselves (-32600…-32603, -32002, -32021) come from the SDK's
 * `ProtocolErrorCode`; the server-defined ones are listed here. Pure: no I/O.
 */
import { ProtocolError as ClientProtocolError } from '@modelcontextprotocol/client';
import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import { TASKS_EXTENSION } from './meta-keys.js';

/**
 * Answers of the HTTP edge (http/, mcp/; the 2025-era leg in mcp/legacy/ answers with the same numbers)
 * given before a request reaches an MCP server, with `id: null`.
 */
export const EdgeErrorCode = {
  /** Refused as sent: shutting down, media type, body too large, rate limit, Host/Origin, bad session request. */
  Refused: -32000,
  /** Not authorized, timed out, or an unknown session. */
  Unavailable: -32001,
} as const;

/** JSON-RPC error codes of the federation layer (gateway/errors.ts builds them). */
export const UpstreamErrorCode = {
  /** Connect failed, OAuth authentication failed, circuit open, concurrency limit reached. */
  Unavailable: -32050,
  /** The upstream did not answer within its timeout. */
  Timeout: -32051,
  /** A name or URI that no upstream of this tenant serves (or a denied tool). */
  NotFound: -32052,
} as const;

/** -32021 for a call that needs the tasks extension the caller did not declare (thrown in a server's handler). */
export function tasksExtensionRequired(): ProtocolError {
  return new ProtocolError(
    ProtocolErrorCode.MissingRequiredClientCapability,
    `This request needs the ${TASKS_EXTENSION} extension: declare it in the client capabilities`,
    {
      requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } },
    },
  );
}

/**
 * Whether an upstream refused a call because it only runs as a task, which the caller did not offer.
 * `err` comes from an SDK client (the client package's `ProtocolError`, a class of its own).
 */
export function needsTasksExtension(err: unknown): boolean {
  if (!(err instanceof ClientProtocolError) || err.code !== ProtocolErrorCode.MissingRequiredClientCapability) return false;
  const data = err.data as { requiredCapabilities?: { extensions?: Record<string, unknown> } } | undefined;
  return data?.requiredCapabilities?.extensions?.[TASKS_EXTENSION] !== undefined;
}

/**
 * JSON-RPC error of the limits stage (gateway/limits): a call or request past a limit the tenant defined
 * (or whose counters could not be read, for a quota). `data` names the limit and carries retryAfterSeconds.
 */
export const LimitErrorCode = {
  Exceeded: -32029,
} as const;
