/**
 * The gateway's node:http server: request id, routing, the /mcp guard chain, health, metrics, OAuth
 * protected-resource metadata and the admin API. MCP itself is the endpoint's job (service/src/mcp).
 *
 * `/mcp/<server>` (a tenant's virtual server, issue 20) takes the same chain; the MCP layer binds the request to
 * the server (404 unknown, 403 outside the credential's scopes), and its RFC 9728 metadata is served in the path
 * form. /mcp guard chain, each step answering on failure: Host/Origin allowlists (DNS rebinding, 403) -> CORS
 * for allowed browser origins (preflight answered here) -> authentication (401 + WWW-Authenticate) -> per-tenant rate limit (429 + Retry-After) -> the tenant's
 * request limits (429 + Retry-After, or 503 when a quota's counters are unavailable) -> body limit
 * (413) -> endpoint.handle(). A non-streaming response not ready within REQUEST_TIMEOUT_MS becomes 504.
 * No response ever carries a stack trace; unexpected errors are logged with the request id and answered 500.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { validateHostHeader, validateOriginHeader } from '@modelcontextprotocol/server';
import { HTTP } from '../../../contract/index.js';
import type { Principal } from '../domain/principal.js';
import { currentLogContext, runWithLogContext } from '../log/context.js';
import type { Logger } from '../log/logger.js';
import type { LimitService } from '../gateway/limits/limit-service.js';
import type { McpEndpoint } from '../mcp/endpoint.js';
import type { RateLimiter } from '../store/ports.js';
import { isAuthFailure, type AuthFailure, type Authenticator } from './auth.js';
import type { HttpMetrics } from './metrics.js';
import { ConnectionLimiter, serverOptions, type ConnectionLimits } from './connection-limits.js';
import { drainAfterResponse, readBodyText } from './request-body.js';
import { apiError, json, jsonRpcError, writeWebResponse } from './respond.js';
import { RefusalMemo } from './refusal-memo.js';
import { opensLongLivedStream, SseStreamLimiter } from './sse-limits.js';
import { EdgeErrorCode, LimitErrorCode } from '../protocol/errors.js';

/** Dependencies of the HTTP server. */
export interface HttpServerDeps {
  logger: Logger;
  metrics: HttpMetrics;
  authenticator: Authenticator;
  endpoint: McpEndpoint;
  /** Undefined = no rate limit. */
  rateLimiter?: RateLimiter;
  /** Tenant-defined request limits (gateway/limits; tenant, key, user); undefined = none. */
  requestLimits?: Pick<LimitService, 'checkRequest'>;
  /** Undefined = admin API disabled (404). */
  admin?: (request: Request, path: string, requestId: string) => Promise<Response>;
  /** Readiness of dependencies (PostgreSQL, Redis, migrations). */
  checkReady(): Promise<Record<string, boolean>>;
  /** Public status page (/, /status.json, /sw.js, /assets/*; service/src/http/status); undefined = 404. */
  statusPage?: (method: string, path: string, headers: IncomingMessage['headers']) => Promise<Response> | undefined;
  /** Host allowlist for /mcp; undefined = no Host check. */
  allowedHosts?: string[];
  allowedOrigins: string[];
  /** PUBLIC_URL; when unset the base URL is taken from the request's Host. */
  publicUrl?: string;
  /** OAuth issuer advertised in the protected-resource metadata. */
  oauthIssuer?: string;
  /**
   * The /oauth/* routes (per-user upstream credentials: consent link, callback, client metadata, the
   * user's own token); `authenticate` checks the request's Authorization as /mcp does. Undefined = 404.
   */
  oauthRoutes?: (request: Request, path: string, authenticate: () => Promise<Principal | AuthFailure>) => Promise<Response | undefined>;
  maxBodyBytes: number;
  requestTimeoutMs: number;
  /** How much of a refused request's remaining body is read and discarded so its answer arrives (bytes). */
  maxDrainBytes: number;
  /** Connection and stream limits (config: MAX_CONNECTIONS, HEADERS_TIMEOUT_MS, ...). */
  limits: ConnectionLimits;
}

/** The running server plus its lifecycle controls. */
export interface HttpServer {
  readonly server: Server;
  /** Requests being served right now (SSE streams included). */
  inFlight(): number;
  /** Open client connections right now. */
  connections(): number;
  /** Marks the process as draining: /readyz answers 503 from now on. */
  startDraining(): void;
  readonly draining: boolean;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const CORS_ALLOW = 'authorization, content-type, accept, last-event-id, mcp-session-id, mcp-protocol-version, mcp-method, mcp-name, x-request-id';
const CORS_EXPOSE = 'mcp-session-id, mcp-protocol-version, www-authenticate, retry-after, x-request-id';

class TimeoutError extends Error {}

/** `/mcp/<server>`: a virtual server's endpoint (issue 20); the name is checked by the MCP layer. */
const VIRTUAL_SERVER_PATH = new RegExp(`^${HTTP.mcpPath}/([^/]{1,100})$`);

/** The virtual server a path names (`/mcp/<server>`, or its metadata path), undefined otherwise. */
function virtualServerOf(path: string): string | undefined {
  const mcp = path.startsWith(HTTP.protectedResourceMetadataPath) ? path.slice(HTTP.protectedResourceMetadataPath.length) : path;
  const m = VIRTUAL_SERVER_PATH.exec(mcp);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return m[1]!;
  }
}

