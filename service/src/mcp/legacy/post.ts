/**
 * POST on the legacy leg: validation of the HTTP envelope and JSON-RPC body, `initialize` (creates the
 * session in Redis, answers with JSON and the new Mcp-Session-Id), and dispatch of everything else of an
 * existing session: client responses and cancellations are routed to the replica waiting for them (202),
 * requests start a call exchange (SSE).
 */
import type { JSONRPCMessage, JSONRPCNotification, JSONRPCRequest } from '@modelcontextprotocol/server';
import {
  isInitializeRequest,
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  isJsonContentType,
  parseJSONRPCMessage,
  readRequestBody,
} from '@modelcontextprotocol/server';
import { randomBytes } from 'node:crypto';
import type { Principal } from '../../domain/principal.js';
import { InitializeParamsSchema, type SessionRecord } from '../../store/redis/session-store.js';
import { startCall } from './call-exchange.js';
import { acquireInstance, appendStandalone, buildServer, messageExtra, releaseInstance, type LegacyContext } from './context.js';
import { accepted, jsonRpcError } from './responses.js';
import { SessionTransport } from './session-transport.js';

/** Loads and authorizes the session named by the request; a Response when that fails. */
export type SessionLoader = (request: Request, principal: Principal) => Promise<SessionRecord | Response>;

/** A POST body the caller has read already: its text and, when it is JSON, the parsed value. */
export interface PrereadBody {
  readonly text: string;
  readonly parsed?: unknown;
}

/** Serves one POST (`preread`: the body, when the caller read it already; otherwise it is read here). */
export async function handlePost(
  ctx: LegacyContext,
  request: Request,
  principal: Principal,
  loadSession: SessionLoader,
  preread?: PrereadBody,
): Promise<Response> {
  const accept = request.headers.get('accept') ?? '';
  if (!accept.includes('application/json') || !accept.includes('text/event-stream')) {
    return jsonRpcError(406, -32000, 'Not Acceptable: Client must accept both application/json and text/event-stream');
  }
  if (!isJsonContentType(request.headers.get('content-type'))) {
    return jsonRpcError(415, -32000, 'Unsupported Media Type: Content-Type must be application/json');
  }
  // The endpoint reads the body under the same limit (MCP_MAX_BODY_BYTES) before routing here.
  const body = preread ?? (await readRequestBody(request, ctx.settings.maxBodyBytes));
  if ('tooLarge' in body && body.tooLarge) return jsonRpcError(413, -32000, `Request body exceeds ${ctx.settings.maxBodyBytes} bytes`);
  let raw: unknown;
  try {
    raw = preread?.parsed !== undefined ? preread.parsed : JSON.parse(body.text);
  } catch {
    return jsonRpcError(400, -32700, 'Parse error: Invalid JSON');
  }
  const isBatch = Array.isArray(raw);
  let messages: JSONRPCMessage[];
  try {
    messages = (isBatch ? (raw as unknown[]) : [raw]).map((m) => parseJSONRPCMessage(m));
  } catch {
    return jsonRpcError(400, -32600, 'Invalid Request: not a valid JSON-RPC message');
  }
  if (messages.length === 0) return jsonRpcError(400, -32600, 'Invalid Request: empty batch');

  if (messages.some((m) => isInitializeRequest(m))) {
    if (messages.length > 1) return jsonRpcError(400, -32600, 'Invalid Request: Only one initialization request is allowed');
    return initialize(ctx, request, principal, messages[0] as JSONRPCRequest);
  }

  const session = await loadSession(request, principal);
  if (session instanceof Response) return session;
  if (isBatch && session.protocolVersion >= '2025-06-18') {
    return jsonRpcError(400, -32600, `Invalid Request: JSON-RPC batches are not supported in protocol version ${session.protocolVersion}`);
  }

  const requests: JSONRPCRequest[] = [];
  for (const m of messages) {
    if (isJSONRPCRequest(m)) requests.push(m);
    else if (isJSONRPCResultResponse(m) || isJSONRPCErrorResponse(m)) {
      if (m.id === null || m.id === undefined || !(await ctx.router.routeClientResponse(session.sessionId, { ...m, id: m.id }))) {
        ctx.logger.warn({ sessionId: session.sessionId }, 'legacy: client response to an unknown server request dropped');
      }
    } else if (isJSONRPCNotification(m)) await dispatchNotification(ctx, session, principal, request, m);
  }
  if (requests.length === 0) return accepted();
  return startCall(ctx, session, principal, request, requests);
}

