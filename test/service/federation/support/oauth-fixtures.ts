/**
 * OAuth 2.0 fixtures on loopback for the upstream client-credentials tests:
 * - `startAuthServer`: an authorization server with RFC 8414 metadata, a JWKS and a token endpoint for
 *   `grant_type=client_credentials` that authenticates the client (client_secret_basic with the RFC 6749
 *   §2.3.1 form-urlencoding of id and secret, or client_secret_post; only the methods it advertises),
 *   checks the requested scope against the client's, and issues ES256 JWT access tokens (jose) whose
 *   audience is the RFC 8707 `resource` and whose lifetime is `ttlSeconds` (changeable at run time). Every
 *   HTTP request and every token request (method, client, scope, resource, outcome) is recorded.
 * - `startProtectedUpstream`: an MCP server (SDK, 2026-07-28 stateless or 2025-era sessionful) that accepts
 *   only `Authorization: Bearer <jwt>` verified with jose against the AS's JWKS (issuer, audience = its
 *   own URL, expiry), answers anything else with 401 and `WWW-Authenticate: Bearer ...,
 *   resource_metadata="..."` (SDK `verifyBearerToken` / `bearerAuthChallengeResponse`) and serves its
 *   RFC 9728 protected-resource metadata. Tools: `echo`, and `whoami` (the verified client id and scopes).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, errors as joseErrors, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { ProtocolError } from '@modelcontextprotocol/client';
import { NodeStreamableHTTPServerTransport, toNodeHandler } from '@modelcontextprotocol/node';
import {
  bearerAuthChallengeResponse,
  buildOAuthProtectedResourceMetadata,
  createMcpHandler,
  getOAuthProtectedResourceMetadataUrl,
  McpServer,
  OAuthError,
  OAuthErrorCode,
  verifyBearerToken,
  type AuthInfo,
} from '@modelcontextprotocol/server';
import { z } from 'zod';

/** A client the authorization server knows. */
export interface AsClient {
  readonly secret: string;
  /** Scopes the client may be granted (also its default when it asks for none). */
  readonly scopes: readonly string[];
}

/** One request to the token endpoint, as the AS understood it. */
export interface TokenRequestRecord {
  readonly authMethod: 'client_secret_basic' | 'client_secret_post' | 'none';
  readonly clientId: string | undefined;
  /** Whether the presented secret was the client's (never the secret itself). */
  readonly secretMatched: boolean;
  readonly grantType: string | undefined;
  readonly scope: string | undefined;
  readonly resource: string | undefined;
  readonly outcome: 'issued' | 'invalid_client' | 'invalid_request' | 'invalid_scope' | 'unsupported_grant_type';
  /** `exp` of the issued token (epoch seconds). */
  readonly exp?: number;
}

/** A running authorization server. */
export interface AuthServerFixture {
  readonly issuer: string;
  readonly port: number;
  readonly jwksUri: string;
  /** Every HTTP request (method, path and every header value), in order. */
  readonly requests: { method: string; path: string; headerValues: string[] }[];
  readonly tokenRequests: TokenRequestRecord[];
  /** Lifetime of tokens issued from now on, seconds. */
  ttlSeconds: number;
  close(): Promise<void>;
}

/** Options of startAuthServer. */
export interface AuthServerOptions {
  readonly clients: Record<string, AsClient>;
  /** Loopback address to listen on. @defaultValue '127.0.0.1' */
  readonly host?: string;
  /** @defaultValue 60 */
  readonly ttlSeconds?: number;
  /** `token_endpoint_auth_methods_supported`. @defaultValue ['client_secret_basic', 'client_secret_post'] */
  readonly authMethods?: readonly ('client_secret_basic' | 'client_secret_post')[];
}

async function listen(server: HttpServer, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

function closeHttp(server: HttpServer): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }).end(JSON.stringify(body));

/** RFC 6749 Appendix B decoding (application/x-www-form-urlencoded), as strict authorization servers apply it to Basic credentials. */
const formDecode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));

