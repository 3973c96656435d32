/**
 * Cache rules (phase `http_request_cache_settings`) as plain data, so tests check them without Pulumi.
 * Everything the MCP service answers dynamically bypasses the cache explicitly (Cloudflare would not cache
 * most of it by default, but a default can change and a cached /mcp or /admin answer would leak data);
 * the content-hashed /assets/* are cached at the edge for a year. The status page HTML and /sw.js are
 * left to the origin's `Cache-Control` (no-cache), which Cloudflare respects.
 */
import type * as cloudflare from '@pulumi/cloudflare';
import { HTTP } from '../../contract/index.js';
import { pathUnder, pathUnderAny } from './expressions.js';

type RulesetRule = cloudflare.types.input.RulesetRule;

/** First path segment of a contract path: `/admin/v1` → `/admin`, `/.well-known/x` → `/.well-known`. */
function topSegment(path: string): string {
  const segment = path.split('/').filter(Boolean)[0];
  if (segment === undefined) throw new Error(`contract path "${path}" has no segment`);
  return `/${segment}`;
}

/** Paths never cached at the edge: MCP endpoint, admin API, metrics, well-known metadata, probes. */
export const EDGE_BYPASS_PATHS: readonly string[] = [
  HTTP.mcpPath,
  topSegment(HTTP.adminPrefix),
  HTTP.metricsPath,
  topSegment(HTTP.protectedResourceMetadataPath),
  HTTP.readinessPath,
  HTTP.livenessPath,
];

/** Prefix of the versioned (content-hashed) static assets. */
export const ASSETS_PATH = '/assets';

export interface CacheRuleOptions {
  /** Edge TTL of /assets/*, seconds. */
  readonly assetsEdgeTtlSeconds: number;
}

/** The cache-settings rules, bypass first; their expressions do not overlap. */
export function cacheRules(opts: CacheRuleOptions): RulesetRule[] {
  return [
    {
      ref: 'bypass_dynamic',
      description: `Never cache ${EDGE_BYPASS_PATHS.join(', ')}`,
      expression: pathUnderAny(EDGE_BYPASS_PATHS),
      action: 'set_cache_settings',
      actionParameters: { cache: false },
      enabled: true,
    },
    {
      ref: 'cache_versioned_assets',
      description: 'Content-hashed assets: cache at the edge for a year, browsers follow the origin (immutable)',
      expression: pathUnder(ASSETS_PATH),
      action: 'set_cache_settings',
      actionParameters: {
        cache: true,
        edgeTtl: { mode: 'override_origin', default: opts.assetsEdgeTtlSeconds },
        browserTtl: { mode: 'respect_origin' },
      },
      enabled: true,
    },
  ];
}
