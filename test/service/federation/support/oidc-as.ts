/**
 * A real OAuth 2.1 / OpenID authorization server for the per-user upstream tests: oidc-provider (a
 * certified implementation) on loopback with its development login and consent forms, authorization code
 * + PKCE, refresh tokens (rotating), RFC 8707 resource indicators issuing ES256 JWT access tokens whose
 * audience is the resource, and token revocation. Every request to the token and revocation endpoints is
 * counted by grant type.
 *
 * Plus `Browser`: the user's browser as plain HTTP requests (cookie jar per origin, manual redirects, the
 * forms posted as a browser would), stopping at the gateway's consent callback so a test can send it to
 * whichever replica it wants.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import Provider from 'oidc-provider';

/** A running authorization server. */
export interface OidcAs {
  readonly issuer: string;
  readonly jwksUri: string;
  /** Token endpoint requests by grant type, and revocation requests. */
  readonly counts: { authorization_code: number; refresh_token: number; revocation: number; token_exchange: number };
  /** Every access and refresh token the token endpoint issued. */
  readonly issued: readonly string[];
  /** Lifetime of access tokens issued from now on, seconds. */
  ttlSeconds: number;
  close(): Promise<void>;
}

/** Options of startOidcAs. */
export interface OidcAsOptions {
  /** Registered clients (redirect URIs: the gateways' consent callbacks). */
  readonly clients: { client_id: string; client_secret?: string; redirect_uris: string[]; token_exchange?: boolean }[];
  /** @defaultValue 300 */
  readonly ttlSeconds?: number;
  /** Claims added to every access token (e.g. the gateway's tenant claim). */
  readonly extraClaims?: Record<string, unknown>;
  /**
   * RFC 8693 token exchange at the token endpoint (a grant registered with oidc-provider's public
   * registerGrantType): a subject token this AS issued for `subjectAudience` becomes an access token for
   * the requested `resource`, signed with the same key, `sub` kept, `act` naming the exchanging client.
   */
  readonly tokenExchange?: { readonly subjectAudience: string };
}

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** Starts the authorization server. */
export async function startOidcAs(opts: OidcAsOptions): Promise<OidcAs> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'test-es256', alg: 'ES256', use: 'sig' };
  const http: Server = createServer();
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const state = { ttlSeconds: opts.ttlSeconds ?? 300 };
  const provider = new Provider(issuer, {
    clients: opts.clients
      .map((c) => ({
        ...c,
        grant_types: ['authorization_code', 'refresh_token', ...(c.token_exchange ? [TOKEN_EXCHANGE] : [])],
        response_types: ['code'],
        token_endpoint_auth_method: c.client_secret ? 'client_secret_basic' : 'none',
        // The only signing key is ES256.
        id_token_signed_response_alg: 'ES256',
      }))
      .map(({ token_exchange: _te, ...c }) => c),
    jwks: { keys: [jwk as never] },
    scopes: ['openid', 'offline_access', 'mcp:tools'],
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined as unknown as string,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'mcp:tools',
          accessTokenFormat: 'jwt',
          accessTokenTTL: state.ttlSeconds,
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
    // Every authorization-code grant of a client allowed refresh_token gets a refresh token.
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(g: string): boolean }) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    ...(opts.extraClaims && { extraTokenClaims: async () => opts.extraClaims }),
    pkce: { required: () => true },
  });
  provider.proxy = false;
  const counts = { authorization_code: 0, refresh_token: 0, revocation: 0, token_exchange: 0 };
  if (opts.tokenExchange) {
    const subjectAudience = opts.tokenExchange.subjectAudience;
    const handler = async (ctx: { oidc: { params: Record<string, string | undefined>; client: { clientId: string } }; status: number; body: unknown }) => {
      const { subject_token: subjectToken, subject_token_type: type, resource } = ctx.oidc.params;
      const refuse = (description: string) => {
        ctx.status = 400;
        ctx.body = { error: 'invalid_grant', error_description: description };
      };
      if (type !== 'urn:ietf:params:oauth:token-type:access_token' || !subjectToken || !resource)
        return refuse('subject_token (access_token) and resource required');
      let sub: string;
      try {
        const { payload } = await jwtVerify(subjectToken, publicKey, { issuer, audience: subjectAudience, algorithms: ['ES256'] });
        sub = String(payload.sub);
      } catch (err) {
        return refuse(`subject_token refused: ${err instanceof Error ? err.message : String(err)}`);
      }
      counts.token_exchange++;
      const client = ctx.oidc.client.clientId;
      const token = await new SignJWT({ client_id: client, scope: 'mcp:tools', act: { sub: client } })
        .setProtectedHeader({ alg: 'ES256', kid: 'test-es256', typ: 'at+jwt' })
        .setIssuer(issuer)
        .setSubject(sub)
        .setAudience(resource)
        .setIssuedAt()
        .setExpirationTime(`${state.ttlSeconds}s`)
        .sign(privateKey);
      ctx.body = {
        access_token: token,
        issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        token_type: 'Bearer',
        expires_in: state.ttlSeconds,
      };
    };
    provider.registerGrantType(TOKEN_EXCHANGE, handler, ['subject_token', 'subject_token_type', 'requested_token_type', 'resource', 'audience', 'scope']);
  }
  const callback = provider.callback();
  provider.on('grant.success', (ctx: { oidc: { params?: { grant_type?: unknown } } }) => {
    const grant = ctx.oidc.params?.grant_type;
    if (grant === 'authorization_code' || grant === 'refresh_token') counts[grant]++;
  });
  const issued: string[] = [];
  http.on('request', (req, res) => {
    if (req.method === 'POST' && req.url === '/token/revocation') counts.revocation++;
    if (req.method === 'POST' && req.url === '/token') {
      // Every access and refresh token issued (the leak checks look for each).
      const end = res.end.bind(res) as (...args: unknown[]) => typeof res;
      res.end = ((...args: unknown[]) => {
        try {
          const body = JSON.parse(String(args[0] ?? '')) as { access_token?: string; refresh_token?: string };
          for (const t of [body.access_token, body.refresh_token]) if (t) issued.push(t);
        } catch {
          // not JSON: nothing issued
        }
        return end(...args);
      }) as typeof res.end;
    }
    callback(req, res);
  });
  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    counts,
    issued,
    get ttlSeconds() {
      return state.ttlSeconds;
    },
    set ttlSeconds(v: number) {
      state.ttlSeconds = v;
    },
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

