/**
 * The demo's identity provider: a stand-in for Okta, Microsoft Entra ID,
 * Auth0 or Keycloak, just enough of one to show an OpenID Connect
 * Back-Channel Logout offline. Its signing key is made at start-up (ES256,
 * with jose) and lives only in this process.
 *
 * Routes:
 * - `GET  /idp/.well-known/openid-configuration`  its discovery document (issuer, `jwks_uri`, back-channel support)
 * - `GET  /idp/jwks.json`                         its public key, as a JWK Set
 * - `POST /idp/sign-out`                          the page's "Sign out at the identity provider", from the site's own
 *   pages only (the proxy's `isSameOrigin`): signs a `logout_token` for the signed-in person and POSTs it,
 *   `application/x-www-form-urlencoded`, server to server, to the site's back-channel logout URI, as a provider
 *   would; answers the page with the token's header and claims (never the token) and what the endpoint answered
 * - `POST /auth/backchannel-logout`               the site's back-channel logout URI: `createBackChannelLogout`,
 *   which checks the token against the JWKS above and ends the user's widget sessions on every device
 *
 * The demo's sign-in is a signed cookie the server cannot end, so the person
 * stays signed in to the demo site; a real site also ends its own session for
 * that `sub` (or `sid`) in the back-channel logout route.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type JSONWebKeySet, type JWTPayload } from 'jose';
import type { BackChannelLogoutHandler, ProxyLogger, WidgetSessionProxy } from '../../src/proxy/index.js';
import {
  BACK_CHANNEL_LOGOUT_EVENT,
  createBackChannelLogout,
  toFetchRequest,
  toNodeListener,
} from '../../src/proxy/index.js';
import { discardBody, sendJson, splitUrl } from '../http.js';
import type { SiteAuth } from './auth.js';

export const IDP_PATH = '/idp';
export const JWKS_PATH = `${IDP_PATH}/jwks.json`;
export const DISCOVERY_PATH = `${IDP_PATH}/.well-known/openid-configuration`;
export const IDP_SIGN_OUT_PATH = `${IDP_PATH}/sign-out`;
/** Where the site receives logout tokens: what a site registers at its provider as the back-channel logout URI. */
export const BACK_CHANNEL_LOGOUT_PATH = '/auth/backchannel-logout';
/** The site's client id at the demo provider: the tokens' `aud`. */
export const DEMO_CLIENT_ID = 'konpro-demo-site';

const ALG = 'ES256';
/** How long a logout token is valid (the spec recommends at most two minutes). */
const TOKEN_LIFETIME_S = 120;

/** The header and claims of a logout token, for the page (the signed token itself never leaves the server). */
export interface SignedLogoutToken {
  token: string;
  header: { alg: string; kid: string; typ: string };
  claims: JWTPayload;
}

export interface DemoIdentityProviderOptions {
  /** Where this server reaches itself (`http://127.0.0.1:8000`): the provider's base and the site's. */
  loopback: string;
  /** The site's proxy, whose sessions a valid logout token ends. */
  proxy: WidgetSessionProxy;
  auth: SiteAuth;
  log?: ProxyLogger;
  /** `fetch` for the provider's call to the site (tests may watch it). Default `globalThis.fetch`. */
  fetch?: typeof globalThis.fetch;
}

export class DemoIdentityProvider {
  /** The provider's issuer identifier: every token's `iss`. */
  readonly issuer: string;
  /** Its JWK Set as published at {@link JWKS_PATH}. */
  readonly jwks: JSONWebKeySet;
  /** The site's back-channel logout endpoint, configured for this provider. */
  readonly backChannelLogout: BackChannelLogoutHandler;
  readonly #privateKey: CryptoKey;
  readonly #kid: string;
  readonly #options: DemoIdentityProviderOptions;
  readonly #endpointListener: ReturnType<typeof toNodeListener>;

  /** A provider with a fresh signing key. */
  static async create(options: DemoIdentityProviderOptions): Promise<DemoIdentityProvider> {
    const { privateKey, publicKey } = await generateKeyPair(ALG);
    const kid = `demo-${randomUUID().slice(0, 8)}`;
    const jwk = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' };
    return new DemoIdentityProvider(options, privateKey, kid, { keys: [jwk] });
  }

  private constructor(options: DemoIdentityProviderOptions, privateKey: CryptoKey, kid: string, jwks: JSONWebKeySet) {
    this.#options = options;
    this.#privateKey = privateKey;
    this.#kid = kid;
    this.jwks = jwks;
    // An http: issuer and key set URL are accepted on this machine only; bound elsewhere, the key set is given as is.
    const local = isLoopbackOrigin(options.loopback);
    this.issuer = `${local ? options.loopback : 'http://localhost'}${IDP_PATH}`;
    this.backChannelLogout = createBackChannelLogout({
      issuer: this.issuer,
      audience: DEMO_CLIENT_ID,
      // As a site configures a real provider: its jwks_uri, fetched and cached (refetched for an unknown kid).
      jwks: local ? `${options.loopback}${JWKS_PATH}` : jwks,
      // The demo provider's subject is the person's name; the site's user id is `person:<name>` (see auth.ts).
      userId: (claims) => (claims.sub === undefined ? null : `person:${claims.sub}`),
      proxy: options.proxy,
      ...(options.log ? { log: options.log } : {}),
    });
    this.#endpointListener = toNodeListener(this.backChannelLogout);
  }

