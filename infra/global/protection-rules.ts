/**
 * Edge protection rules as plain data: rate limiting (phase `http_ratelimit`) and custom WAF rules (phase
 * `http_request_firewall_custom`) for the MCP endpoint.
 *
 * 2026-07-28 clients mirror the JSON-RPC method into `Mcp-Method` and the tool/resource/prompt/task into
 * `Mcp-Name` (SEP-2243, SEP-2663), so the edge can budget `tools/call` separately without reading bodies.
 * 2025-era clients send neither; their requests (and GET streams, DELETE) share one "unrouted" budget,
 * because their method is only in the body. Counting is per API key (Authorization header: an admin key or
 * an OAuth bearer) when present, else per client IP; Cloudflare keeps counters per data center.
 */
import type * as cloudflare from '@pulumi/cloudflare';
import { HTTP } from '../../contract/index.js';
import type { GlobalConfig, RateLimit } from './config.js';
import { and, hasHeader, headerIn, integerAbovePattern, methodIn, not, pathUnder, quote } from './expressions.js';

type RulesetRule = cloudflare.types.input.RulesetRule;

export const MCP_METHOD_HEADER = 'mcp-method';
export const MCP_NAME_HEADER = 'mcp-name';
export const PROTOCOL_VERSION_HEADER = 'mcp-protocol-version';
export const AUTHORIZATION_HEADER = 'authorization';

/** Methods whose requests must carry `Mcp-Name` (SEP-2243 standard headers, SEP-2663 task methods). */
export const NAMED_METHODS = ['tools/call', 'resources/read', 'prompts/get', 'tasks/get', 'tasks/update', 'tasks/cancel'] as const;

/** JSON-RPC code for a missing or mismatched routing header (SEP-2243 HeaderMismatch). */
export const HEADER_MISMATCH_CODE = -32020;

/** Rate-limit characteristics: Cloudflare requires the data-center id in every set. */
export const KEY_CHARACTERISTICS = ['cf.colo.id', `http.request.headers[${quote(AUTHORIZATION_HEADER)}]`];
export const IP_CHARACTERISTICS = ['cf.colo.id', 'ip.src'];

const MCP = pathUnder(HTTP.mcpPath);

/** A JSON-RPC error body the edge returns itself (no request id is known at the edge). */
function jsonRpcError(code: number, message: string): string {
  return JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } });
}

function blockWith(statusCode: number, code: number, message: string): Pick<RulesetRule, 'action' | 'actionParameters'> {
  return {
    action: 'block',
    actionParameters: { response: { statusCode, contentType: 'application/json', content: jsonRpcError(code, message) } },
  };
}

/** `tools/call` → `tools_call`: rule refs allow letters, digits and underscores. */
function slug(method: string): string {
  return method.replace(/[^a-zA-Z0-9]+/g, '_');
}

/** Two rules for one budget: keyed on the Authorization header when present, else on the client IP. */
function budget(ref: string, what: string, scope: string, limit: RateLimit, cfg: GlobalConfig['rateLimits']): RulesetRule[] {
  const base = {
    action: 'block',
    actionParameters: blockWith(429, -32000, `Rate limit exceeded for ${what}; retry later`).actionParameters,
    enabled: true,
  };
  const window = { period: cfg.periodSeconds, mitigationTimeout: cfg.mitigationTimeoutSeconds };
  return [
    {
      ...base,
      ref: `rl_${ref}_key`,
      description: `${what}: ${limit.perKey} requests / ${cfg.periodSeconds}s per API key`,
      expression: and(scope, hasHeader(AUTHORIZATION_HEADER)),
      ratelimit: { ...window, characteristics: KEY_CHARACTERISTICS, requestsPerPeriod: limit.perKey },
    },
    {
      ...base,
      ref: `rl_${ref}_ip`,
      description: `${what}: ${limit.perIp} requests / ${cfg.periodSeconds}s per client IP (no API key)`,
      expression: and(scope, not(hasHeader(AUTHORIZATION_HEADER))),
      ratelimit: { ...window, characteristics: IP_CHARACTERISTICS, requestsPerPeriod: limit.perIp },
    },
  ];
}

/**
 * Rate-limiting rules: one budget per configured `Mcp-Method` (e.g. a tight `tools/call`), one for every
 * other method, one for requests without `Mcp-Method`; the budgets' scopes do not overlap, so exactly one
 * budget rule counts a request. A per-IP ceiling over all /mcp requests counts every request as well.
 */
export function rateLimitRules(cfg: GlobalConfig): RulesetRule[] {
  const limits = cfg.rateLimits;
  const methods = Object.keys(limits.methods).sort();
  const routed = and(MCP, hasHeader(MCP_METHOD_HEADER));
  const rules = methods.flatMap((method) =>
    budget(`method_${slug(method)}`, method, and(MCP, headerIn(MCP_METHOD_HEADER, [method])), limits.methods[method]!, limits),
  );
  const other = methods.length > 0 ? and(routed, not(headerIn(MCP_METHOD_HEADER, methods))) : routed;
  rules.push(...budget('other_methods', 'other MCP methods', other, limits.otherMethods, limits));
  rules.push(...budget('unrouted', 'MCP requests without Mcp-Method (2025-era)', and(MCP, not(hasHeader(MCP_METHOD_HEADER))), limits.legacy, limits));
  // Counted for every request besides its budget above, so invented tokens cannot multiply the budget.
  rules.push({
    ref: 'rl_ip_ceiling',
    description: `All MCP requests: ${limits.ipCeiling} / ${limits.periodSeconds}s per client IP, any key`,
    expression: MCP,
    ...blockWith(429, -32000, 'Rate limit exceeded for this address; retry later'),
    ratelimit: {
      period: limits.periodSeconds,
      mitigationTimeout: limits.mitigationTimeoutSeconds,
      characteristics: IP_CHARACTERISTICS,
      requestsPerPeriod: limits.ipCeiling,
    },
    enabled: true,
  });
  return rules;
}