/** One step the browser took (for assertions on what it saw). */
export interface BrowserStep {
  readonly url: string;
  readonly status: number;
}

/** The user's browser: cookies per origin, manual redirects, forms. */
export class Browser {
  private readonly jar = new Map<string, Map<string, string>>();
  readonly steps: BrowserStep[] = [];

  /** GET `url` and follow redirects until a page (or a URL `stopAt` accepts); returns the last response. */
  async open(url: string, stopAt?: (url: URL) => boolean): Promise<{ url: string; status: number; text: string; headers: Headers }> {
    return this.go(url, { method: 'GET' }, stopAt);
  }

  /** Logs in with the development login form and allows the consent; returns the gateway callback URL reached. */
  async signInAndConsent(startUrl: string, login: string, isCallback: (url: URL) => boolean, decision: 'allow' | 'deny' = 'allow'): Promise<string> {
    let page = await this.open(startUrl, isCallback);
    for (let i = 0; i < 4 && !isCallback(new URL(page.url)); i++) {
      const form = /<form[^>]*action="([^"]+)"[^>]*method="post"/.exec(page.text);
      if (!form) throw new Error(`no form at ${page.url} (HTTP ${page.status}): ${page.text.slice(0, 300)}`);
      const prompt = /name="prompt" value="([^"]+)"/.exec(page.text)?.[1];
      if (prompt === 'consent' && decision === 'deny') {
        const abort = /href="([^"]*\/abort)"/.exec(page.text)?.[1];
        if (!abort) throw new Error('no abort link on the consent page');
        page = await this.open(new URL(abort.replace(/&amp;/g, '&'), page.url).href, isCallback);
        continue;
      }
      const body = new URLSearchParams({ prompt: prompt ?? 'login', ...(prompt === 'login' && { login, password: 'any' }) });
      page = await this.go(
        new URL(form[1]!.replace(/&amp;/g, '&'), page.url).href,
        { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
        isCallback,
      );
    }
    if (!isCallback(new URL(page.url))) throw new Error(`the flow did not reach the callback: ${page.url}`);
    return page.url;
  }

  private async go(
    url: string,
    init: { method: string; body?: URLSearchParams; headers?: Record<string, string> },
    stopAt?: (url: URL) => boolean,
  ): Promise<{ url: string; status: number; text: string; headers: Headers }> {
    let current = new URL(url);
    let request = init;
    for (let hops = 0; hops < 20; hops++) {
      if (stopAt?.(current) && hops > 0) return { url: current.href, status: 0, text: '', headers: new Headers() };
      const cookies = this.jar.get(current.origin);
      const res = await fetch(current, {
        method: request.method,
        redirect: 'manual',
        headers: { ...request.headers, ...(cookies?.size && { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') }) },
        ...(request.body && { body: request.body }),
      });
      this.steps.push({ url: current.href, status: res.status });
      for (const line of res.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const eq = pair!.indexOf('=');
        const jar = this.jar.get(current.origin) ?? new Map<string, string>();
        jar.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
        this.jar.set(current.origin, jar);
      }
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.body?.cancel();
        current = new URL(location, current);
        request = { method: 'GET' };
        continue;
      }
      return { url: current.href, status: res.status, text: await res.text(), headers: res.headers };
    }
    throw new Error('too many redirects');
  }
}