async function dispatchNotification(ctx: LegacyContext, session: SessionRecord, principal: Principal, request: Request, n: JSONRPCNotification): Promise<void> {
  if (n.method === 'notifications/initialized') return;
  if (n.method === 'notifications/cancelled') {
    const requestId = n.params?.requestId;
    if (typeof requestId === 'string' || typeof requestId === 'number') await ctx.router.routeCancel(session.sessionId, requestId, n);
    return;
  }
  // Any other client notification (e.g. roots/list_changed) goes to a live instance of the session; it is given
  // back a little later, once what the notification started has had a chance to run (a request it sends to
  // the client keeps the instance out of the pool).
  const inst = await acquireInstance(ctx, session, principal, request, {
    related: async () => {},
    standalone: (message) => appendStandalone(ctx, session.sessionId, message),
  });
  inst.transport.deliver(n, messageExtra(principal, request));
  setTimeout(() => releaseInstance(ctx, session.sessionId, principal, inst), 50).unref();
}

async function initialize(ctx: LegacyContext, request: Request, principal: Principal, init: JSONRPCRequest): Promise<Response> {
  if (ctx.draining) {
    return jsonRpcError(503, -32000, 'Server is shutting down; retry on another replica', { 'Retry-After': String(Math.ceil(ctx.settings.retryMs / 1000)) });
  }
  const params = InitializeParamsSchema.safeParse(init.params);
  if (!params.success) {
    return Response.json({ jsonrpc: '2.0', id: init.id, error: { code: -32602, message: 'Invalid initialize params' } }, { status: 400 });
  }
  const sessionId = randomBytes(32).toString('hex');
  const since = ctx.pool.changeCount(principal.tenantId);
  const product = await buildServer(ctx, principal, request, params.data.protocolVersion);
  let answer!: (m: JSONRPCMessage) => void;
  const answered = new Promise<JSONRPCMessage>((resolve) => (answer = resolve));
  const transport = new SessionTransport(sessionId, ctx.replicaId, {
    related: async (m) => {
      if (isJSONRPCResultResponse(m) || isJSONRPCErrorResponse(m)) answer(m);
    },
    standalone: async () => {},
  });
  await product.connect(transport);
  const close = async () => {
    await transport.close().catch(() => {});
    await product.close().catch(() => {});
  };
  let keep = false;
  try {
    transport.deliver(init, messageExtra(principal, request));
    let timer: NodeJS.Timeout | undefined;
    const response = await Promise.race([
      answered,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('initialize was not answered within 10 s')), 10_000))),
    ]).finally(() => clearTimeout(timer));
    if (!isJSONRPCResultResponse(response)) return Response.json(response);
    const protocolVersion = String((response.result as { protocolVersion?: unknown }).protocolVersion);
    await ctx.sessions.create(sessionId, {
      tenantId: principal.tenantId,
      subject: principal.subject,
      ...(principal.server && { server: principal.server }),
      protocolVersion,
      initializeParams: params.data,
    });
    ctx.logger.info({ sessionId, tenantId: principal.tenantId, protocolVersion }, 'legacy: session created');
    // The instance that ran initialize serves the session's next exchange on this replica without a restore.
    keep = true;
    const instance = { transport, close, logLevel: undefined };
    ctx.pool.lease(instance, since);
    releaseInstance(ctx, sessionId, principal, instance);
    return Response.json(response, { headers: { 'mcp-session-id': sessionId } });
  } finally {
    if (!keep) await close();
  }
}
