/**
 * Shapes of an upstream registration: the admin API input (zod, one source of truth for validation),
 * the non-secret options stored in `upstreams.options`, the credentials stored encrypted, and the
 * resolved view the client pool connects with.
 */
import type { AuthProvider } from '@modelcontextprotocol/client';
import { z } from 'zod';

/** `<namespace>__<name>`: namespaces never contain the separator themselves. */
export const NAMESPACE_SEPARATOR = '__';

/**
 * Namespace rule: 1-40 of a-z 0-9 - _, starting with a letter or digit, no `__` (the table enforces these),
 * and not ending in `_` (the API): `ns_` + `__` + `x` would read as namespace `ns`, tool `_x`, so the first
 * `__` of an exposed name always ends its namespace. At most 40 characters leaves 86 of the spec's 128 for
 * the upstream's own tool name (protocol/tool-names.ts).
 */
export const Namespace = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'a namespace: 1-40 lower-case letters, digits, - or _, starting with a letter or digit')
  .refine((s) => !s.includes(NAMESPACE_SEPARATOR), 'a namespace must not contain "__" (it separates namespace and name)')
  .refine((s) => !s.endsWith('_'), 'a namespace must not end with "_" (with the "__" separator it would make names that read as another namespace\'s)');

const ToolName = z.string().min(1).max(128);
const HeaderName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, 'an HTTP header name');
const Forbidden = new Set(['host', 'content-length', 'content-type', 'accept', 'connection', 'mcp-session-id', 'mcp-protocol-version', 'transfer-encoding']);

/** Credentials as the API receives them (stored only encrypted, never returned). */
export const CredentialsInput = z.strictObject({
  headers: z
    .record(HeaderName, z.string().min(1).max(8192))
    .refine(
      (h) => Object.keys(h).every((k) => !Forbidden.has(k.toLowerCase())),
      'headers may not set Host, Content-Type, Accept, Mcp-Session-Id or other protocol headers',
    )
    .optional(),
  bearer: z.string().min(1).max(8192).optional(),
  oauth: z
    .strictObject({
      clientId: z.string().min(1).max(512),
      clientSecret: z.string().min(1).max(8192),
      scope: z.string().max(1024).optional(),
      /** The authorization server's issuer: the client credentials are sent to no other AS. */
      issuer: z
        .url({ protocol: /^https?$/, error: "the authorization server's issuer URL (http or https)" })
        .max(2048)
        .optional(),
    })
    .optional(),
  /**
   * `auth: per-user-oauth`: the gateway's client at the upstream's authorization server. A pre-registered
   * client (id, with a secret for a confidential client, without for a public one), or none: then the
   * gateway's Client ID Metadata Document is its client id, when the AS advertises support for it.
   */
  userOAuth: z
    .strictObject({
      clientId: z.string().min(1).max(512).optional(),
      clientSecret: z.string().min(1).max(8192).optional(),
      scope: z.string().max(1024).optional(),
      /** The only authorization server the users' consent may go to (checked against the discovered one). */
      issuer: z
        .url({ protocol: /^https?$/, error: "the authorization server's issuer URL (http or https)" })
        .max(2048)
        .optional(),
    })
    .refine((o) => o.clientSecret === undefined || o.clientId !== undefined, 'userOAuth.clientSecret needs userOAuth.clientId')
    .optional(),
  /** `auth: token-exchange` (RFC 8693): where and as which client the caller's token is exchanged. */
  tokenExchange: z
    .strictObject({
      tokenEndpoint: z.url({ protocol: /^https?$/, error: 'the token endpoint URL (http or https)' }).max(2048),
      clientId: z.string().min(1).max(512),
      clientSecret: z.string().min(1).max(8192).optional(),
      /** RFC 8693 `audience`; default: none (the `resource`, the upstream's URL, names the target). */
      audience: z.string().min(1).max(2048).optional(),
      scope: z.string().max(1024).optional(),
    })
    .optional(),
});
/** Decrypted credentials. */
export type Credentials = z.infer<typeof CredentialsInput>;

/** Per-upstream timeouts, ms. */
export const Timeouts = z.strictObject({
  connectMs: z.number().int().min(100).max(120_000).default(10_000),
  callMs: z.number().int().min(100).max(3_600_000).default(60_000),
  listMs: z.number().int().min(100).max(120_000).default(10_000),
});

/** Non-secret options (the `options` column). */
export const UpstreamOptions = z.strictObject({
  timeouts: Timeouts.default({ connectMs: 10_000, callMs: 60_000, listMs: 10_000 }),
  allowTools: z.array(ToolName).max(1000).optional(),
  denyTools: z.array(ToolName).max(1000).default([]),
  maxConcurrency: z.number().int().min(1).max(10_000).default(16),
  longRunning: z.array(ToolName).max(1000).default([]),
  /** Protocol generation to speak: detected (`auto`), or forced 2026-07-28 (`modern`) / 2025-era (`legacy`). */
  protocol: z.enum(['auto', 'modern', 'legacy']).default('auto'),
  /** Whose credentials a call carries: the registration's (`shared`), each user's own (`per-user-oauth`), or the caller's token exchanged (`token-exchange`). */
  auth: z.enum(['shared', 'per-user-oauth', 'token-exchange']).default('shared'),
});
/** Parsed options. */
export type UpstreamOptions = z.output<typeof UpstreamOptions>;

