/**
 * Configuration of the MCP layer (both protocol legs), keyed by environment variable name. Engineer A's
 * service/src/config.ts merges it into the one service config with `.extend(McpConfigSchema.shape)`, so
 * every key here is parsed once at startup with the rest. The HTTP body limit is the HTTP layer's
 * `MAX_BODY_BYTES`; the MCP layer only adds what is specific to MCP.
 */
import { z } from 'zod';

const intFromEnv = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

/** One request-state signing key: `kid:base64secret`, the secret at least 32 bytes once decoded. */
export interface RequestStateKey {
  readonly kid: string;
  readonly secret: Uint8Array;
}

/**
 * Parses `kid:base64secret,kid2:base64secret2`. The first key signs, every key verifies, so rotation is:
 * add the new key second, deploy, move it first, deploy, drop the old one.
 */
export const RequestStateKeysSchema = z
  .string()
  .trim()
  .min(1, 'REQUEST_STATE_KEYS must list at least one `kid:base64secret` entry')
  .transform((raw, ctx): RequestStateKey[] => {
    const keys: RequestStateKey[] = [];
    const seen = new Set<string>();
    for (const [index, part] of raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .entries()) {
      const colon = part.indexOf(':');
      const kid = colon > 0 ? part.slice(0, colon) : '';
      if (!/^[A-Za-z0-9._-]{1,64}$/.test(kid)) {
        ctx.addIssue({ code: 'custom', message: `entry ${index + 1}: expected \`kid:base64secret\` with kid of [A-Za-z0-9._-]` });
        continue;
      }
      if (seen.has(kid)) {
        ctx.addIssue({ code: 'custom', message: `entry ${index + 1}: duplicate key id "${kid}"` });
        continue;
      }
      seen.add(kid);
      const secret = Uint8Array.from(Buffer.from(part.slice(colon + 1), 'base64'));
      if (secret.byteLength < 32) {
        ctx.addIssue({ code: 'custom', message: `key "${kid}": secret must decode to at least 32 bytes (got ${secret.byteLength})` });
        continue;
      }
      keys.push({ kid, secret });
    }
    if (keys.length === 0 && !ctx.issues?.length) ctx.addIssue({ code: 'custom', message: 'no keys given' });
    return keys;
  });

/** The MCP layer's environment keys with defaults; see the README configuration table. */
export const McpConfigSchema = z.object({
  REQUEST_STATE_KEYS: RequestStateKeysSchema.describe(
    'Keys sealing Multi Round-Trip request state, `kid:base64secret,...` (secret >= 32 bytes); the first signs, all verify. ' +
      'Every replica must share them. Required; the local platform generates and persists one.',
  ),
  REQUEST_STATE_TTL_SECONDS: intFromEnv(600, 10, 86_400).describe('How long an input_required request state stays valid, in seconds.'),
  SESSION_TTL_SECONDS: intFromEnv(3600, 60, 7 * 86_400).describe('Sliding idle TTL of a 2025-era session in Redis, in seconds.'),
  EVENT_LOG_MAX_EVENTS: intFromEnv(1000, 10, 1_000_000).describe('Maximum events kept per SSE stream in the Redis event log (older ones are trimmed).'),
  EVENT_LOG_TTL_SECONDS: intFromEnv(900, 10, 86_400).describe("How long an SSE stream's event log is kept after its last event, in seconds."),
  CALL_LEASE_MS: intFromEnv(5000, 500, 600_000).describe(
    'Lease a replica holds (and renews) on a running 2025-era request; when it lapses, resuming clients get an error.',
  ),
  MAX_SUBSCRIPTIONS: intFromEnv(100, 1, 10_000).describe(
    'Open subscriptions/listen streams per tenant on one replica (2026-07-28; more are refused with -32603), and resource subscriptions per 2025-era session. A listen stream also counts against SSE_STREAMS_PER_TENANT (refused with 429): the lower of the two refuses first.',
  ),
  SSE_KEEPALIVE_MS: intFromEnv(15_000, 1000, 300_000).describe('Interval of SSE keep-alive comments on open streams, in milliseconds.'),
  LIST_CACHE_TTL_MS: intFromEnv(60_000, 0, 86_400_000).describe('ttlMs cache hint on tools/resources/prompts list results (0 = do not cache).'),
  MCP_MAX_BODY_BYTES: intFromEnv(4 * 1024 * 1024, 1024, 100 * 1024 * 1024).describe(
    'Largest JSON-RPC request body the MCP endpoint accepts, in bytes (413 above it). The HTTP layer may apply a lower MAX_BODY_BYTES first.',
  ),
  SSE_RETRY_MS: intFromEnv(1000, 100, 60_000).describe('SSE `retry:` hint sent when a stream is closed (drain), in milliseconds.'),
});

/** Parsed MCP configuration (defaults applied). */
export type McpConfig = z.output<typeof McpConfigSchema>;
