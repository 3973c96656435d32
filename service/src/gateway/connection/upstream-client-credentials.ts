/**
 * OAuth client credentials of one upstream: the SDK's ClientCredentialsProvider with the corrections an
 * operator's configured credentials need (see {@link UpstreamClientCredentials}).
 */
import { ClientCredentialsProvider, type AddClientAuthentication } from '@modelcontextprotocol/client';
import type { Credentials } from '../upstream-config.js';

/** An authorization server that offers no client authentication method the gateway can use. */
export class NoClientAuthMethod extends Error {
  constructor(supported: readonly string[]) {
    super(`the authorization server accepts neither client_secret_basic nor client_secret_post (it lists ${supported.join(', ')})`);
    this.name = 'NoClientAuthMethod';
  }
}

/** RFC 6749 Appendix B: application/x-www-form-urlencoded encoding of one value. */
const formEncode = (value: string) => new URLSearchParams([['v', value]]).toString().slice(2);

/**
 * OAuth client credentials of one upstream: the SDK's ClientCredentialsProvider (discovery from the 401's
 * `WWW-Authenticate`, RFC 9728 resource metadata, RFC 8414 AS metadata, `client_credentials` token
 * request with the RFC 8707 `resource`, token cached for the connection, a new one on the next 401) with
 * two corrections for credentials an operator configured:
 * - the configured `scope` is what is requested. The SDK asks for the 401 challenge's scope, else every
 *   `scopes_supported` of the resource metadata, and falls back to the configured scope only when both
 *   are absent; a client allowed fewer scopes than the resource lists then got `invalid_scope`.
 * - client authentication per RFC 6749 §2.3.1. The SDK puts id and secret into the Basic header without
 *   the required form-urlencoding, so a secret with `+`, `/`, `%`, `:` ... (common in generated secrets)
 *   fails at authorization servers that decode it (Spring Authorization Server, Keycloak). Here: Basic
 *   with encoded values, except that a secret whose encoding changes it goes in the body
 *   (client_secret_post) when the AS offers that, since lenient servers do not decode Basic credentials.
 */
export class UpstreamClientCredentials extends ClientCredentialsProvider {
  private readonly configuredScope: string | undefined;
  readonly addClientAuthentication: AddClientAuthentication;

  constructor(oauth: NonNullable<Credentials['oauth']>) {
    // `expectedIssuer` (when configured): the SDK presents the credentials to that AS only (SEP-2352).
    // Without it the upstream's resource metadata decides, and the SDK warns about that (console) on
    // every connection.
    super({
      clientId: oauth.clientId,
      clientSecret: oauth.clientSecret,
      clientName: 'unified-mcp-gateway',
      ...(oauth.scope && { scope: oauth.scope }),
      ...(oauth.issuer && { expectedIssuer: oauth.issuer }),
    });
    this.configuredScope = oauth.scope;
    this.addClientAuthentication = (headers, params, _url, metadata) => {
      // RFC 8414 §2: client_secret_basic when the AS metadata lists no methods.
      const supported = metadata?.token_endpoint_auth_methods_supported?.length ? metadata.token_endpoint_auth_methods_supported : ['client_secret_basic'];
      const id = formEncode(oauth.clientId);
      const secret = formEncode(oauth.clientSecret);
      const changedByEncoding = id !== oauth.clientId || secret !== oauth.clientSecret;
      if (supported.includes('client_secret_basic') && !(changedByEncoding && supported.includes('client_secret_post'))) {
        headers.set('Authorization', `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`);
      } else if (supported.includes('client_secret_post')) {
        params.set('client_id', oauth.clientId);
        params.set('client_secret', oauth.clientSecret);
      } else {
        throw new NoClientAuthMethod(supported);
      }
    };
  }

  override prepareTokenRequest(scope?: string): URLSearchParams {
    return super.prepareTokenRequest(this.configuredScope ?? scope);
  }
}
