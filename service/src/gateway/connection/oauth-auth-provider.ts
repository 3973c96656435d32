/**
 * The transports' auth seam for OAuth client credentials: one token renewal for many concurrent 401s.
 */
import { UnauthorizedError, auth, extractWWWAuthenticateParams, type AuthProvider } from '@modelcontextprotocol/client';
import type { UpstreamClientCredentials } from './upstream-client-credentials.js';

/**
 * The transports' auth seam for OAuth client credentials. The SDK's own adapter (what passing the
 * provider itself gives) runs discovery and a token request for every request that got a 401, so N
 * calls in flight when the token expires cost N token requests (measured: 8 concurrent calls, 8 token
 * requests). Here a 401 of a request sent with an older token than the current one just retries with
 * the current token, and concurrent 401s share one renewal (`auth()`, the same flow the SDK adapter runs).
 *
 * `sentAuthorization` holds the Authorization header each upstream response's request carried (which
 * token a 401 refused); the connection's fetch records it.
 */
export function oauthAuthProvider(provider: UpstreamClientCredentials, sentAuthorization: WeakMap<Response, string | null>): AuthProvider {
  let renewal: Promise<void> | undefined;
  return {
    token: async () => provider.tokens()?.access_token,
    onUnauthorized: async (ctx) => {
      const current = provider.tokens()?.access_token;
      const sent = sentAuthorization.get(ctx.response); // null: sent without; undefined: unknown
      if (current !== undefined && sent !== undefined && sent !== `Bearer ${current}`) return;
      renewal ??= (async () => {
        const { resourceMetadataUrl, scope } = extractWWWAuthenticateParams(ctx.response);
        const result = await auth(provider, { serverUrl: ctx.serverUrl, resourceMetadataUrl, scope, fetchFn: ctx.fetchFn });
        if (result !== 'AUTHORIZED') throw new UnauthorizedError(`authorization ended with ${result}`);
      })().finally(() => (renewal = undefined));
      return renewal;
    },
  };
}
