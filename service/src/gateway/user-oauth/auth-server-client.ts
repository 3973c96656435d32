/**
 * The gateway as an OAuth client of a per-user upstream's authorization server: RFC 9728 / RFC 8414 (and
 * OpenID) discovery from the upstream, the client identity (a pre-registered client, or the gateway's
 * Client ID Metadata Document when the AS advertises support), and the SSRF-guarded fetch every request
 * to the AS goes through. Only the SDK's public OAuth helpers are used.
 */
import {
  discoverAuthorizationServerMetadata,
  discoverOAuthServerInfo,
  type AuthorizationServerMetadata,
  type FetchLike,
  type OAuthClientInformationMixed,
} from '@modelcontextprotocol/client';
import type { SsrfGuard } from '../ssrf-guard.js';
import { UpstreamAgents } from '../connection/upstream-agents.js';
import type { ResolvedUpstream } from '../upstream-config.js';

/** Path of the gateway's Client ID Metadata Document (its URL is the client id). */
export const CLIENT_METADATA_PATH = '/oauth/client-metadata.json';
/** Path of the consent callback (the redirect URI registered at authorization servers). */
export const CONSENT_CALLBACK_PATH = '/oauth/upstreams/callback';

/** A consent or token request that cannot proceed, with the reason shown to the user and the caller. */
export class ConsentError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'ConsentError';
  }
}

/** What discovery found for one upstream. */
export interface AuthServerInfo {
  /** The authorization server (issuer) URL. */
  readonly asUrl: string;
  readonly metadata: AuthorizationServerMetadata;
  /** RFC 8707 resource: the upstream's protected-resource identifier. */
  readonly resource: string;
}

const DISCOVERY_TTL_MS = 600_000;

/** Discovery (cached per process for 10 minutes) and client identity for per-user upstreams. */
export class AuthServerClient {
  readonly fetch: FetchLike;
  private readonly agents: UpstreamAgents;
  private readonly discovered = new Map<string, { at: number; info: AuthServerInfo }>();
  private readonly byIssuer = new Map<string, { at: number; metadata: AuthorizationServerMetadata }>();

  constructor(guard: SsrfGuard) {
    this.agents = new UpstreamAgents(guard, 30_000);
    // No "own" origin: every host (upstream metadata, AS) is checked by the SSRF guard and pinned.
    this.fetch = this.agents.fetchFor('', {});
  }

  /** The upstream's authorization server, from its protected-resource metadata (RFC 9728), then RFC 8414 / OIDC. */
  async discover(up: ResolvedUpstream): Promise<AuthServerInfo> {
    const key = `${up.id}@${up.version}`;
    const hit = this.discovered.get(key);
    if (hit && Date.now() - hit.at < DISCOVERY_TTL_MS) return hit.info;
    let found;
    try {
      found = await discoverOAuthServerInfo(up.url, { fetchFn: this.fetch });
    } catch (err) {
      throw new ConsentError(
        'discovery_failed',
        `the upstream's authorization server could not be discovered: ${err instanceof Error ? err.message : String(err)}`,
        502,
      );
    }
    if (!found.authorizationServerMetadata)
      throw new ConsentError('discovery_failed', `no authorization server metadata at ${found.authorizationServerUrl} (RFC 8414 / OpenID discovery)`, 502);
    const wanted = up.credentials?.userOAuth?.issuer;
    if (wanted && stripSlash(found.authorizationServerMetadata.issuer) !== stripSlash(wanted))
      throw new ConsentError(
        'issuer_mismatch',
        `the upstream names authorization server ${found.authorizationServerMetadata.issuer}, not the configured issuer ${wanted}`,
        502,
      );
    const info = {
      asUrl: found.authorizationServerUrl,
      metadata: found.authorizationServerMetadata,
      resource: String(found.resourceMetadata?.resource ?? up.url),
    };
    this.discovered.set(key, { at: Date.now(), info });
    return info;
  }

  /** The AS metadata of `asUrl` (a stored token's AS, for refresh and revocation). */
  async metadata(asUrl: string): Promise<AuthorizationServerMetadata> {
    const hit = this.byIssuer.get(asUrl);
    if (hit && Date.now() - hit.at < DISCOVERY_TTL_MS) return hit.metadata;
    const metadata = await discoverAuthorizationServerMetadata(asUrl, { fetchFn: this.fetch });
    if (!metadata) throw new ConsentError('discovery_failed', `no authorization server metadata at ${asUrl}`, 502);
    this.byIssuer.set(asUrl, { at: Date.now(), metadata });
    return metadata;
  }

  /**
   * The gateway's client at this AS: the configured client (confidential with a secret, else public), or
   * the Client ID Metadata Document URL when none is configured and the AS supports it.
   */
  clientInformation(up: ResolvedUpstream, metadata: AuthorizationServerMetadata, baseUrl: string): OAuthClientInformationMixed {
    const conf = up.credentials?.userOAuth;
    if (conf?.clientId) return { client_id: conf.clientId, ...(conf.clientSecret && { client_secret: conf.clientSecret }) };
    if ((metadata as Record<string, unknown>)['client_id_metadata_document_supported'] === true) return { client_id: `${baseUrl}${CLIENT_METADATA_PATH}` };
    throw new ConsentError(
      'no_client',
      `upstream "${up.namespace}" has no pre-registered OAuth client (credentials.userOAuth.clientId) and its authorization server does not advertise Client ID Metadata Documents`,
      502,
    );
  }

  async close(): Promise<void> {
    await this.agents.close();
  }
}

/** The gateway's Client ID Metadata Document (draft-ietf-oauth-client-id-metadata-document). */
export function clientMetadataDocument(baseUrl: string): Record<string, unknown> {
  return {
    client_id: `${baseUrl}${CLIENT_METADATA_PATH}`,
    client_name: 'Unified MCP Platform gateway',
    client_uri: baseUrl,
    redirect_uris: [`${baseUrl}${CONSENT_CALLBACK_PATH}`],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
}

const stripSlash = (s: string) => s.replace(/\/+$/, '');
