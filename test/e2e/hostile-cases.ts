/**
 * The hostile requests, as data: each sends one malformed or hostile request against the environment and
 * names the answer it must get (HTTP status, and the JSON-RPC error code when the answer is JSON-RPC).
 * hostile.test.ts runs each one and checks that the server stays up and nothing was written.
 */
import { rawRequest, type RawResponse } from '../support/platform-http.js';
import { sendRaw } from './support/raw-socket.js';
import { legacyHeaders, MAX_BODY_BYTES, type HostileEnv } from './support/hostile-env.js';

/** A reply reduced to what the checks need. */
export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One hostile request. */
export interface HostileCase {
  readonly group: 'protocol' | 'auth' | 'sizes' | 'injection' | 'slow' | 'tenant' | 'scope' | 'edge';
  readonly name: string;
  /** Allowed HTTP statuses (all 4xx). */
  readonly status: number | readonly number[];
  /** JSON-RPC error code(s) the body must carry, when the answer is JSON-RPC; 'tool-error' for a schema failure (isError result or -32602). */
  readonly rpc?: number | readonly number[] | 'tool-error';
  /** Content the answer must not contain (what the hostile request tries to read). */
  readonly leak?: RegExp;
  send(e: HostileEnv): Promise<Reply>;
}

const V = '2026-07-28';
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': V,
  'io.modelcontextprotocol/clientInfo': { name: 'hostile', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

function modern(method: string, name?: string, key?: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': V,
    'mcp-method': method,
    ...(name !== undefined && { 'mcp-name': name }),
    ...(key && { authorization: `Bearer ${key}` }),
  };
}

const TASKS_ENVELOPE = { ...ENVELOPE, 'io.modelcontextprotocol/clientCapabilities': { extensions: { 'io.modelcontextprotocol/tasks': {} } } };
const body = (method: string, params: Record<string, unknown> = {}, meta: Record<string, unknown> = ENVELOPE) =>
  JSON.stringify({ jsonrpc: '2.0', id: 7, method, params: { ...params, _meta: meta } });

async function post(e: HostileEnv, headers: Record<string, string>, data: string | Buffer): Promise<RawResponse> {
  return rawRequest(e.mcpUrl, { method: 'POST', headers, body: data });
}

/** A modern request by acme (valid key) with a raw body and optional header overrides. */
const acmeRaw =
  (data: string | Buffer, headers: Record<string, string> = {}, method = 'tools/list') =>
  (e: HostileEnv) =>
    post(e, { ...modern(method, undefined, e.acme.key), ...headers }, data);

/** A modern tools/call by acme for `name`. */
const acmeCall =
  (name: string, args: Record<string, unknown> = {}) =>
  (e: HostileEnv) =>
    post(e, modern('tools/call', name, e.acme.key), body('tools/call', { name, arguments: args }));

/** A modern resources/read by acme for `uri`. */
const acmeRead = (uri: string) => (e: HostileEnv) => post(e, modern('resources/read', uri, e.acme.key), body('resources/read', { uri }));

const admin = (method: string, path: string, data?: unknown, token?: (e: HostileEnv) => string) => (e: HostileEnv) =>
  rawRequest(`${e.url}/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token ? token(e) : e.adminToken}`, 'content-type': 'application/json' },
    ...(data !== undefined && { body: JSON.stringify(data) }),
  });

const socket =
  (chunks: (e: HostileEnv) => (string | Buffer)[], opts: Parameters<typeof sendRaw>[2] = {}) =>
  async (e: HostileEnv): Promise<Reply> => {
    const r = await sendRaw(e.gateway.port, chunks(e), opts);
    const split = r.raw.indexOf('\r\n\r\n');
    return { status: r.status, headers: {}, body: split >= 0 ? r.raw.slice(split + 4) : '' };
  };