/** Starts an authorization server. */
export async function startAuthServer(opts: AuthServerOptions): Promise<AuthServerFixture> {
  const host = opts.host ?? '127.0.0.1';
  const methods = opts.authMethods ?? ['client_secret_basic', 'client_secret_post'];
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const kid = randomUUID();
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const requests: AuthServerFixture['requests'] = [];
  const tokenRequests: TokenRequestRecord[] = [];
  let issuer = '';

  const token = async (req: IncomingMessage, res: ServerResponse) => {
    const form = new URLSearchParams(await readBody(req));
    const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
    let authMethod: TokenRequestRecord['authMethod'] = 'none';
    let clientId: string | undefined;
    let secret: string | undefined;
    if (basic) {
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      authMethod = 'client_secret_basic';
      try {
        clientId = formDecode(colon < 0 ? decoded : decoded.slice(0, colon));
        secret = colon < 0 ? undefined : formDecode(decoded.slice(colon + 1));
      } catch {
        clientId = undefined; // not valid form encoding: authentication fails below
      }
    } else if (form.has('client_secret')) {
      authMethod = 'client_secret_post';
      clientId = form.get('client_id') ?? undefined;
      secret = form.get('client_secret') ?? undefined;
    } else clientId = form.get('client_id') ?? undefined;
    const client = clientId === undefined ? undefined : opts.clients[clientId];
    const secretMatched = client !== undefined && secret === client.secret;
    const record = (outcome: TokenRequestRecord['outcome'], exp?: number) =>
      tokenRequests.push({
        authMethod,
        clientId,
        secretMatched,
        grantType: form.get('grant_type') ?? undefined,
        scope: form.get('scope') ?? undefined,
        resource: form.get('resource') ?? undefined,
        outcome,
        ...(exp !== undefined && { exp }),
      });
    if (basic && form.has('client_secret')) {
      record('invalid_request');
      return sendJson(res, 400, { error: 'invalid_request', error_description: 'more than one client authentication method' });
    }
    if (authMethod === 'none' || !methods.includes(authMethod) || !secretMatched) {
      record('invalid_client');
      // RFC 6749 §5.2: 401 with a challenge for the scheme the client tried.
      return sendJson(
        res,
        401,
        { error: 'invalid_client', error_description: 'client authentication failed' },
        { 'www-authenticate': 'Basic realm="fixture-as"' },
      );
    }
    if (form.get('grant_type') !== 'client_credentials') {
      record('unsupported_grant_type');
      return sendJson(res, 400, { error: 'unsupported_grant_type', error_description: 'only client_credentials' });
    }
    const asked = (form.get('scope') ?? '').split(' ').filter(Boolean);
    const denied = asked.filter((s) => !client!.scopes.includes(s));
    if (denied.length) {
      record('invalid_scope');
      return sendJson(res, 400, { error: 'invalid_scope', error_description: `scope not allowed for this client: ${denied.join(' ')}` });
    }
    const scope = (asked.length ? asked : client!.scopes).join(' ');
    const exp = Math.floor(Date.now() / 1000) + fixture.ttlSeconds;
    const accessToken = await new SignJWT({ scope, client_id: clientId })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
      .setIssuer(issuer)
      .setSubject(clientId!)
      .setAudience(form.get('resource') ?? issuer)
      .setIssuedAt()
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(privateKey);
    record('issued', exp);
    sendJson(res, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: fixture.ttlSeconds, scope });
  };

  const http = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push({
      method: req.method ?? 'GET',
      path,
      headerValues: Object.values(req.headers)
        .flat()
        .filter((v): v is string => typeof v === 'string'),
    });
    if (req.method === 'GET' && path === '/.well-known/oauth-authorization-server') {
      return sendJson(res, 200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ['code'],
        grant_types_supported: ['client_credentials'],
        token_endpoint_auth_methods_supported: methods,
        scopes_supported: [...new Set(Object.values(opts.clients).flatMap((c) => c.scopes))],
      });
    }
    if (req.method === 'GET' && path === '/jwks') return sendJson(res, 200, { keys: [jwk] });
    if (req.method === 'POST' && path === '/token')
      return void token(req, res).catch((err: unknown) => sendJson(res, 500, { error: 'server_error', error_description: String(err) }));
    sendJson(res, 404, { error: 'not_found' });
  });
  const port = await listen(http, host);
  issuer = `http://${host}:${port}`;
  const fixture: AuthServerFixture = {
    issuer,
    port,
    jwksUri: `${issuer}/jwks`,
    requests,
    tokenRequests,
    ttlSeconds: opts.ttlSeconds ?? 60,
    close: () => closeHttp(http),
  };
  return fixture;
}