/** Expression true when the request body to /mcp exceeds `maxBodyBytes`. */
export function oversizedBodyExpression(cfg: Pick<GlobalConfig, 'maxBodyBytes' | 'bodySizeSource'>): string {
  const tooBig =
    cfg.bodySizeSource === 'body'
      ? `http.request.body.size gt ${cfg.maxBodyBytes}`
      : `any(http.request.headers["content-length"][*] matches ${quote(integerAbovePattern(cfg.maxBodyBytes))})`;
  return and(MCP, tooBig);
}

/**
 * Custom WAF rules, evaluated in order; each blocks with a JSON-RPC error body:
 * oversized bodies (413), 2026-era requests without `Mcp-Method` (400), named methods without `Mcp-Name`
 * (400), non-JSON POSTs (415), unsupported HTTP methods on /mcp (405), /admin from networks outside
 * `adminAllowedCidrs` when set (403), and /metrics from the internet (404).
 * 2025-era requests (no routing headers, older `MCP-Protocol-Version` or none) pass to the origin, which
 * validates bodies; they are limited by the "unrouted" budget.
 */
export function firewallRules(cfg: GlobalConfig): RulesetRule[] {
  const post = methodIn(['POST']);
  const rules: RulesetRule[] = [
    {
      ref: 'refuse_oversized_body',
      description: `Refuse request bodies over ${cfg.maxBodyBytes} bytes to ${HTTP.mcpPath}`,
      expression: oversizedBodyExpression(cfg),
      ...blockWith(413, -32600, `Request body exceeds ${cfg.maxBodyBytes} bytes`),
      enabled: true,
    },
    {
      ref: 'require_mcp_method',
      description: `POSTs declaring protocol ${cfg.routingHeaderVersions.join('/')} must carry Mcp-Method`,
      expression: and(MCP, post, headerIn(PROTOCOL_VERSION_HEADER, cfg.routingHeaderVersions), not(hasHeader(MCP_METHOD_HEADER))),
      ...blockWith(400, HEADER_MISMATCH_CODE, 'Missing Mcp-Method header'),
      enabled: true,
    },
    {
      ref: 'require_mcp_name',
      description: `${NAMED_METHODS.join(', ')} must carry Mcp-Name`,
      expression: and(MCP, post, headerIn(MCP_METHOD_HEADER, NAMED_METHODS), not(hasHeader(MCP_NAME_HEADER))),
      ...blockWith(400, HEADER_MISMATCH_CODE, 'Missing Mcp-Name header'),
      enabled: true,
    },
    {
      ref: 'require_json_post',
      description: 'POST bodies to the MCP endpoint are JSON-RPC',
      expression: and(MCP, post, not('any(lower(http.request.headers["content-type"][*])[*] contains "application/json")')),
      ...blockWith(415, -32600, 'Content-Type must be application/json'),
      enabled: true,
    },
    {
      ref: 'allowed_http_methods',
      description: 'The Streamable HTTP endpoint speaks GET, POST, DELETE (and CORS preflight)',
      expression: and(MCP, not(methodIn(['GET', 'POST', 'DELETE', 'OPTIONS']))),
      ...blockWith(405, -32600, 'Method not allowed'),
      enabled: true,
    },
  ];
  if (cfg.adminAllowedCidrs.length > 0) {
    const admin = `/${HTTP.adminPrefix.split('/').filter(Boolean)[0]}`;
    rules.push({
      ref: 'admin_from_allowed_networks',
      description: `${admin} only from ${cfg.adminAllowedCidrs.join(', ')}`,
      // IP lists in the Rules language are unquoted: {192.0.2.0/24 2001:db8::/32}
      expression: and(pathUnder(admin), not(`ip.src in {${cfg.adminAllowedCidrs.join(' ')}}`)),
      action: 'block',
      actionParameters: {
        response: {
          statusCode: 403,
          contentType: 'application/json',
          content: JSON.stringify({ error: { code: 'forbidden', message: 'admin API not reachable from this network' } }),
        },
      },
      enabled: true,
    });
  }
  if (cfg.blockMetricsAtEdge) {
    rules.push({
      ref: 'hide_metrics',
      description: `${HTTP.metricsPath} is scraped inside the cluster, never through the edge`,
      expression: pathUnder(HTTP.metricsPath),
      action: 'block',
      actionParameters: { response: { statusCode: 404, contentType: 'text/plain', content: 'Not found' } },
      enabled: true,
    });
  }
  return rules;
}