/** The metrics label of a path: one of the fixed routes, or `other` (bounded cardinality). */
function routeOf(path: string): string {
  if (path === HTTP.protectedResourceMetadataPath || path === `${HTTP.protectedResourceMetadataPath}${HTTP.mcpPath}`) return HTTP.protectedResourceMetadataPath;
  if (path.startsWith(`${HTTP.protectedResourceMetadataPath}${HTTP.mcpPath}/`) && virtualServerOf(path) !== undefined)
    return HTTP.protectedResourceMetadataPath;
  if (VIRTUAL_SERVER_PATH.test(path)) return HTTP.mcpPath;
  if (path === HTTP.adminPrefix || path.startsWith(`${HTTP.adminPrefix}/`)) return HTTP.adminPrefix;
  const fixed: string[] = [HTTP.mcpPath, HTTP.livenessPath, HTTP.readinessPath, HTTP.metricsPath];
  return fixed.includes(path) ? path : 'other';
}

/** The web Request toWebRequest would build for `req` whose body was read as `body`. */
function webRequest(req: IncomingMessage, signal: AbortSignal, body: string): Request {
  const host = req.headers.host;
  const headers = new Headers();
  for (const name in req.headers) {
    const value = req.headers[name];
    if (value === undefined || name.startsWith(':')) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.set(name, value);
  }
  return new Request(`http://${host ?? 'localhost'}${req.url ?? '/'}`, {
    method: req.method ?? 'POST',
    headers,
    signal,
    ...(body.length > 0 && { body }),
  });
}