const head = (e: HostileEnv, path = '/mcp', extra = '') =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${e.gateway.port}\r\nAuthorization: Bearer ${e.acme.key}\r\n${extra}`;

/** What a scoped caller must never get back: the canary it sends to hidden tools, and beta's contents. */
export const SCOPE_CANARY = 'scope-leak-canary';

/** A 2026-07-28 request by scoped's alpha-only key, to /mcp (which serves alpha) or to `url`. */
const alpha =
  (method: string, params: Record<string, unknown> = {}, url?: (e: HostileEnv) => string, meta: Record<string, unknown> = ENVELOPE) =>
  (e: HostileEnv) => {
    const name = (params['name'] ?? params['uri'] ?? params['taskId']) as string | undefined;
    return rawRequest(url?.(e) ?? e.mcpUrl, { method: 'POST', headers: modern(method, name, e.scoped.alphaKey), body: body(method, params, meta) });
  };

/** A 2025-era request in the alpha-only key's session (bound to alpha), to /mcp or to `url`. */
const alphaLegacy =
  (method: string, params: Record<string, unknown> = {}, url?: (e: HostileEnv) => string) =>
  (e: HostileEnv) =>
    rawRequest(url?.(e) ?? e.mcpUrl, {
      method: 'POST',
      headers: legacyHeaders(e.scoped.alphaKey, e.scoped.alphaSession),
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method, params }),
    });

/** Requests of a key scoped to virtual server alpha for what only beta shows (issue 20). */
export const SCOPE_CASES: HostileCase[] = [
  {
    group: 'scope',
    name: "scoped key: tools/call of another server's tool (its tenant name)",
    status: [200, 400, 404],
    rpc: -32602,
    leak: new RegExp(SCOPE_CANARY),
    send: alpha('tools/call', { name: 'diagnostics.echo', arguments: { text: SCOPE_CANARY } }),
  },
  {
    group: 'scope',
    name: "scoped key: tools/call of another server's renamed tool",
    status: [200, 400, 404],
    rpc: -32602,
    leak: new RegExp(SCOPE_CANARY),
    send: alpha('tools/call', { name: 'beta_echo', arguments: { text: SCOPE_CANARY } }),
  },
  {
    group: 'scope',
    name: 'scoped key: tools/call of a guessed tool name',
    status: [200, 400, 404],
    rpc: -32602,
    leak: /"content"/,
    send: alpha('tools/call', { name: 'diagnostics.sleep', arguments: { ms: 1 } }),
  },
  {
    group: 'scope',
    name: "scoped key: resources/read of another server's resource",
    status: [200, 400, 404],
    rpc: [-32002, -32602],
    leak: /static text resource/,
    send: alpha('resources/read', { uri: 'test://static-text' }),
  },
  {
    group: 'scope',
    name: "scoped key: prompts/get of another server's prompt",
    status: [200, 400, 404],
    rpc: -32602,
    leak: /simple prompt for testing/,
    send: alpha('prompts/get', { name: 'test_simple_prompt' }),
  },
  {
    group: 'scope',
    name: 'scoped key: tasks/get of a task created through another server',
    status: [200, 400, 404],
    rpc: -32602,
    leak: /"status"/,
    send: (e) => alpha('tasks/get', { taskId: e.scoped.betaTaskId }, undefined, TASKS_ENVELOPE)(e),
  },
  {
    group: 'scope',
    name: 'scoped key: tasks/cancel of a task created through another server',
    status: [200, 400, 404],
    rpc: -32602,
    send: (e) => alpha('tasks/cancel', { taskId: e.scoped.betaTaskId }, undefined, TASKS_ENVELOPE)(e),
  },
  {
    group: 'scope',
    name: 'scoped key: /mcp/<other server> directly (2026-07-28 tools/list)',
    status: 403,
    rpc: -32000,
    leak: /diagnostics\.|beta_echo/,
    send: alpha('tools/list', {}, (e) => e.scoped.betaUrl),
  },
  {
    group: 'scope',
    name: 'scoped key: /mcp/<other server> directly (2025-era initialize)',
    status: 403,
    rpc: -32000,
    send: (e) =>
      rawRequest(e.scoped.betaUrl, {
        method: 'POST',
        headers: legacyHeaders(e.scoped.alphaKey),
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 0,
          method: 'initialize',
          params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'hostile', version: '1' } },
        }),
      }),
  },
  {
    group: 'scope',
    name: 'scoped key: its own session at /mcp/<other server>',
    status: 403,
    rpc: -32000,
    send: alphaLegacy('tools/list', {}, (e) => e.scoped.betaUrl),
  },
  {
    group: 'scope',
    name: 'scoped key: /mcp/<server that does not exist> (answered like another server: 403)',
    status: 403,
    rpc: -32000,
    send: alpha('tools/list', {}, (e) => `${e.mcpUrl}/gamma`),
  },
  {
    group: 'scope',
    name: 'a session created at /mcp/beta, used at /mcp/alpha',
    status: 404,
    send: (e) =>
      rawRequest(e.scoped.alphaUrl, {
        method: 'POST',
        headers: legacyHeaders(e.scoped.tenant.key, e.scoped.betaSession),
        body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'beta_echo', arguments: { text: SCOPE_CANARY } } }),
      }),
  },
];

/**
 * The same probes inside the scoped key's own 2025-era session: refused alike, but every request in a
 * session writes its event log (resumability), so hostile.test.ts runs them in its scope count, not under
 * the per-case nothing-written check.
 */
export const SCOPE_SESSION_CASES: HostileCase[] = [
  {
    group: 'scope',
    name: 'scoped key: tools/call of a hidden tool over its 2025-era session',
    status: [200, 400, 404],
    rpc: -32602,
    leak: new RegExp(SCOPE_CANARY),
    send: alphaLegacy('tools/call', { name: 'diagnostics.echo', arguments: { text: SCOPE_CANARY } }),
  },
  {
    group: 'scope',
    name: "scoped key: resources/read of another server's binary resource (2025-era)",
    status: [200, 400, 404],
    rpc: [-32002, -32602],
    leak: /"blob"/,
    send: alphaLegacy('resources/read', { uri: 'test://static-binary' }),
  },
  {
    group: 'scope',
    name: "scoped key: resources/subscribe to another server's resource (2025-era)",
    status: [200, 400, 404],
    rpc: [-32002, -32602],
    send: alphaLegacy('resources/subscribe', { uri: 'test://static-text' }),
  },
  {
    group: 'scope',
    name: "scoped key: prompts/get of another server's prompt (2025-era)",
    status: [200, 400, 404],
    rpc: -32602,
    leak: /simple prompt for testing/,
    send: alphaLegacy('prompts/get', { name: 'test_simple_prompt' }),
  },
  {
    group: 'scope',
    name: "scoped key: tasks/get of another server's task (2025-era)",
    status: [200, 400, 404],
    rpc: -32602,
    leak: /"status"/,
    send: (e) => alphaLegacy('tasks/get', { taskId: e.scoped.betaTaskId })(e),
  },
  {
    group: 'scope',
    name: "scoped key: tasks/result of another server's task (2025-era)",
    status: [200, 400, 404],
    rpc: -32602,
    send: (e) => alphaLegacy('tasks/result', { taskId: e.scoped.betaTaskId })(e),
  },
  {
    group: 'scope',
    name: "scoped key: tasks/cancel of another server's task (2025-era)",
    status: [200, 400, 404],
    rpc: -32602,
    send: (e) => alphaLegacy('tasks/cancel', { taskId: e.scoped.betaTaskId })(e),
  },
];

export const CASES: HostileCase[] = [
  // --- protocol ---
  { group: 'protocol', name: 'body is not JSON', status: 400, rpc: -32700, send: acmeRaw('{"jsonrpc": "2.0", "id": 1, "method": ') },
  { group: 'protocol', name: 'empty body', status: 400, rpc: -32700, send: acmeRaw('') },
  { group: 'protocol', name: 'JSON but not JSON-RPC', status: 400, rpc: -32600, send: acmeRaw('{"hello":"world"}') },
  {
    group: 'protocol',
    name: 'jsonrpc version 1.0',
    status: 400,
    rpc: -32600,
    send: acmeRaw(JSON.stringify({ jsonrpc: '1.0', id: 1, method: 'tools/list', params: { _meta: ENVELOPE } })),
  },
  {
    group: 'protocol',
    name: 'batch on 2026-07-28',
    status: 400,
    rpc: -32600,
    send: acmeRaw(JSON.stringify([JSON.parse(body('tools/list')), JSON.parse(body('tools/list'))])),
  },
  {
    group: 'protocol',
    name: 'id is an object',
    status: 400,
    rpc: -32600,
    send: acmeRaw(JSON.stringify({ jsonrpc: '2.0', id: { $gt: '' }, method: 'tools/list', params: { _meta: ENVELOPE } })),
  },
  {
    group: 'protocol',
    name: 'unknown method',
    status: 404,
    rpc: -32601,
    send: acmeRaw(body('admin/dropEverything'), { 'mcp-method': 'admin/dropEverything' }),
  },
  {
    group: 'protocol',
    name: 'prototype pollution keys in params',
    status: 400,
    rpc: -32602,
    send: acmeRaw('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}}', {}, 'tools/call'),
  },
  { group: 'protocol', name: 'unsupported MCP-Protocol-Version', status: 400, send: acmeRaw(body('tools/list'), { 'mcp-protocol-version': '1999-01-01' }) },
  {
    group: 'protocol',
    name: 'Mcp-Method header disagrees with body',
    status: 400,
    rpc: -32020,
    send: acmeRaw(body('tools/list'), { 'mcp-method': 'tools/call' }),
  },
  {
    group: 'protocol',
    name: 'Mcp-Name header disagrees with body',
    status: 400,
    rpc: -32020,
    send: (e) => post(e, modern('tools/call', 'diagnostics.fail', e.acme.key), body('tools/call', { name: 'diagnostics.echo', arguments: { text: 'x' } })),
  },
  {
    group: 'protocol',
    name: 'envelope _meta missing',
    status: 400,
    rpc: -32602,
    send: acmeRaw(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} })),
  },
  {
    group: 'protocol',
    name: 'params is an array',
    status: 400,
    send: acmeRaw(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: [1, 2] })),
  },
  { group: 'protocol', name: 'Content-Type text/plain', status: 415, send: acmeRaw(body('tools/list'), { 'content-type': 'text/plain' }) },
  { group: 'protocol', name: 'Accept without text/event-stream', status: 406, send: acmeRaw(body('tools/list'), { accept: 'text/html' }) },
  {
    group: 'protocol',
    name: '30,000-deep nested JSON',
    status: 400,
    send: acmeRaw('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":' + '['.repeat(30_000) + ']'.repeat(30_000) + '}', {}, 'tools/call'),
  },
  {
    group: 'protocol',
    name: 'arguments violate the tool schema',
    status: 200,
    rpc: 'tool-error',
    send: acmeCall('diagnostics.echo', { text: { nested: ['not', 'a', 'string'] } }),
  },
  { group: 'protocol', name: 'sleep beyond its 60 s bound', status: 200, rpc: 'tool-error', send: acmeCall('diagnostics.sleep', { ms: 9_999_999 }) },
  {
    group: 'protocol',
    name: 'PUT on /mcp',
    status: 405,
    send: (e) => rawRequest(e.mcpUrl, { method: 'PUT', headers: { authorization: `Bearer ${e.acme.key}` }, body: '{}' }),
  },
  { group: 'protocol', name: 'broken HTTP request line', status: 400, send: socket(() => ['GARBAGE /mcp HTTP/9.9\r\n\r\n']) },
  // --- auth ---
  { group: 'auth', name: 'no Authorization header', status: 401, rpc: -32001, send: (e) => post(e, modern('tools/list'), body('tools/list')) },
  {
    group: 'auth',
    name: 'Bearer of random garbage',
    status: 401,
    send: (e) => post(e, { ...modern('tools/list'), authorization: 'Bearer x' }, body('tools/list')),
  },
  {
    group: 'auth',
    name: 'Basic credentials',
    status: 401,
    send: (e) => post(e, { ...modern('tools/list'), authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` }, body('tools/list')),
  },
  {
    group: 'auth',
    name: 'real key prefix with a forged secret',
    status: 401,
    send: (e) => post(e, modern('tools/list', undefined, e.acme.key.replace(/.{8}$/, 'AAAAAAAA')), body('tools/list')),
  },
  { group: 'auth', name: 'revoked key', status: 401, send: (e) => post(e, modern('tools/list', undefined, e.revokedKey), body('tools/list')) },
  {
    group: 'auth',
    name: 'key of a disabled tenant',
    status: 401,
    send: (e) => post(e, modern('tools/list', undefined, e.disabledTenantKey), body('tools/list')),
  },
  {
    group: 'auth',
    name: 'unsigned JWT (alg none)',
    status: 401,
    send: (e) =>
      post(
        e,
        modern(
          'tools/list',
          undefined,
          `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"root","tenant":"victim"}').toString('base64url')}.`,
        ),
        body('tools/list'),
      ),
  },
  {
    group: 'auth',
    name: 'SQL injection as the bearer token',
    status: 401,
    send: (e) => post(e, modern('tools/list', undefined, "umcp_' OR '1'='1_x"), body('tools/list')),
  },
  { group: 'auth', name: 'admin API with a wrong token', status: 401, send: admin('GET', '/tenants', undefined, () => 'nope') },
  { group: 'auth', name: 'admin API with a tenant API key', status: 401, send: admin('POST', '/tenants', { name: 'sneaky' }, (e) => e.acme.key) },
  // --- sizes ---
  { group: 'sizes', name: 'body over MAX_BODY_BYTES', status: 413, send: acmeCall('diagnostics.echo', { text: 'x'.repeat(MAX_BODY_BYTES + 10) }) },
  {
    group: 'sizes',
    name: 'chunked body over MAX_BODY_BYTES',
    status: 413,
    send: socket((e) => [
      head(e, '/mcp', 'Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n'),
      ...Array.from({ length: 20 }, () => `1000\r\n${'x'.repeat(4096)}\r\n`),
      '0\r\n\r\n',
    ]),
  },
  {
    group: 'sizes',
    name: 'header flood: 3,000 headers',
    status: 431,
    send: socket((e) => [head(e) + Array.from({ length: 3000 }, (_, i) => `X-Flood-${i}: ${'y'.repeat(8)}\r\n`).join('') + 'Content-Length: 0\r\n\r\n']),
  },
  { group: 'sizes', name: 'one 64 KB header', status: 431, send: socket((e) => [head(e) + `X-Big: ${'z'.repeat(65_536)}\r\nContent-Length: 0\r\n\r\n`]) },
  {
    group: 'sizes',
    name: '100 KB URL',
    status: [414, 431],
    send: socket((e) => [`GET /mcp?${'q'.repeat(100_000)} HTTP/1.1\r\nHost: 127.0.0.1:${e.gateway.port}\r\n\r\n`]),
  },
  {
    group: 'sizes',
    name: 'oversized Mcp-Session-Id (8 KB)',
    status: [400, 404],
    send: (e) => post(e, legacyHeaders(e.acme.key, 'a'.repeat(8192)), JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' })),
  },
  {
    group: 'sizes',
    name: 'oversized Last-Event-ID (8 KB) on a live session',
    status: [400, 404],
    send: (e) =>
      rawRequest(e.mcpUrl, {
        method: 'GET',
        headers: { ...legacyHeaders(e.victim.key, e.victimSession), accept: 'text/event-stream', 'last-event-id': `get.${'9'.repeat(8192)}-0` },
      }),
  },
  {
    group: 'sizes',
    name: 'Last-Event-ID of 100 KB',
    status: 431,
    send: socket((e) => [
      `GET /mcp HTTP/1.1\r\nHost: 127.0.0.1:${e.gateway.port}\r\nAuthorization: Bearer ${e.victim.key}\r\nMcp-Session-Id: ${e.victimSession}\r\nAccept: text/event-stream\r\nLast-Event-ID: ${'1'.repeat(100_000)}\r\n\r\n`,
    ]),
  },
  // --- injection in names and URIs ---
  { group: 'injection', name: 'tool name with SQL injection', status: [200, 400], rpc: -32602, send: acmeCall("x'; DROP TABLE tenants; --") },
  { group: 'injection', name: 'tool name with path traversal', status: [200, 400], rpc: -32602, send: acmeCall('../../../etc/passwd') },
  {
    group: 'injection',
    name: 'tool name with NUL and RTL override (no Mcp-Name: headers cannot carry it)',
    status: [200, 400],
    send: (e) => post(e, modern('tools/call', undefined, e.acme.key), body('tools/call', { name: 'diagnostics.echo\u0000\u202e', arguments: { text: 'x' } })),
  },
  { group: 'injection', name: 'tool of a toolset the tenant lacks', status: [200, 400], rpc: -32602, send: acmeCall('conformance.test_simple_text') },
  {
    group: 'injection',
    name: 'federated name of an upstream the tenant lacks',
    status: [200, 400],
    rpc: -32602,
    send: acmeCall('victimns__echo', { text: 'hi' }),
  },
  // resources/read is served (umcp-blob: links of large results): any other URI is -32602 "Resource not found";
  // -32601 where resources/read is not served. Either way nothing of the file or the metadata service comes back.
  {
    group: 'injection',
    name: 'resources/read file:///etc/passwd',
    status: [200, 400, 404],
    rpc: [-32601, -32602],
    leak: /root:.*:0:0:|\/bin\/(ba)?sh/,
    send: acmeRead('file:///etc/passwd'),
  },
  {
    group: 'injection',
    name: 'resources/read of the cloud metadata address',
    status: [200, 400, 404],
    rpc: [-32601, -32602],
    leak: /ami-id|instance-id|security-credentials|iam\//,
    send: acmeRead('http://169.254.169.254/latest/meta-data/'),
  },
  {
    group: 'injection',
    name: 'resource URI with CRLF (header injection)',
    status: 400,
    send: (e) => post(e, modern('resources/read', undefined, e.acme.key), body('resources/read', { uri: 'x://a\r\nSet-Cookie: pwned=1' })),
  },
  { group: 'injection', name: 'admin: tenant name with SQL injection', status: 400, send: admin('POST', '/tenants', { name: "x'); DELETE FROM tenants; --" }) },
  { group: 'injection', name: 'admin: tenant name with path traversal', status: 400, send: admin('POST', '/tenants', { name: '../../etc' }) },
  {
    group: 'injection',
    name: 'admin: upstream at the cloud metadata address (SSRF)',
    status: 400,
    send: admin('POST', '/tenants/acme/upstreams', { name: 'meta', url: 'http://169.254.169.254/latest/' }),
  },
  {
    group: 'injection',
    name: 'admin: upstream namespace with the separator',
    status: 400,
    send: admin('POST', '/tenants/acme/upstreams', { name: 'a__b', url: 'https://mcp.example.com/mcp' }),
  },
  {
    group: 'injection',
    name: 'admin: upstream with a file: URL',
    status: 400,
    send: admin('POST', '/tenants/acme/upstreams', { name: 'files', url: 'file:///etc/passwd' }),
  },
  // --- slow bodies ---
  {
    group: 'slow',
    name: 'body that stops half way (Content-Length 5000, 100 bytes, then close)',
    status: [0, 400],
    send: socket(
      (e) => [
        head(e, '/mcp', 'Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 5000\r\n\r\n'),
        '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"diagnostics.echo","arguments":{"text":"' + 'a'.repeat(30),
      ],
      { endAfter: true, timeoutMs: 3000 },
    ),
  },
  {
    group: 'slow',
    name: 'body dribbled one byte per 100 ms, then abandoned',
    status: [0, 400, 408],
    send: socket(
      (e) => [
        head(e, '/mcp', 'Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 400\r\n\r\n'),
        ...'{"jsonrpc":"2.0","id":1,'.split(''),
      ],
      { gapMs: 100, timeoutMs: 3000 },
    ),
  },
  // --- other tenant's ids and sessions ---
  {
    group: 'tenant',
    name: "POST on another tenant's session",
    status: 404,
    send: (e) => post(e, legacyHeaders(e.acme.key, e.victimSession), JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' })),
  },
  {
    group: 'tenant',
    name: "GET (resume) another tenant's session stream",
    status: 404,
    send: (e) =>
      rawRequest(e.mcpUrl, {
        method: 'GET',
        headers: { ...legacyHeaders(e.acme.key, e.victimSession), accept: 'text/event-stream', 'last-event-id': 'get.0-0' },
      }),
  },
  {
    group: 'tenant',
    name: "DELETE another tenant's session",
    status: 404,
    send: (e) => rawRequest(e.mcpUrl, { method: 'DELETE', headers: legacyHeaders(e.acme.key, e.victimSession) }),
  },
  {
    group: 'tenant',
    name: "admin: another tenant's key id revoked through the wrong tenant",
    status: 404,
    send: (e) => admin('DELETE', `/tenants/acme/keys/${e.victim.keyId}`)(e),
  },
  {
    group: 'tenant',
    name: "tasks/get of another tenant's task id",
    status: [200, 400, 404],
    rpc: -32602,
    send: (e) => post(e, modern('tasks/get', e.victimTaskId, e.acme.key), body('tasks/get', { taskId: e.victimTaskId }, TASKS_ENVELOPE)),
  },
  {
    group: 'tenant',
    name: "tasks/cancel of another tenant's task id",
    status: [200, 400, 404],
    rpc: -32602,
    send: (e) => post(e, modern('tasks/cancel', e.victimTaskId, e.acme.key), body('tasks/cancel', { taskId: e.victimTaskId }, TASKS_ENVELOPE)),
  },
  {
    group: 'sizes',
    name: 'tasks/get with a 10 KB task id',
    status: [200, 400],
    rpc: -32602,
    send: (e) => post(e, modern('tasks/get', 't'.repeat(10_000), e.acme.key), body('tasks/get', { taskId: 't'.repeat(10_000) }, TASKS_ENVELOPE)),
  },
  // --- edge ---
  {
    group: 'edge',
    name: 'foreign Host header (DNS rebinding)',
    status: 403,
    send: (e) => post(e, { ...modern('tools/list', undefined, e.acme.key), host: 'evil.example' }, body('tools/list')),
  },
  {
    group: 'edge',
    name: 'foreign Origin',
    status: 403,
    send: (e) => post(e, { ...modern('tools/list', undefined, e.acme.key), origin: 'https://evil.example' }, body('tools/list')),
  },
  { group: 'edge', name: 'unknown path', status: 404, send: (e) => rawRequest(`${e.url}/../../etc/passwd`, {}) },
  ...SCOPE_CASES,
];