/** A running protected upstream. */
export interface ProtectedUpstreamFixture {
  readonly url: string;
  readonly resourceMetadataUrl: string;
  readonly seen: {
    /** Requests to the MCP endpoint. */
    mcpRequests: number;
    /** 401 answers, and how many of them were for an expired token. */
    unauthorized: number;
    expired: number;
    /** Requests that carried a valid token, per distinct token. */
    tokens: Map<string, number>;
    /** Every Authorization header value the MCP endpoint and the metadata route received. */
    authorizationHeaders: string[];
    /** Every header value the MCP endpoint and the metadata route received. */
    headerValues: Set<string>;
    /** Requests to the protected-resource metadata. */
    metadataRequests: number;
    /** 2025-era sessions initialised. */
    sessions: number;
  };
  close(): Promise<void>;
}

/** Options of startProtectedUpstream. */
export interface ProtectedUpstreamOptions {
  /** The authorization server whose tokens it accepts (issuer and JWKS are what is read). */
  readonly as: Pick<AuthServerFixture, 'issuer' | 'jwksUri'>;
  readonly era: 'modern' | 'legacy';
  /** Authorization server named in the resource metadata. @defaultValue `as.issuer` */
  readonly authorizationServer?: string;
  /** `scopes_supported` of the resource metadata. */
  readonly scopesSupported?: string[];
  /** Scope `whoami` needs (a tool result with isError when the token lacks it). */
  readonly toolScope?: string;
  readonly label?: string;
  /** Tokens answered with 401 although valid (as after a revocation the resource learnt of). */
  readonly rejected?: Set<string>;
}

function buildServer(label: string, toolScope: string | undefined): McpServer {
  const server = new McpServer({ name: `oauth-${label}`, version: '1.0.0' }, { capabilities: { tools: {} } });
  server.registerTool('echo', { description: 'echo', inputSchema: z.object({ text: z.string() }) }, async ({ text }) => ({
    content: [{ type: 'text', text: `${label}:${text}` }],
  }));
  server.registerTool('whoami', { description: 'the verified OAuth client', inputSchema: z.object({}) }, async (_args, ctx) => {
    const auth = ctx.http?.authInfo;
    if (!auth) return { isError: true, content: [{ type: 'text', text: 'no auth info' }] };
    if (toolScope && !auth.scopes.includes(toolScope)) return { isError: true, content: [{ type: 'text', text: `scope ${toolScope} missing` }] };
    return { content: [{ type: 'text', text: JSON.stringify({ clientId: auth.clientId, scopes: auth.scopes, sub: auth.extra?.['sub'] }) }] };
  });
  return server;
}