/** Creates (but does not start) the HTTP server. */
export function createHttpServer(deps: HttpServerDeps): HttpServer {
  let draining = false;
  let active = 0;
  const log = deps.logger;

  const baseUrl = (req: IncomingMessage) => (deps.publicUrl ?? `http://${req.headers.host ?? 'localhost'}`).replace(/\/+$/, '');

  /** The protected resource a path names: `/mcp`, or `/mcp/<server>` (its own resource, RFC 9728 path form). */
  const resourcePath = (server: string | undefined) => (server === undefined ? HTTP.mcpPath : `${HTTP.mcpPath}/${encodeURIComponent(server)}`);
  const metadataUrl = (req: IncomingMessage, server?: string) =>
    `${baseUrl(req)}${HTTP.protectedResourceMetadataPath}${server === undefined ? '' : resourcePath(server)}`;

  const unauthorized = (req: IncomingMessage, error: 'missing' | 'invalid_token', description: string, server?: string) => {
    const params = [`resource_metadata="${metadataUrl(req, server)}"`];
    // RFC 6750: no error code when the request carried no credentials at all.
    if (error === 'invalid_token') params.unshift('error="invalid_token"', `error_description="${description.replace(/["\\]/g, '')}"`);
    return jsonRpcError(401, EdgeErrorCode.Unavailable, `Unauthorized: ${description}`, { 'www-authenticate': `Bearer ${params.join(', ')}` });
  };

  const protectedResourceMetadata = (req: IncomingMessage, server: string | undefined) =>
    json(
      200,
      {
        resource: `${baseUrl(req)}${resourcePath(server)}`,
        authorization_servers: deps.oauthIssuer ? [deps.oauthIssuer] : [],
        bearer_methods_supported: ['header'],
        resource_name: 'Unified MCP Platform',
      },
      { 'access-control-allow-origin': '*' },
    );

  const ready = async () => {
    if (draining) return json(503, { status: 'draining' });
    const checks = await deps.checkReady().catch(() => ({ dependencies: false }));
    const ok = Object.values(checks).every(Boolean);
    return json(ok ? 200 : 503, { status: ok ? 'ready' : 'not ready', checks });
  };

  /** The SDK's Host/Origin checks on the raw header values (no web Request is built for them), as a 403. */
  const hostOriginRefusal = (req: IncomingMessage): Response | undefined => {
    const host = deps.allowedHosts ? validateHostHeader(req.headers.host, deps.allowedHosts) : { ok: true as const };
    const result = host.ok ? validateOriginHeader(req.headers.origin, deps.allowedOrigins) : host;
    if (result.ok) return undefined;
    // The body and status the SDK's hostHeaderValidationResponse / originValidationResponse answer with.
    return Response.json(
      { jsonrpc: '2.0', error: { code: EdgeErrorCode.Refused, message: result.message }, id: null },
      { status: 403, headers: { 'Content-Type': 'application/json' } },
    );
  };

  /**
   * The web Request with its body (none for GET/HEAD, as toWebRequest builds it), or the 413 answer when
   * the body is over MAX_BODY_BYTES.
   */
  const readBody = async (req: IncomingMessage, abort: AbortController): Promise<Request | Response> => {
    const method = (req.method ?? 'GET').toUpperCase();
    if (method === 'GET' || method === 'HEAD') return webRequest(req, abort.signal, '');
    const text = await readBodyText(req, deps.maxBodyBytes);
    return text === undefined ? tooLarge() : webRequest(req, abort.signal, text);
  };
  // No `Connection: close`: the rest of the body is drained (drainAfterResponse) so this answer arrives
  // instead of a reset, and the connection stays usable.
  const tooLarge = () => jsonRpcError(413, -32600, `Request body larger than ${deps.maxBodyBytes} bytes (MAX_BODY_BYTES)`);

  /**
   * An MCP POST: the web Request (with its body, as toWebRequest builds it) and the body's text, which the
   * endpoint then takes instead of reading the Request's body stream back; or the 413 answer.
   */
  const readPost = async (req: IncomingMessage, abort: AbortController): Promise<{ request: Request; body: string } | Response> => {
    const text = await readBodyText(req, deps.maxBodyBytes);
    if (text === undefined) return tooLarge();
    return { request: webRequest(req, abort.signal, text), body: text };
  };

  const serveMcp = async (
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    abort: AbortController,
    server: string | undefined,
  ): Promise<Response | 'written'> => {
    const guard = hostOriginRefusal(req);
    if (guard) {
      log.warn({ host: req.headers.host, origin: req.headers.origin }, 'mcp request refused by Host/Origin validation');
      return guard;
    }
    // Browser clients (an allowed Origin): CORS, so they can send credentials and read the MCP headers.
    const origin = req.headers.origin;
    if (origin) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('vary', 'Origin');
      res.setHeader('access-control-expose-headers', CORS_EXPOSE);
      if (req.method === 'OPTIONS') {
        return new Response(null, {
          status: 204,
          headers: {
            'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
            'access-control-allow-headers': CORS_ALLOW,
            'access-control-max-age': '600',
          },
        });
      }
    }
    const auth = await deps.authenticator.authenticate(req.headers.authorization ?? null, server);
    if (isAuthFailure(auth)) return unauthorized(req, auth.error, auth.description, server);
    const principal: Principal = auth;
    const ctx = currentLogContext();
    if (ctx) ctx.tenantId = principal.tenantId;
    if (deps.rateLimiter) {
      // A tenant the shared limiter just refused is refused here without asking it again (refusal-memo.ts).
      const local = refused.refusedFor(principal.tenantId);
      const r = local > 0 ? { allowed: false, retryAfterMs: local } : await deps.rateLimiter.consume(principal.tenantId);
      if (!r.allowed) {
        if (local === 0) refused.remember(principal.tenantId, r.retryAfterMs);
        // A tenant that keeps sending past its refusal waits a little for each 429 (not past its retry-after):
        // a client looping on refusals slows down to a few per connection per second, so its flood costs
        // this replica little and other tenants keep their latency. The connection stays bounded by MAX_CONNECTIONS.
        else if (deps.limits.refusalDelayMs > 0) await delay(Math.min(deps.limits.refusalDelayMs, local));
        return jsonRpcError(429, EdgeErrorCode.Refused, 'Rate limit exceeded for this tenant', {
          'retry-after': String(Math.max(1, Math.ceil(r.retryAfterMs / 1000))),
        });
      }
    }
    if (deps.requestLimits) {
      const refusal = await deps.requestLimits.checkRequest(principal);
      if (refusal) {
        return json(
          refusal.reason === 'exceeded' ? 429 : 503,
          { jsonrpc: '2.0', error: { code: LimitErrorCode.Exceeded, message: refusal.message, data: refusal.data }, id: null },
          { 'retry-after': String(refusal.retryAfterSeconds) },
        );
      }
    }
    // A long-lived stream reserves its slot now (concurrent openers cannot all pass the check); the slot
    // is released when the response closes, whatever it turned out to be.
    let reserved = false;
    if (opensLongLivedStream(req)) {
      const release = streams.tryAcquire(principal.tenantId);
      if (!release) {
        log.warn({ streams: streams.count(principal.tenantId) }, 'mcp stream refused: tenant at SSE_STREAMS_PER_TENANT');
        return streams.refusal();
      }
      res.once('close', release);
      reserved = true;
    }
    // A POST's body is read here once, as text, and given to the endpoint along with the Request.
    const read = req.method === 'POST' ? await readPost(req, abort) : await readBody(req, abort);
    if (read instanceof Response) return read;
    const request = read instanceof Request ? read : read.request;
    const info = { requestId, ...(!(read instanceof Request) && { body: read.body }), ...(server !== undefined && { server }) };
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError()), deps.requestTimeoutMs);
    });
    try {
      const response = await Promise.race([deps.endpoint.handle(request, principal, info), deadline]);
      clearTimeout(timer);
      if (response.headers.get('content-type')?.startsWith('text/event-stream') && !reserved) res.once('close', streams.acquire(principal.tenantId));
      await writeWebResponse(res, response, abort.signal);
      return 'written';
    } catch (err) {
      clearTimeout(timer);
      if (err instanceof TimeoutError) {
        abort.abort();
        log.warn({ timeoutMs: deps.requestTimeoutMs }, 'mcp request timed out');
        return jsonRpcError(504, EdgeErrorCode.Unavailable, `Request timed out after ${deps.requestTimeoutMs} ms`);
      }
      throw err;
    }
  };

  const route = async (req: IncomingMessage, res: ServerResponse, path: string, requestId: string, abort: AbortController): Promise<Response | 'written'> => {
    const method = req.method ?? 'GET';
    switch (routeOf(path)) {
      case HTTP.mcpPath:
        return serveMcp(req, res, requestId, abort, virtualServerOf(path));
      case HTTP.livenessPath:
        return json(200, { status: 'ok' });
      case HTTP.readinessPath:
        return ready();
      case HTTP.metricsPath:
        if (method !== 'GET') break;
        return new Response(await deps.metrics.registry.metrics(), { headers: { 'content-type': deps.metrics.registry.contentType } });
      case HTTP.protectedResourceMetadataPath:
        return protectedResourceMetadata(req, virtualServerOf(path));
      case HTTP.adminPrefix: {
        if (!deps.admin) return apiError(404, 'not_found', 'admin API disabled (ADMIN_TOKEN not set)');
        const request = await readBody(req, abort);
        if (request instanceof Response) return request;
        return deps.admin(request, path.slice(HTTP.adminPrefix.length), requestId);
      }
    }
    if (deps.oauthRoutes && path.startsWith('/oauth/')) {
      const request = await readBody(req, abort);
      if (request instanceof Response) return request;
      const answer = await deps.oauthRoutes(request, path, () => deps.authenticator.authenticate(req.headers.authorization ?? null));
      if (answer) return answer;
    }
    const page = deps.statusPage?.(method, path, req.headers);
    if (page) return page;
    return apiError(404, 'not_found', `no route ${method} ${path}`);
  };

  const streams = new SseStreamLimiter(deps.limits.sseStreamsPerTenant);
  const refused = new RefusalMemo();
  const server = createServer(serverOptions(deps.limits), (req, res) => {
    const started = process.hrtime.bigint();
    // Whatever answers this request, the rest of its body is read so the answer is not lost to a reset.
    drainAfterResponse(req, res, deps.maxDrainBytes);
    const incoming = req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('x-request-id', requestId);
    active++;
    const abort = new AbortController();
    const path = (req.url ?? '/').split('?')[0]!;
    const routeLabel = routeOf(path);
    res.on('close', () => {
      active--;
      if (!res.writableFinished) abort.abort();
      deps.metrics.observe(routeLabel, req.method ?? 'GET', res.statusCode, Number(process.hrtime.bigint() - started) / 1e9);
    });
    runWithLogContext({ requestId }, async () => {
      try {
        const busy = connections.refusal(req.socket);
        const response = busy ?? (await route(req, res, path, requestId, abort));
        if (response !== 'written') await writeWebResponse(res, response, abort.signal);
      } catch (err) {
        // A client that went away mid-request is not a server error.
        if (abort.signal.aborted) return void res.destroy();
        log.error({ err, method: req.method, path }, 'request failed');
        if (res.headersSent) return void res.destroy();
        const message = `Internal error (request id ${requestId})`;
        await writeWebResponse(res, routeLabel === HTTP.mcpPath ? jsonRpcError(500, -32603, message) : apiError(500, 'internal_error', message));
      }
    }).catch(() => res.destroy());
  });
  // Slow-loris protection (headers and whole-request deadlines), keep-alive, MAX_CONNECTIONS.
  const connections = new ConnectionLimiter(server, deps.limits);

  return {
    server,
    inFlight: () => active,
    connections: () => connections.connections,
    startDraining() {
      draining = true;
    },
    get draining() {
      return draining;
    },
  };
}