  /** A logout token for `subject`, signed as a provider signs one (`claims` adds or replaces claims). */
  async signLogoutToken(subject: string, claims: JWTPayload = {}): Promise<SignedLogoutToken> {
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: ALG, kid: this.#kid, typ: 'logout+jwt' };
    const payload: JWTPayload = {
      iss: this.issuer,
      aud: DEMO_CLIENT_ID,
      iat: now,
      exp: now + TOKEN_LIFETIME_S,
      jti: randomUUID(),
      sub: subject,
      events: { [BACK_CHANNEL_LOGOUT_EVENT]: {} },
      ...claims,
    };
    const token = await new SignJWT(payload).setProtectedHeader(header).sign(this.#privateKey);
    return { token, header, claims: payload };
  }

  /** Answers the provider's routes and the back-channel logout URI and resolves `true`; `false` for other paths. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const { path } = splitUrl(req.url);
    const read = req.method === 'GET' || req.method === 'HEAD';
    if (path === BACK_CHANNEL_LOGOUT_PATH) {
      this.#endpointListener(req, res);
      return true;
    }
    if (path === JWKS_PATH && read) {
      sendJson(res, 200, this.jwks, { 'Content-Type': 'application/jwk-set+json' });
      return true;
    }
    if (path === DISCOVERY_PATH && read) {
      sendJson(res, 200, this.#discovery());
      return true;
    }
    if (path === IDP_SIGN_OUT_PATH) {
      await this.#signOut(req, res);
      return true;
    }
    return false;
  }

  #discovery(): Record<string, unknown> {
    const { loopback } = this.#options;
    return {
      issuer: this.issuer,
      jwks_uri: `${loopback}${JWKS_PATH}`,
      id_token_signing_alg_values_supported: [ALG],
      backchannel_logout_supported: true,
      // The demo's tokens name the person (sub), not a provider session.
      backchannel_logout_session_supported: false,
    };
  }

  /** "Sign out at the identity provider": the provider ends the person's session and tells the site. */
  async #signOut(req: IncomingMessage, res: ServerResponse): Promise<void> {
    await discardBody(req);
    if (req.method !== 'POST') {
      sendJson(res, 405, { error: 'method_not_allowed', error_description: 'Use POST' }, { Allow: 'POST' });
      return;
    }
    const { auth, proxy } = this.#options;
    // A page of another site must not sign anyone out: the proxy's own origin check.
    if (!proxy.isSameOrigin(toFetchRequest(req))) {
      sendJson(res, 403, { error: 'forbidden', error_description: 'Cross-site requests are refused' });
      return;
    }
    const user = await auth.userOf(req.headers.cookie);
    if (user?.kind !== 'person') {
      sendJson(res, 401, { error: 'not_signed_in', error_description: 'Sign in first' });
      return;
    }
    const { token, header, claims } = await this.signLogoutToken(user.name);
    let delivered: BackChannelAnswer;
    try {
      delivered = await this.#deliver(token);
    } catch (error) {
      sendJson(res, 502, {
        error: 'back_channel_unreachable',
        error_description: `The back-channel logout URI did not answer: ${error instanceof Error ? error.message : String(error)}`,
      });
      return;
    }
    sendJson(res, delivered.status === 200 ? 200 : 502, {
      logout_token: { header, claims },
      back_channel_logout: { url: BACK_CHANNEL_LOGOUT_PATH, ...delivered },
    });
  }

  /** What the provider does next: POST the token to the site's back-channel logout URI, server to server. */
  async #deliver(token: string): Promise<BackChannelAnswer> {
    const fetchImpl = this.#options.fetch ?? globalThis.fetch;
    const response = await fetchImpl(`${this.#options.loopback}${BACK_CHANNEL_LOGOUT_PATH}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: token }).toString(),
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    return {
      status: response.status,
      cache_control: response.headers.get('cache-control'),
      // 200 has no body; a 400 has {error, error_description}.
      body: text === '' ? null : (JSON.parse(text) as unknown),
    };
  }
}

/** What the site's back-channel logout endpoint answered the provider. */
interface BackChannelAnswer {
  status: number;
  cache_control: string | null;
  body: unknown;
}

function isLoopbackOrigin(origin: string): boolean {
  const { hostname } = new URL(origin);
  return /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/.test(hostname);
}