/** Starts an MCP server that requires OAuth access tokens from `opts.as`. */
export async function startProtectedUpstream(opts: ProtectedUpstreamOptions): Promise<ProtectedUpstreamFixture> {
  const label = opts.label ?? opts.era;
  const seen: ProtectedUpstreamFixture['seen'] = {
    mcpRequests: 0,
    unauthorized: 0,
    expired: 0,
    tokens: new Map(),
    authorizationHeaders: [],
    headerValues: new Set(),
    metadataRequests: 0,
    sessions: 0,
  };
  const jwks = createRemoteJWKSet(new URL(opts.as.jwksUri));
  let url = '';
  let resourceMetadataUrl = '';
  const verifier = {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      if (opts.rejected?.has(token)) throw new OAuthError(OAuthErrorCode.InvalidToken, 'token revoked');
      try {
        const { payload } = await jwtVerify(token, jwks, { issuer: opts.as.issuer, audience: url, algorithms: ['ES256'] });
        return {
          token,
          clientId: String(payload.client_id),
          scopes: String(payload.scope ?? '')
            .split(' ')
            .filter(Boolean),
          ...(payload.exp !== undefined && { expiresAt: payload.exp }),
          ...(payload.sub !== undefined && { extra: { sub: payload.sub } }),
          resource: new URL(url),
        };
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired) seen.expired++;
        throw new OAuthError(OAuthErrorCode.InvalidToken, err instanceof Error ? err.message : 'invalid token');
      }
    },
  };

  const modernHandler = opts.era === 'modern' ? toNodeHandler(createMcpHandler(() => buildServer(label, opts.toolScope), { legacy: 'reject' })) : undefined;
  const sessions = new Map<string, NodeStreamableHTTPServerTransport>();
  const legacy = async (req: IncomingMessage & { auth?: AuthInfo }, res: ServerResponse) => {
    const sid = req.headers['mcp-session-id'] as string | undefined;
    if (sid) {
      const t = sessions.get(sid);
      if (!t) return sendJson(res, 404, { jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } });
      return t.handleRequest(req, res);
    }
    const server = buildServer(label, opts.toolScope);
    const transport: NodeStreamableHTTPServerTransport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        seen.sessions++;
        sessions.set(id, transport);
      },
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  };

  const http = createServer((req: IncomingMessage & { auth?: AuthInfo }, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.headers.authorization) seen.authorizationHeaders.push(req.headers.authorization);
    for (const v of Object.values(req.headers).flat()) if (typeof v === 'string') seen.headerValues.add(v);
    if (path === new URL(resourceMetadataUrl).pathname) {
      seen.metadataRequests++;
      return sendJson(
        res,
        200,
        buildOAuthProtectedResourceMetadata({
          // Only `issuer` is read from the AS metadata here.
          oauthMetadata: { issuer: opts.authorizationServer ?? opts.as.issuer, authorization_endpoint: '', token_endpoint: '', response_types_supported: [] },
          resourceServerUrl: new URL(url),
          ...(opts.scopesSupported && { scopesSupported: opts.scopesSupported }),
          dangerouslyAllowInsecureIssuerUrl: true,
        }),
      );
    }
    if (path !== '/mcp') return sendJson(res, 404, { error: 'not_found' });
    seen.mcpRequests++;
    void (async () => {
      try {
        req.auth = await verifyBearerToken(req.headers.authorization, { verifier, resourceMetadataUrl, expectedResource: new URL(url) });
      } catch (err) {
        seen.unauthorized++;
        const answer = bearerAuthChallengeResponse(err, { resourceMetadataUrl });
        const headers: Record<string, string> = {};
        answer.headers.forEach((value, name) => void (headers[name] = value));
        res.writeHead(answer.status, headers).end(await answer.text());
        return;
      }
      seen.tokens.set(req.auth.token, (seen.tokens.get(req.auth.token) ?? 0) + 1);
      if (modernHandler) await modernHandler(req, res);
      else await legacy(req, res);
    })().catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: String(err) });
    });
  });
  const port = await listen(http, '127.0.0.1');
  url = `http://127.0.0.1:${port}/mcp`;
  resourceMetadataUrl = getOAuthProtectedResourceMetadataUrl(new URL(url));
  return {
    url,
    resourceMetadataUrl,
    seen,
    async close() {
      for (const t of sessions.values()) await t.close().catch(() => undefined);
      sessions.clear();
      await closeHttp(http);
    },
  };
}

/** The JSON-RPC error a client call failed with. */
export async function rpcError(p: Promise<unknown>): Promise<ProtocolError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ProtocolError, `expected a JSON-RPC error, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the call to fail');
}