const urlField = z.string().min(1).max(2048);
const transport = z.enum(['streamable-http', 'sse']);

/** POST /tenants/:t/upstreams body. */
export const CreateUpstreamBody = z.strictObject({
  name: Namespace,
  url: urlField,
  transport: transport.default('streamable-http'),
  root: z.boolean().default(false),
  credentials: CredentialsInput.optional(),
  timeouts: Timeouts.partial().optional(),
  allowTools: z.array(ToolName).max(1000).optional(),
  denyTools: z.array(ToolName).max(1000).optional(),
  maxConcurrency: z.number().int().min(1).max(10_000).optional(),
  longRunning: z.array(ToolName).max(1000).optional(),
  protocol: z.enum(['auto', 'modern', 'legacy']).optional(),
  /** `per-user-oauth` (each user's own OAuth token) or `token-exchange` (RFC 8693); default `shared`. */
  auth: z.enum(['shared', 'per-user-oauth', 'token-exchange']).optional(),
});
/** Parsed create body. */
export type CreateUpstreamInput = z.output<typeof CreateUpstreamBody>;

/** PATCH /tenants/:t/upstreams/:name body (credentials replace the stored ones; null clears them). */
export const UpdateUpstreamBody = z.strictObject({
  url: urlField.optional(),
  transport: transport.optional(),
  root: z.boolean().optional(),
  credentials: CredentialsInput.nullable().optional(),
  timeouts: Timeouts.partial().optional(),
  allowTools: z.array(ToolName).max(1000).nullable().optional(),
  denyTools: z.array(ToolName).max(1000).optional(),
  maxConcurrency: z.number().int().min(1).max(10_000).optional(),
  longRunning: z.array(ToolName).max(1000).optional(),
  protocol: z.enum(['auto', 'modern', 'legacy']).optional(),
  auth: z.enum(['shared', 'per-user-oauth', 'token-exchange']).optional(),
});
/** Parsed update body. */
export type UpdateUpstreamInput = z.output<typeof UpdateUpstreamBody>;

/** What the pool connects with: the registration plus decrypted credentials. */
export interface ResolvedUpstream {
  readonly id: string;
  readonly tenantId: string;
  readonly namespace: string;
  readonly url: string;
  readonly transport: 'streamable-http' | 'sse';
  readonly root: boolean;
  readonly version: number;
  readonly options: UpstreamOptions;
  readonly credentials: Credentials | undefined;
  /**
   * Set on a per-caller copy of a `per-user-oauth` / `token-exchange` upstream (user-credentials.ts): the
   * caller it is bound to (part of the pool's connection key, so no connection or upstream session is
   * shared between users) and the auth provider that supplies that caller's token.
   */
  readonly binding?: UpstreamBinding;
}

/** One caller's credentials for an upstream. */
export interface UpstreamBinding {
  /** Opaque, stable per (user, upstream): a hash of the subject, never the subject itself. */
  readonly key: string;
  readonly authProvider: AuthProvider;
}

/** Whether calls to the upstream carry each caller's own credentials. */
export function isPerCaller(up: Pick<ResolvedUpstream, 'options'>): boolean {
  return up.options.auth !== 'shared';
}

/** Whether a tool of an upstream is exposed by its allow/deny lists. */
export function toolAllowed(options: Pick<UpstreamOptions, 'allowTools' | 'denyTools'>, name: string): boolean {
  if (options.denyTools.includes(name)) return false;
  return options.allowTools === undefined || options.allowTools.includes(name);
}

/** Authentication kind implied by credentials (strongest wins). */
export function authKindOf(
  c: Credentials | undefined,
  auth: UpstreamOptions['auth'] = 'shared',
): 'none' | 'header' | 'bearer' | 'oauth-client-credentials' | 'per-user-oauth' | 'token-exchange' {
  if (auth !== 'shared') return auth;
  if (!c) return 'none';
  if (c.oauth) return 'oauth-client-credentials';
  if (c.bearer) return 'bearer';
  return c.headers && Object.keys(c.headers).length ? 'header' : 'none';
}

/** Non-secret description of credentials: header names and OAuth client id, never values. */
export function credentialSummary(c: Credentials | undefined): Record<string, unknown> {
  if (!c) return {};
  return {
    ...(c.headers && { headerNames: Object.keys(c.headers) }),
    ...(c.bearer && { bearer: true }),
    ...(c.oauth && {
      oauthClientId: c.oauth.clientId,
      ...(c.oauth.scope && { oauthScope: c.oauth.scope }),
      ...(c.oauth.issuer && { oauthIssuer: c.oauth.issuer }),
    }),
    ...(c.userOAuth && {
      userOAuthClient: c.userOAuth.clientId ?? 'client-id-metadata-document',
      ...(c.userOAuth.clientSecret && { userOAuthConfidential: true }),
      ...(c.userOAuth.scope && { userOAuthScope: c.userOAuth.scope }),
      ...(c.userOAuth.issuer && { userOAuthIssuer: c.userOAuth.issuer }),
    }),
    ...(c.tokenExchange && {
      tokenExchangeEndpoint: c.tokenExchange.tokenEndpoint,
      tokenExchangeClientId: c.tokenExchange.clientId,
      ...(c.tokenExchange.audience && { tokenExchangeAudience: c.tokenExchange.audience }),
    }),
  };
}
